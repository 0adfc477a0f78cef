"""Reads behind the staff calendar: who and what the columns are, the appointments in a date
range, and the background (working hours, time off) that shades it.

Visibility is decided here, from ``actor``: reception and managers see every practitioner at a
location; a practitioner sees only their own column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet

from bookings import policy
from bookings.access import own_practitioner
from bookings.models import Appointment
from clinic import roles
from clinic.errors import PermissionDenied, ValidationFailed
from clinic.models import Location, Practitioner, Room, TimeOff, WorkingHours
from clinic.recurrence import occurrences
from clinic.roles import Actor

# Longest range one request may ask for: a week view plus slack; keeps the query bounded.
MAX_RANGE_DAYS = 42


@dataclass(frozen=True)
class CalendarBlock:
    """A background interval on one column: ``kind`` is ``working`` or ``time_off``.
    ``start_at``/``end_at`` are aware datetimes in the location's zone."""

    kind: str
    resource_id: str
    start_at: datetime
    end_at: datetime
    reason: str = ""


def _require_staff(actor: Actor) -> None:
    roles.require_role(actor, *roles.ALL_ROLES)


def sees_whole_calendar(actor: Actor) -> bool:
    """Reception and managers see every column; a practitioner sees only their own."""
    return roles.has_role(actor, roles.RECEPTION, roles.MANAGER)


def calendar_practitioners(*, actor: Actor, location: Location) -> QuerySet[Practitioner]:
    """Practitioners whose columns ``actor`` may see at ``location``.

    Raises PermissionDenied for anyone without a staff role."""
    _require_staff(actor)
    practitioners = Practitioner.objects.filter(is_active=True, locations=location)
    if not sees_whole_calendar(actor):
        practitioners = practitioners.filter(user=roles.user_of(actor))
    return practitioners.order_by("display_name").distinct()


def calendar_rooms(*, actor: Actor, location: Location) -> QuerySet[Room]:
    """Rooms at ``location`` (the rooms view). Raises PermissionDenied for non-staff."""
    _require_staff(actor)
    return Room.objects.filter(location=location, is_active=True).order_by("name")


def _range_bounds(location: Location, start_on: date, end_on: date) -> tuple[datetime, datetime]:
    if end_on < start_on:
        raise ValidationFailed("The range ends before it starts", field="end")
    if (end_on - start_on).days > MAX_RANGE_DAYS:
        raise ValidationFailed(f"Ask for at most {MAX_RANGE_DAYS} days at a time", field="end")
    zone = location.zone
    return (
        datetime.combine(start_on, time.min, tzinfo=zone),
        datetime.combine(end_on, time.min, tzinfo=zone),
    )


def appointments_in_range(
    *,
    actor: Actor,
    location: Location,
    start_on: date,
    end_on: date,
    practitioner_id: int | None = None,
) -> QuerySet[Appointment]:
    """Appointments at ``location`` starting in [start_on, end_on) local dates, that ``actor``
    may see, with client, service, practitioner and room loaded (one query).

    Raises PermissionDenied (not staff, or a practitioner asking for a colleague's column) and
    ValidationFailed (range backwards or longer than MAX_RANGE_DAYS)."""
    _require_staff(actor)
    range_start_at, range_end_at = _range_bounds(location, start_on, end_on)
    appointments = Appointment.objects.filter(
        location=location,
        start_at__lt=range_end_at,
        end_at__gt=range_start_at,
        status__in=policy.CALENDAR_STATUSES,
    ).select_related("client", "service", "practitioner", "room", "location")
    if not sees_whole_calendar(actor):
        mine = own_practitioner(actor)
        if mine is None or (practitioner_id is not None and practitioner_id != mine.id):
            raise PermissionDenied("Practitioners see only their own calendar")
        appointments = appointments.filter(practitioner=mine)
    if practitioner_id is not None:
        appointments = appointments.filter(practitioner_id=practitioner_id)
    return appointments.order_by("start_at", "id")


def _working_hours_applies(hours: WorkingHours, day: date) -> bool:
    return (
        hours.weekday == day.weekday()
        and (hours.valid_from is None or hours.valid_from <= day)
        and (hours.valid_until is None or day <= hours.valid_until)
    )


def calendar_blocks(
    *,
    actor: Actor,
    location: Location,
    start_on: date,
    end_on: date,
    by: str = "practitioner",
) -> list[CalendarBlock]:
    """Working hours (per practitioner) and time off (practitioner, room or whole location) in
    [start_on, end_on), as background blocks for the columns ``actor`` may see.

    ``by`` is ``practitioner`` (resource ids ``p<id>``) or ``room`` (``r<id>``). Working hours
    are local wall-clock times, so they are combined with each date in the location's zone,
    which keeps 09:00 at 09:00 across a DST change. Two queries plus the column query.

    Raises PermissionDenied and ValidationFailed like ``appointments_in_range``."""
    if by not in {"practitioner", "room"}:
        raise ValidationFailed("Show the calendar by practitioner or by room", field="by")
    range_start_at, range_end_at = _range_bounds(location, start_on, end_on)
    zone = location.zone
    days = [start_on + timedelta(days=offset) for offset in range((end_on - start_on).days)]
    blocks: list[CalendarBlock] = []

    if by == "practitioner":
        columns = list(calendar_practitioners(actor=actor, location=location))
        column_ids = {column.id for column in columns}
        hours = WorkingHours.objects.filter(location=location, practitioner_id__in=column_ids)
        for day in days:
            for row in hours:
                if _working_hours_applies(row, day):
                    blocks.append(
                        CalendarBlock(
                            kind="working",
                            resource_id=f"p{row.practitioner_id}",
                            start_at=datetime.combine(day, row.start_time, tzinfo=zone),
                            end_at=datetime.combine(day, row.end_time, tzinfo=zone),
                        )
                    )
        own_filter = Q(practitioner_id__in=column_ids)
    else:
        rooms = list(calendar_rooms(actor=actor, location=location))
        column_ids = {room.id for room in rooms}
        desk = location.desk_week()
        for day in days:
            span = desk[day.weekday()]
            if span is None:  # the front desk is closed: rooms are not in use
                continue
            for room in rooms:
                blocks.append(
                    CalendarBlock(
                        kind="working",
                        resource_id=f"r{room.id}",
                        start_at=datetime.combine(day, span[0], tzinfo=zone),
                        end_at=datetime.combine(day, span[1], tzinfo=zone),
                    )
                )
        own_filter = Q(room_id__in=column_ids)

    prefix = "p" if by == "practitioner" else "r"
    time_off = TimeOff.objects.filter(
        own_filter | Q(location=location, practitioner__isnull=True, room__isnull=True),
        Q(end_at__gt=range_start_at)
        | (
            ~Q(repeats=TimeOff.Repeats.NEVER)
            & (Q(repeat_until__isnull=True) | Q(repeat_until__gte=range_start_at.date()))
        ),
        start_at__lt=range_end_at,
    )
    for block in time_off:
        target = block.practitioner_id if by == "practitioner" else block.room_id
        targets = [target] if target is not None else sorted(column_ids)
        for start_at, end_at in occurrences(
            start_at=block.start_at,
            end_at=block.end_at,
            repeats=block.repeats,
            repeat_until=block.repeat_until,
            zone=zone,
            window_start_at=range_start_at,
            window_end_at=range_end_at,
        ):
            for column_id in targets:
                blocks.append(
                    CalendarBlock(
                        kind="time_off",
                        resource_id=f"{prefix}{column_id}",
                        start_at=max(start_at, range_start_at).astimezone(zone),
                        end_at=min(end_at, range_end_at).astimezone(zone),
                        reason=block.reason,
                    )
                )
    return blocks
