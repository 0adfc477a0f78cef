"""Loading a calendar: exactly the rows one availability question needs, as tuples.

Three statements whatever the window or team size: the asked practitioners' shifts with the
service's rooms, their time off, then their appointments. Each is hand-written SQL whose text
depends only on the database vendor and the *number* of practitioners and rooms asked about,
built once and kept, so the driver reuses its prepared statement (SQLite's statement cache)
and no ORM query is compiled per call. Datetimes come back as epoch seconds computed by the
database and times of day as seconds since midnight: converting thousands of timestamps in
Python was the largest cost of a month's search. Appointments have a statement of their own
with just the four columns read: sharing one with time off gave each row its seven, and those
unread cells were 4% of a ten-practitioner month on SQLite (callgrind: 33.7 million
instructions per search, 32.3 without them), more than PostgreSQL's extra round trip costs.
"""

# SQL text is assembled from table names (_meta), fixed expressions and placeholder counts;
# every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from bookings.models import ACTIVE_STATUSES, Appointment
from clinic.db import placeholders
from clinic.models import Practitioner, Room, Service, TimeOff, WorkingHours
from clinic.recurrence import occurrences

# (weekday, first second of the day, last second, valid_from ordinal or None, valid_until …)
Shift = tuple[int, int, int, int | None, int | None]
Interval = tuple[float, float]


@dataclass
class Calendar:
    """Everything a window's question depends on, already filtered to who and what it asks."""

    shifts_by_practitioner: dict[int, list[Shift]] = field(default_factory=dict)
    room_ids: list[int] = field(default_factory=list)
    # Blocked time as (start, end) epoch seconds.
    busy_by_practitioner: dict[int, list[Interval]] = field(
        default_factory=lambda: defaultdict(list)
    )
    busy_by_room: dict[int, list[Interval]] = field(default_factory=lambda: defaultdict(list))
    closures: list[Interval] = field(default_factory=list)
    # The asking client's own visits (no buffers): one client, one place.
    client_busy: list[Interval] = field(default_factory=list)
    lacks_a_suitable_room: bool = False

    @property
    def practitioner_ids(self) -> list[int]:
        return sorted(self.shifts_by_practitioner)


def _epoch(column: str, *, round_up: bool = False) -> str:
    # Whole seconds: candidate starts are whole seconds, so rounding a block's start down and
    # its end up forbids exactly the same starts as the exact times would; integers are also
    # cheaper than floats for PostgreSQL to write and for the driver to read.
    if connection.vendor == "postgresql":
        # date_part, not EXTRACT: since PostgreSQL 14 EXTRACT computes in numeric, which for a
        # month's ~1,100 rows cost a quarter of the statement (1.63 against 1.28 ms). A double
        # holds epoch seconds to well under a microsecond, so floor/ceil are still exact.
        return f"{'ceil' if round_up else 'floor'}(date_part('epoch', {column}))::int8"
    # Django stores UTC text ("2026-11-26 08:00:00[.ffffff]"); unixepoch() parses it in C. It
    # rounds to the millisecond first (10:29:59.9999 became 10:30:00), so it is given the whole
    # seconds only, and text longer than 19 characters has a fraction: one more for an end.
    if sqlite3.sqlite_version_info < (3, 38):  # no unixepoch(); julianday is slower
        return f"round((julianday({column}) - 2440587.5) * 86400.0, 3)"
    seconds = f"unixepoch(substr({column}, 1, 19))"
    if round_up:
        return f"({seconds} + (length({column}) > 19))"
    return seconds


def _seconds_of_day(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"date_part('epoch', {column})::int"
    # TimeField is stored as "HH:MM:SS[.ffffff]".
    return (
        f"(CAST(substr({column}, 1, 2) AS INTEGER) * 3600"
        f" + CAST(substr({column}, 4, 2) AS INTEGER) * 60"
        f" + CAST(substr({column}, 7, 2) AS INTEGER))"
    )


@cache
def _shifts_sql(vendor: str, one_practitioner: bool) -> str:
    hours = WorkingHours._meta.db_table
    practitioners = Practitioner._meta.db_table
    locations = Practitioner.locations.through._meta.db_table
    services = Practitioner.services.through._meta.db_table
    true = "TRUE" if vendor == "postgresql" else "1"
    return f"""
        SELECT h.practitioner_id, h.weekday, {_seconds_of_day("h.start_time")},
               {_seconds_of_day("h.end_time")}, h.valid_from, h.valid_until
        FROM {hours} h JOIN {practitioners} p ON p.id = h.practitioner_id
        WHERE h.location_id = %s AND p.is_active = {true}
          AND EXISTS (SELECT 1 FROM {locations} l
                      WHERE l.practitioner_id = h.practitioner_id AND l.location_id = %s)
          AND EXISTS (SELECT 1 FROM {services} s
                      WHERE s.practitioner_id = h.practitioner_id AND s.service_id = %s)
          AND (h.valid_from IS NULL OR h.valid_from <= %s)
          AND (h.valid_until IS NULL OR h.valid_until >= %s)
          {"AND h.practitioner_id = %s" if one_practitioner else ""}
    """


@cache
def _shifts_and_rooms_sql(vendor: str, one_practitioner: bool) -> str:
    # One round trip: the shifts (kind 0), then the service's rooms (kind 1) in the same
    # columns: id, is_active (as 0/1), location.
    rooms = Room._meta.db_table
    service_rooms = Service.rooms.through._meta.db_table
    return f"""
        SELECT 0, shifts.* FROM ({_shifts_sql(vendor, one_practitioner)}) AS shifts
        UNION ALL
        SELECT 1, r.id, CASE WHEN r.is_active THEN 1 ELSE 0 END, r.location_id, NULL, NULL, NULL
        FROM {rooms} r JOIN {service_rooms} sr ON sr.room_id = r.id
        WHERE sr.service_id = %s
    """


@cache
def _time_off_sql(vendor: str, practitioner_count: int, room_count: int) -> str:
    rooms = f"OR room_id IN ({placeholders(room_count)})" if room_count else ""
    return f"""
        SELECT practitioner_id, room_id, {_epoch("start_at")},
               {_epoch("end_at", round_up=True)}, repeats, repeat_until
        FROM {TimeOff._meta.db_table}
        WHERE start_at < %s
          AND (end_at > %s
               OR (repeats <> '' AND (repeat_until IS NULL OR repeat_until >= %s)))
          AND (practitioner_id IN ({placeholders(practitioner_count)}) {rooms}
               OR (location_id = %s AND practitioner_id IS NULL AND room_id IS NULL))
    """


@cache
def _appointments_sql(
    vendor: str, practitioner_count: int, room_count: int, ignores_one: bool
) -> str:
    # The window's active visits of the asked practitioners or in the service's rooms (a room
    # is busy whoever works in it), each once: PostgreSQL ORs one range of the (practitioner,
    # blocked_start_at) and (room, blocked_start_at) indexes per id into one bitmap, so it
    # reads only those rows and each heap page once (two UNION ALL branches read the window
    # twice); SQLite skip-scans the room index over the window. The lower bound keeps history
    # out.
    rooms = f"OR room_id IN ({placeholders(room_count)})" if room_count else ""
    return f"""
        SELECT practitioner_id, room_id, {_epoch("blocked_start_at")},
               {_epoch("blocked_end_at", round_up=True)}
        FROM {Appointment._meta.db_table}
        WHERE (practitioner_id IN ({placeholders(practitioner_count)}) {rooms})
          AND blocked_start_at > %s AND blocked_start_at < %s AND blocked_end_at > %s
          AND status IN ({placeholders(len(ACTIVE_STATUSES))})
          AND NOT (status = %s AND hold_expires_at <= %s)
          {"AND id <> %s" if ignores_one else ""}
    """


def _ordinal(value: date | str | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite returns dates as text to a raw cursor
        value = date.fromisoformat(value)
    return value.toordinal()


def calendar_load(
    *,
    service_id: int,
    location_id: int,
    practitioner_id: int | None,
    start_date: date,
    end_date: date,
    window_start_at: datetime,
    window_end_at: datetime,
    earliest_block_start_at: datetime,
    now: datetime,
    ignore_appointment_id: int | None,
    include_appointments: bool,
    zone: ZoneInfo,
    client_id: int | None = None,
) -> Calendar:
    """The shifts, rooms and blocked time that can matter to ``service`` at ``location`` on
    ``start_date..end_date`` (blocked time overlapping ``window_start_at..window_end_at``).

    Only active practitioners who work at the location and perform the service, and only the
    service's active rooms at the location, are loaded; expired holds are left out. Repeating
    time off keeps its wall-clock times in ``zone`` (the location's). With ``client_id``, that
    client's own active visits anywhere (not their holds: a hold is the booking in progress,
    replaced by the time they pick) are loaded too, in one more query."""
    vendor = connection.vendor
    calendar = Calendar()
    as_db_datetime = connection.ops.adapt_datetimefield_value
    as_db_date = connection.ops.adapt_datefield_value
    with connection.cursor() as cursor:
        params: list[Any] = [
            location_id,
            location_id,
            service_id,
            as_db_date(end_date),
            as_db_date(start_date),
        ]
        if practitioner_id is not None:
            params.append(practitioner_id)
        cursor.execute(
            _shifts_and_rooms_sql(vendor, practitioner_id is not None), [*params, service_id]
        )
        shifts: dict[int, list[Shift]] = defaultdict(list)
        suitable_rooms = []
        for kind, row_id, weekday, first, last, valid_from, valid_until in cursor.fetchall():
            if kind == 0:
                shifts[row_id].append(
                    (weekday, first, last, _ordinal(valid_from), _ordinal(valid_until))
                )
            else:  # a room: (id, is_active, location)
                suitable_rooms.append((row_id, weekday, first))
        if not shifts:
            return calendar
        calendar.shifts_by_practitioner = dict(shifts)
        calendar.room_ids = sorted(
            room_id
            for room_id, is_active, room_location in suitable_rooms
            if is_active and room_location == location_id
        )
        if suitable_rooms and not calendar.room_ids:
            calendar.lacks_a_suitable_room = True
            return calendar

        practitioner_ids = calendar.practitioner_ids
        room_ids = calendar.room_ids
        window_start, window_end = as_db_datetime(window_start_at), as_db_datetime(window_end_at)
        repeating_since = as_db_date((window_start_at - timedelta(days=1)).date())
        cursor.execute(
            _time_off_sql(vendor, len(practitioner_ids), len(room_ids)),
            [
                window_end,
                window_start,
                repeating_since,
                *practitioner_ids,
                *room_ids,
                location_id,
            ],
        )
        for pid, room_id, block_start, block_end, repeats, repeat_until in cursor.fetchall():
            if not repeats:
                _add_time_off(calendar, pid, room_id, block_start, block_end)
                continue
            for start, end in occurrences(
                start_at=datetime.fromtimestamp(block_start, UTC),
                end_at=datetime.fromtimestamp(block_end, UTC),
                repeats=repeats,
                repeat_until=_as_date(repeat_until),
                zone=zone,
                window_start_at=window_start_at,
                window_end_at=window_end_at,
            ):
                _add_time_off(calendar, pid, room_id, start.timestamp(), end.timestamp())
        if include_appointments:
            visit_params: list[Any] = [
                *practitioner_ids,
                *room_ids,
                as_db_datetime(earliest_block_start_at),
                window_end,
                window_start,
                *ACTIVE_STATUSES,
                Appointment.Status.HELD,
                as_db_datetime(now),
            ]
            if ignore_appointment_id is not None:
                visit_params.append(ignore_appointment_id)
            cursor.execute(
                _appointments_sql(
                    vendor, len(practitioner_ids), len(room_ids), ignore_appointment_id is not None
                ),
                visit_params,
            )
            busy_by_practitioner = calendar.busy_by_practitioner
            busy_by_room = calendar.busy_by_room
            # An appointment blocks its practitioner and its room.
            for pid, room_id, block_start, block_end in cursor.fetchall():
                busy_by_practitioner[pid].append((block_start, block_end))
                if room_id is not None:
                    busy_by_room[room_id].append((block_start, block_end))
    if client_id is not None and include_appointments:
        visits = Appointment.objects.filter(
            client_id=client_id,
            status__in=[s for s in ACTIVE_STATUSES if s != Appointment.Status.HELD],
            start_at__lt=window_end_at,
            end_at__gt=window_start_at,
        )
        if ignore_appointment_id is not None:
            visits = visits.exclude(pk=ignore_appointment_id)
        calendar.client_busy = [
            (start.timestamp(), end.timestamp())
            for start, end in visits.order_by().values_list("start_at", "end_at")
        ]
    return calendar


def _add_time_off(
    calendar: Calendar, practitioner_id: int | None, room_id: int | None, start: float, end: float
) -> None:
    if practitioner_id is not None:
        calendar.busy_by_practitioner[practitioner_id].append((start, end))
    elif room_id is not None:
        calendar.busy_by_room[room_id].append((start, end))
    else:
        calendar.closures.append((start, end))


def _as_date(value: date | str | None) -> date | None:
    if isinstance(value, str):  # SQLite returns dates as text to a raw cursor
        return date.fromisoformat(value)
    return value
