"""Free slots: when can this service be booked at this location, and with whom?

The engine loads everything a window needs in a fixed number of queries (practitioners, rooms,
working hours, time off, appointments: five, whatever the window length or team size) and does
the interval arithmetic in memory.

For a service of duration ``D`` with buffers ``B`` (before) and ``A`` (after), a start ``s``
collides with an existing blocked interval ``[b0, b1)`` exactly when
``b0 - D - A < s < b1 + B``. Each busy interval is turned into that *forbidden start* interval
once, merged, and every candidate start is then one binary search. Candidate starts are wall
clock times in the location's zone (09:00, 09:15, …), so 09:00 stays 09:00 across DST changes.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db.models import FloatField, Func, Q
from django.utils import timezone

from bookings.models import ACTIVE_STATUSES, Appointment
from clinic.models import Location, Practitioner, Service, TimeOff, WorkingHours

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler, _AsSqlType


class EpochSeconds(Func):
    """Seconds since 1970 of a datetime column, as a float, computed in the database."""

    output_field = FloatField()

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> _AsSqlType:
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM %(expressions)s)::float8",
            **extra_context,
        )

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> _AsSqlType:
        # Django stores UTC text ("2026-11-26 08:00:00"); julianday parses it in C.
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
            **extra_context,
        )


# No visit (with buffers) lasts longer than this; Service.duration_minutes is capped below it.
MAX_VISIT = timedelta(hours=24)


@dataclass(frozen=True)
class Slot:
    start_at: datetime  # aware, in the location's zone
    end_at: datetime
    practitioner_ids: tuple[int, ...]
    room_ids: tuple[int, ...]  # free rooms that suit the service; empty when it needs none


@dataclass(frozen=True)
class DaySlots:
    day: date
    slots: list[Slot]

    @property
    def has_slots(self) -> bool:
        return bool(self.slots)


class _ForbiddenStarts:
    """Merged open intervals of start times (UTC epoch seconds) that would collide."""

    def __init__(self, intervals: Iterable[tuple[float, float]]):
        merged: list[list[float]] = []
        for low, high in sorted(intervals):
            # Open intervals: two that only touch leave their shared end point allowed.
            if merged and low < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], high)
            else:
                merged.append([low, high])
        self.lows = [low for low, _ in merged]
        self.highs = [high for _, high in merged]

    @classmethod
    def intersection(cls, tables: list[_ForbiddenStarts]) -> _ForbiddenStarts:
        """Starts forbidden in every one of ``tables``."""
        lows, highs = tables[0].lows, tables[0].highs
        for table in tables[1:]:
            merged_lows, merged_highs = [], []
            i = j = 0
            while i < len(lows) and j < len(table.lows):
                low, high = max(lows[i], table.lows[j]), min(highs[i], table.highs[j])
                if low < high:
                    merged_lows.append(low)
                    merged_highs.append(high)
                if highs[i] < table.highs[j]:
                    i += 1
                else:
                    j += 1
            lows, highs = merged_lows, merged_highs
        combined = cls([])
        combined.lows, combined.highs = lows, highs
        return combined

    def forbids(self, start: float) -> bool:
        return self.blocked_until(start) is not None

    def blocked_until(self, start: float) -> float | None:
        """The end of the forbidden stretch containing ``start`` (None when it is allowed)."""
        index = bisect_left(self.lows, start) - 1
        if index >= 0 and start < self.highs[index]:
            return self.highs[index]
        return None


def localize(day: date, wall: time, zone: ZoneInfo) -> datetime | None:
    """The aware datetime for a wall-clock time on a day, or None if that time does not exist
    (skipped by a spring-forward change). Ambiguous times (autumn) take the first occurrence."""
    local = datetime.combine(day, wall, tzinfo=zone)
    round_trip = local.astimezone(UTC).astimezone(zone)
    if (round_trip.hour, round_trip.minute) != (wall.hour, wall.minute):
        return None
    return local


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def free_slots(
    *,
    service: Service,
    location: Location,
    start_date: date,
    end_date: date,
    practitioner: Practitioner | None = None,
    now: datetime | None = None,
    ignore_appointment_id: int | None = None,
    enforce_booking_window: bool = True,
    include_appointments: bool = True,
) -> list[Slot]:
    """Bookable starts of ``service`` at ``location`` on local dates ``start_date..end_date``.

    A start is bookable when a practitioner who performs the service works at the location for
    the whole visit, neither they nor (if the service needs one) some suitable room has time
    off or an active appointment overlapping the visit plus buffers, and, with
    ``enforce_booking_window``, it lies between now + the service's lead time and its horizon.
    Expired holds never block. ``ignore_appointment_id`` lets a reschedule ignore its own slot;
    ``include_appointments=False`` answers "would this be a slot on an empty calendar?".
    """
    zone = location.zone
    now = now or timezone.now()
    duration = service.duration
    step = max(service.slot_step_minutes, 5)
    before = service.buffer_before.total_seconds()
    after = service.buffer_after.total_seconds()
    length = duration.total_seconds()

    today_local = now.astimezone(zone).date()
    earliest = now
    if enforce_booking_window:
        earliest = now + timedelta(minutes=service.min_lead_minutes)
        end_date = min(end_date, today_local + timedelta(days=service.horizon_days))
    start_date = max(start_date, today_local)
    if end_date < start_date:
        return []

    window_start = datetime.combine(start_date, time.min, tzinfo=zone) - timedelta(days=1)
    window_end = datetime.combine(end_date + timedelta(days=1), time.min, tzinfo=zone) + timedelta(
        days=1
    )

    # Practitioners come with their shifts: one query, and nobody without hours is considered.
    shifts = (
        WorkingHours.objects.filter(
            location=location,
            practitioner__is_active=True,
            practitioner__locations=location,
            practitioner__services=service,
        )
        .filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=end_date),
            Q(valid_until__isnull=True) | Q(valid_until__gte=start_date),
        )
        .order_by()
    )
    if practitioner is not None:
        shifts = shifts.filter(practitioner_id=practitioner.pk)
    hours_by_practitioner: dict[int, list[Any]] = defaultdict(list)
    for hours in shifts.values_list(
        "practitioner_id",
        "weekday",
        "start_time",
        "end_time",
        "valid_from",
        "valid_until",
        named=True,
    ).distinct():
        hours_by_practitioner[hours.practitioner_id].append(hours)
    practitioner_ids = sorted(hours_by_practitioner)
    if not practitioner_ids:
        return []
    suitable_rooms = list(service.rooms.values_list("pk", "is_active", "location_id"))
    room_ids = [
        room_id
        for room_id, is_active, room_location in suitable_rooms
        if is_active and room_location == location.pk
    ]
    if suitable_rooms and not room_ids:
        return []

    def forbidden(block_start: datetime, block_end: datetime) -> tuple[float, float]:
        return (_epoch(block_start) - length - after, _epoch(block_end) + before)

    busy_by_practitioner: dict[int, list[tuple[float, float]]] = defaultdict(list)
    busy_by_room: dict[int, list[tuple[float, float]]] = defaultdict(list)
    closures: list[tuple[float, float]] = []
    for block in TimeOff.objects.filter(start_at__lt=window_end, end_at__gt=window_start).filter(
        Q(practitioner_id__in=practitioner_ids)
        | Q(room_id__in=room_ids)
        | Q(location=location, practitioner__isnull=True, room__isnull=True)
    ):
        interval = forbidden(block.start_at, block.end_at)
        if block.practitioner_id:
            busy_by_practitioner[block.practitioner_id].append(interval)
        elif block.room_id:
            busy_by_room[block.room_id].append(interval)
        else:
            closures.append(interval)

    if include_appointments:
        wanted_practitioners, wanted_rooms = set(practitioner_ids), set(room_ids)
        # One range scan on the blocked_start_at index (the lower bound keeps history out);
        # rows of other practitioners and rooms are dropped below, which is cheaper than an
        # OR across two indexes that SQLite's planner handles badly.
        appointments = (
            Appointment.objects.filter(
                status__in=ACTIVE_STATUSES,
                blocked_start_at__gt=window_start - MAX_VISIT,
                blocked_start_at__lt=window_end,
                blocked_end_at__gt=window_start,
            )
            .exclude(status=Appointment.Status.HELD, hold_expires_at__lte=now)
            .order_by()
        )
        if ignore_appointment_id is not None:
            appointments = appointments.exclude(pk=ignore_appointment_id)
        # Epoch seconds computed by the database: parsing ~2,000 timestamps into datetimes
        # in Python was the single largest cost of a month's search.
        for practitioner_id, room_id, block_start, block_end in appointments.annotate(
            block_start_epoch=EpochSeconds("blocked_start_at"),
            block_end_epoch=EpochSeconds("blocked_end_at"),
        ).values_list("practitioner_id", "room_id", "block_start_epoch", "block_end_epoch"):
            if practitioner_id not in wanted_practitioners and room_id not in wanted_rooms:
                continue
            # Rounded to the millisecond: julianday arithmetic is off by a few microseconds,
            # which would make back-to-back visits overlap.
            interval = (round(block_start, 3) - length - after, round(block_end, 3) + before)
            busy_by_practitioner[practitioner_id].append(interval)
            if room_id is not None:
                busy_by_room[room_id].append(interval)

    room_forbidden = {
        room_id: _ForbiddenStarts([*busy_by_room[room_id], *closures]) for room_id in room_ids
    }
    # A start is blocked for rooms only when every suitable room is busy then: one search in
    # the intersection instead of one per room; which rooms are free is worked out per slot.
    every_room_busy = (
        _ForbiddenStarts.intersection(list(room_forbidden.values())) if room_ids else None
    )
    earliest_epoch = _epoch(earliest)
    practitioners_at: dict[float, list[int]] = defaultdict(list)

    step_seconds = step * 60

    room_lows = every_room_busy.lows if every_room_busy is not None else None
    room_highs = every_room_busy.highs if every_room_busy is not None else None

    def offer(practitioner_id: int, start_epoch: float) -> None:
        if every_room_busy is None or not every_room_busy.forbids(start_epoch):
            practitioners_at[start_epoch].append(practitioner_id)

    hours_by_weekday: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for practitioner_id, weekly in hours_by_practitioner.items():
        for shift in weekly:
            hours_by_weekday[(practitioner_id, shift.weekday)].append(shift)

    days = [
        start_date + timedelta(days=offset) for offset in range((end_date - start_date).days + 1)
    ]
    for practitioner_id in practitioner_ids:
        busy = _ForbiddenStarts([*busy_by_practitioner[practitioner_id], *closures])
        busy_lows, busy_highs = busy.lows, busy.highs
        for day in days:
            for hours in hours_by_weekday[(practitioner_id, day.weekday())]:
                if (hours.valid_from and day < hours.valid_from) or (
                    hours.valid_until and day > hours.valid_until
                ):
                    continue
                first_minute = hours.start_time.hour * 60 + hours.start_time.minute
                first_minute += (-first_minute) % step
                shift_start = localize(day, hours.start_time, zone)
                shift_end = localize(day, hours.end_time, zone) or datetime.combine(
                    day, hours.end_time, tzinfo=zone
                )
                latest_start = _epoch(shift_end) - length
                if shift_start is not None and shift_start.utcoffset() == shift_end.utcoffset():
                    # No clock change during the shift: wall-clock steps are plain seconds, so
                    # walk the grid arithmetically and jump over busy stretches.
                    midnight = _epoch(shift_start) - (
                        hours.start_time.hour * 3600 + hours.start_time.minute * 60
                    )
                    start_epoch = midnight + first_minute * 60
                    if start_epoch < earliest_epoch:
                        start_epoch += (
                            -(-(earliest_epoch - start_epoch) // step_seconds) * step_seconds
                        )
                    # The hot loop of a month's search: bisect on local lists, no calls per start.
                    while start_epoch <= latest_start:
                        index = bisect_left(busy_lows, start_epoch) - 1
                        blocked_until: float | None
                        if index >= 0 and start_epoch < busy_highs[index]:
                            blocked_until = busy_highs[index]
                        elif room_lows is not None and room_highs is not None:
                            index = bisect_left(room_lows, start_epoch) - 1
                            blocked_until = (
                                room_highs[index]
                                if index >= 0 and start_epoch < room_highs[index]
                                else None
                            )
                        else:
                            blocked_until = None
                        if blocked_until is not None:
                            start_epoch += (
                                -(-(blocked_until - start_epoch) // step_seconds) * step_seconds
                            )
                            continue
                        practitioners_at[start_epoch].append(practitioner_id)
                        start_epoch += step_seconds
                    continue
                # A clock change falls inside this shift: localise every wall-clock start.
                for minute in range(first_minute, 24 * 60, step):
                    start_local = localize(day, time(minute // 60, minute % 60), zone)
                    if start_local is None:
                        continue
                    start_epoch = _epoch(start_local)
                    if start_epoch > latest_start:
                        break
                    if start_epoch >= earliest_epoch and not busy.forbids(start_epoch):
                        offer(practitioner_id, start_epoch)

    slots = []
    for start_epoch in sorted(practitioners_at):
        # fromtimestamp(tz=ZoneInfo) is ~50x slower than converting from UTC.
        start_utc = datetime.fromtimestamp(start_epoch, tz=UTC)
        slots.append(
            Slot(
                start_at=start_utc.astimezone(zone),
                end_at=(start_utc + duration).astimezone(zone),
                practitioner_ids=tuple(sorted(set(practitioners_at[start_epoch]))),
                room_ids=tuple(
                    room for room in room_ids if not room_forbidden[room].forbids(start_epoch)
                ),
            )
        )
    return slots


def days_with_slots(*, slots: list[Slot], start_date: date, end_date: date) -> list[DaySlots]:
    """Group slots by local date, including days without any (shown greyed out)."""
    by_day: dict[date, list[Slot]] = defaultdict(list)
    for slot in slots:
        by_day[slot.start_at.date()].append(slot)
    return [
        DaySlots(
            day=start_date + timedelta(days=offset),
            slots=by_day[start_date + timedelta(days=offset)],
        )
        for offset in range((end_date - start_date).days + 1)
    ]


def slot_at(
    *,
    service: Service,
    location: Location,
    start_at: datetime,
    practitioner: Practitioner | None = None,
    now: datetime | None = None,
    ignore_appointment_id: int | None = None,
    enforce_booking_window: bool = True,
    include_appointments: bool = True,
) -> Slot | None:
    """The slot starting exactly at ``start_at``, if it is bookable."""
    local_day = start_at.astimezone(location.zone).date()
    for slot in free_slots(
        service=service,
        location=location,
        start_date=local_day,
        end_date=local_day,
        practitioner=practitioner,
        now=now,
        ignore_appointment_id=ignore_appointment_id,
        enforce_booking_window=enforce_booking_window,
        include_appointments=include_appointments,
    ):
        if slot.start_at == start_at:
            return slot
    return None


def nearest_free_slots(
    *,
    service: Service,
    location: Location,
    around: datetime,
    practitioner: Practitioner | None = None,
    count: int = 5,
    days: int = 7,
    now: datetime | None = None,
) -> list[Slot]:
    """The ``count`` free slots closest in time to ``around`` within ``days`` either side."""
    local_day = around.astimezone(location.zone).date()
    candidates = free_slots(
        service=service,
        location=location,
        start_date=local_day - timedelta(days=days),
        end_date=local_day + timedelta(days=days),
        practitioner=practitioner,
        now=now,
    )
    candidates.sort(key=lambda slot: abs((slot.start_at - around).total_seconds()))
    return sorted(candidates[:count], key=lambda slot: slot.start_at)
