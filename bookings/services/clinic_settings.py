"""Managers change the clinic's catalogue from the workspace: locations, services, working
hours and time off (once or repeating). Every write checks the manager role, validates with
the model's own ``clean`` (which the admin runs too, so neither can store what the other
refuses), saves, and records who changed what from what in a ``SettingsChange`` row.

Working hours and time off can leave booked visits outside the new hours. Those changes are
refused with ``AppointmentsAffected`` naming the visits, and go through when repeated with
``confirm=True``: a clinic that closes on Boxing Day must be able to say so, but only
knowing whom to phone. Visits are never moved or cancelled here.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.text import slugify

from bookings import signals
from bookings.models import ACTIVE_STATUSES, Appointment
from clinic import roles
from clinic.errors import ApplicationError, ValidationFailed
from clinic.models import (
    Location,
    OpeningHours,
    Practitioner,
    Room,
    Service,
    SettingsChange,
    TimeOff,
    WorkingHours,
)
from clinic.parsing import (
    MAX_INTEGER,
    input_locale,
    local_date_or_none,
    local_datetime_or_none,
    local_time_or_none,
    parse_pounds,
)
from clinic.recurrence import occurrences
from clinic.roles import Actor

logger = logging.getLogger(__name__)

# Booked visits a change of hours or time off can strand (a live hold lapses by itself).
STRANDABLE_STATUSES = tuple(
    status for status in ACTIVE_STATUSES if status != Appointment.Status.HELD
)
# How far ahead a repeating closure is checked against booked visits.
AFFECTED_HORIZON = timedelta(days=400)
MAX_RANGES_PER_DAY = 3
# How far ahead newly bookable time is announced (``signals.bookable_time_opened``): as far as
# a client can wait for a time on the waitlist.
OPENED_TIME_HORIZON_DAYS = 120


class AppointmentsAffected(ApplicationError):
    """The change would leave booked visits outside working hours or inside time off;
    ``appointment_ids`` names them. Repeat with ``confirm=True`` to save anyway."""

    code = "appointments_affected"
    status = 409


# ---------------------------------------------------------------------------------------------
# Parsing form values (strings) into model values, naming the field when they are wrong.


def _whole(values: Mapping[str, Any], name: str, label: str, *, minimum: int = 0) -> int:
    raw = str(values.get(name, "")).strip()
    if not re.fullmatch(r"[0-9]{1,9}", raw) or int(raw) < minimum or int(raw) > MAX_INTEGER:
        raise ValidationFailed(
            f"Give {label} as a whole number{f' of at least {minimum}' if minimum else ''}.",
            field=name,
        )
    return int(raw)


def _time_of_day(raw: object, name: str, label: str) -> time:
    # Typed in the form (clinic.parsing): 09:30, 9.30 or 9:30 am all mean the same.
    moment = local_time_or_none(raw)
    if moment is None:
        raise ValidationFailed(f"Give {label} as a time like 09:30.", field=name)
    return moment


def _day(raw: object, name: str, label: str, *, region: str | None = None) -> date | None:
    text = str(raw or "").strip()
    if not text:
        return None
    # As the location writes dates (31/01/2027 in the UK), or ISO.
    day = local_date_or_none(text, region=region)
    if day is None:
        example = input_locale(region).format_date(date(2027, 1, 31))
        raise ValidationFailed(f"Give {label} as a date, e.g. {example}.", field=name)
    if not date(2000, 1, 1) <= day <= date(2999, 12, 31):
        raise ValidationFailed(f"Give {label} between 2000 and 2999.", field=name)
    return day


def _text(values: Mapping[str, Any], name: str, *, limit: int, label: str) -> str:
    text = str(values.get(name, "")).strip()
    if len(text) > limit:
        raise ValidationFailed(f"Keep {label} under {limit} characters.", field=name)
    return text


def _flag(values: Mapping[str, Any], name: str) -> bool:
    return str(values.get(name, "")).lower() in {"on", "true", "1", "yes"}


# ---------------------------------------------------------------------------------------------
# Saving with the model's validation, and the audit row.


def _as_text(value: object) -> object:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date | datetime | Decimal):
        return str(value)
    return value


def _validated(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """``full_clean`` as a ``ValidationFailed`` naming the first wrong field."""
    try:
        instance.full_clean(exclude=list(exclude))
    except DjangoValidationError as failure:
        by_field = failure.message_dict
        name = next(iter(by_field))
        raise ValidationFailed(
            by_field[name][0], field=None if name == "__all__" else name
        ) from None


def _record(
    *,
    actor: Actor,
    entity: str,
    object_id: int | None,
    summary: str,
    changes: dict[str, list[object]],
) -> None:
    SettingsChange.objects.create(
        entity=entity,
        object_id=object_id,
        summary=summary[:200],
        actor=roles.user_of(actor),
        actor_label=roles.actor_label(actor),
        changes=changes,
    )
    logger.info(
        "clinic setting changed",
        extra={"entity": entity, "object_id": object_id, "fields": sorted(changes)},
    )


def _apply(
    *,
    actor: Actor,
    instance: models.Model,
    wanted: dict[str, object],
    entity: str,
    also: dict[str, list[object]] | None = None,
) -> dict[str, list[object]]:
    """Set ``wanted`` on ``instance``, validate, save and audit (with ``also``, changes made
    beside the row's own fields); the changes made."""
    is_new = instance.pk is None
    before = {name: getattr(instance, name) for name in wanted}
    for name, value in wanted.items():
        setattr(instance, name, value)
    _validated(instance)
    # clean() may normalise (phone numbers to E.164): compare what is stored.
    changes = {
        name: [_as_text(before[name]), _as_text(getattr(instance, name))]
        for name in wanted
        if is_new or before[name] != getattr(instance, name)
    }
    changes.update(also or {})
    if changes or is_new:
        instance.save()
        _record(
            actor=actor,
            entity=entity,
            object_id=instance.pk,
            summary=f"{'Added' if is_new else 'Changed'} {instance}",
            changes=changes,
        )
    return changes


def _unique_slug(model: type[models.Model], name: str, *, current: int | None) -> str:
    base = slugify(name)[:40] or "item"
    slug, number = base, 2
    while model._default_manager.filter(slug=slug).exclude(pk=current).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug


# ---------------------------------------------------------------------------------------------
# Locations.


@transaction.atomic
def location_save(
    *, actor: Actor, location: Location | None, values: Mapping[str, Any]
) -> Location:
    """Add a location (``location=None``) or change one: name, address, IANA time zone, the
    front desk's hours per weekday (``open<n>``/``close<n>``/``closed<n>``, Monday = 0), the
    clinic and urgent numbers (read in the location's country, stored in E.164), the
    emergency number, the SMS sender name, whether texts name treatments, and the
    online-booking settings. Raises PermissionDenied unless a manager, ValidationFailed naming
    the field."""
    roles.require_role(actor, roles.MANAGER)
    name = _text(values, "name", limit=120, label="the name")
    if not name:
        raise ValidationFailed("Give the location a name.", field="name")
    zone_name = str(values.get("timezone", "")).strip()
    practitioners_see = str(values.get("practitioners_see", "")).strip()
    if practitioners_see not in Location.PractitionersSee.values:
        raise ValidationFailed("Choose whose records practitioners see.", field="practitioners_see")
    wanted: dict[str, object] = {
        "name": name,
        "address": _text(values, "address", limit=1000, label="the address"),
        "timezone": zone_name,
        "phone": _text(values, "phone", limit=32, label="the phone number"),
        "urgent_phone": _text(values, "urgent_phone", limit=32, label="the urgent number"),
        "emergency_number": _text(values, "emergency_number", limit=8, label="the number"),
        "sms_sender_name": _text(values, "sms_sender_name", limit=11, label="the sender name"),
        "texts_name_treatments": _flag(values, "texts_name_treatments"),
        "online_change_cutoff_hours": _whole(
            values, "online_change_cutoff_hours", "the hours before a visit"
        ),
        "online_upcoming_treatments_limit": _whole(
            values,
            "online_upcoming_treatments_limit",
            "the number of treatment bookings",
            minimum=1,
        ),
        "online_upcoming_consultations_limit": _whole(
            values,
            "online_upcoming_consultations_limit",
            "the number of consultation bookings",
            minimum=1,
        ),
        "practitioners_see": practitioners_see,
        "is_active": _flag(values, "is_active"),
    }
    week = opening_hours_parse(values)
    if location is None:
        location = Location(slug=_unique_slug(Location, name, current=None))
        before_week: list[str] = []
    else:
        location = Location.objects.select_for_update().get(pk=location.pk)
        before_week = _week_labels(location.desk_week())
    after_week = _week_labels(week)
    week_changes: dict[str, list[object]] = (
        {"opening_hours": [before_week, after_week]} if before_week != after_week else {}
    )
    _apply(actor=actor, instance=location, wanted=wanted, entity="location", also=week_changes)
    if week_changes:
        for weekday, span in week.items():
            OpeningHours.objects.update_or_create(
                location=location,
                weekday=weekday,
                defaults={
                    "opens_at": span[0] if span else None,
                    "closes_at": span[1] if span else None,
                },
            )
    return location


def opening_hours_parse(values: Mapping[str, Any]) -> dict[int, tuple[time, time] | None]:
    """The weekday grid's ``open<weekday>`` / ``close<weekday>`` / ``closed<weekday>`` fields
    as the front desk's week (None: closed; a day with neither time is closed too). Raises
    ValidationFailed naming the first wrong field."""
    week: dict[int, tuple[time, time] | None] = {}
    for weekday, day_name in WorkingHours.Weekday.choices:
        opens = str(values.get(f"open{weekday}", "")).strip()
        closes = str(values.get(f"close{weekday}", "")).strip()
        if _flag(values, f"closed{weekday}") or not (opens or closes):
            week[weekday] = None
            continue
        if not opens or not closes:
            missing = f"open{weekday}" if not opens else f"close{weekday}"
            raise ValidationFailed(
                f"{day_name}: give both opening and closing times, or tick closed.",
                field=missing,
            )
        first = _time_of_day(opens, f"open{weekday}", f"{day_name}'s opening time")
        last = _time_of_day(closes, f"close{weekday}", f"{day_name}'s closing time")
        if first >= last:
            raise ValidationFailed(
                f"{day_name}: the desk must close after it opens.", field=f"close{weekday}"
            )
        week[weekday] = (first, last)
    return week


def _week_labels(week: Mapping[int, tuple[time, time] | None]) -> list[str]:
    names = dict(WorkingHours.Weekday.choices)
    return [
        f"{names[day]} {span[0]:%H:%M}–{span[1]:%H:%M}" if span else f"{names[day]} closed"
        for day, span in sorted(week.items())
    ]


# ---------------------------------------------------------------------------------------------
# Services.


@transaction.atomic
def service_save(
    *, actor: Actor, service: Service | None, values: Mapping[str, Any], room_ids: Iterable[str]
) -> Service:
    """Add a service (``service=None``) or change one: kind, copy, duration and buffers, price
    (pounds and pence; the deposit and fees are the service's payment policy, saved by the
    payments app), course length and gap, consultation validity, rooms
    needed, online booking, notice and horizon. Raises PermissionDenied unless a manager,
    ValidationFailed naming the field."""
    roles.require_role(actor, roles.MANAGER)
    name = _text(values, "name", limit=120, label="the name")
    if not name:
        raise ValidationFailed("Give the service a name.", field="name")
    kind = str(values.get("kind", "")).strip()
    if kind not in Service.Kind.values:
        raise ValidationFailed("Choose consultation or treatment.", field="kind")
    wanted: dict[str, object] = {
        "name": name,
        "kind": kind,
        "summary": _text(values, "summary", limit=200, label="the summary"),
        "description": _text(values, "description", limit=5000, label="the description"),
        "duration_minutes": _whole(values, "duration_minutes", "the length in minutes", minimum=5),
        "buffer_before_minutes": _whole(values, "buffer_before_minutes", "the buffer before"),
        "buffer_after_minutes": _whole(values, "buffer_after_minutes", "the buffer after"),
        "slot_step_minutes": _whole(
            values, "slot_step_minutes", "how often a start is offered", minimum=5
        ),
        "price": parse_pounds(
            values.get("price"), field="price", label="the price", under=Decimal("1000000")
        ),
        "requires_consultation": kind == Service.Kind.TREATMENT
        and _flag(values, "requires_consultation"),
        "consultation_validity_days": _whole(
            values, "consultation_validity_days", "how long a clearance lasts", minimum=1
        ),
        "course_size": _whole(values, "course_size", "the sessions in a course", minimum=1),
        "min_interval_days": _whole(values, "min_interval_days", "the days between sessions"),
        "is_online_bookable": _flag(values, "is_online_bookable"),
        "min_lead_minutes": _whole(values, "min_lead_minutes", "the notice in minutes"),
        "horizon_days": _whole(values, "horizon_days", "how many days ahead", minimum=1),
        "display_order": _whole(values, "display_order", "the position in the list"),
    }
    wanted_rooms: set[int] = set()
    for raw in room_ids:
        if not str(raw).isdecimal() or len(str(raw)) > 18:
            raise ValidationFailed("Choose rooms from the list.", field="rooms")
        wanted_rooms.add(int(raw))
    rooms = list(Room.objects.filter(pk__in=wanted_rooms))
    if len(rooms) != len(wanted_rooms):
        raise ValidationFailed("Choose rooms from the list.", field="rooms")
    if service is None:
        service = Service(slug=_unique_slug(Service, name, current=None))
        before_rooms: list[str] = []
    else:
        service = Service.objects.select_for_update().get(pk=service.pk)
        before_rooms = sorted(str(room) for room in service.rooms.all())
    after_rooms = sorted(str(room) for room in rooms)
    room_changes: dict[str, list[object]] = (
        {"rooms": [before_rooms, after_rooms]} if after_rooms != before_rooms else {}
    )
    _apply(actor=actor, instance=service, wanted=wanted, entity="service", also=room_changes)
    if room_changes:
        service.rooms.set(rooms)
    return service


@transaction.atomic
def service_set_active(*, actor: Actor, service: Service, is_active: bool) -> Service:
    """Archive a service (no longer offered or bookable; its appointments and history stay)
    or bring it back. Services are never deleted here: visits refer to them."""
    roles.require_role(actor, roles.MANAGER)
    locked = Service.objects.select_for_update().get(pk=service.pk)
    if locked.is_active != is_active:
        _record(
            actor=actor,
            entity="service",
            object_id=locked.pk,
            summary=f"{'Restored' if is_active else 'Archived'} {locked}",
            changes={"is_active": [locked.is_active, is_active]},
        )
        locked.is_active = is_active
        locked.save(update_fields=["is_active"])
    return locked


# ---------------------------------------------------------------------------------------------
# Working hours: a weekly pattern per practitioner and location, bounded by dates.


@dataclass(frozen=True)
class HoursRange:
    weekday: int
    start_time: time
    end_time: time


def working_hours_parse(values: Mapping[str, Any]) -> list[HoursRange]:
    """The grid's fields ``d<weekday>_<n>_start`` / ``_end`` (n = 0..2) as ranges; an empty
    pair is no range. Raises ValidationFailed naming the first wrong field."""
    ranges = []
    for weekday, day_name in WorkingHours.Weekday.choices:
        for slot in range(MAX_RANGES_PER_DAY):
            prefix = f"d{weekday}_{slot}"
            start = str(values.get(f"{prefix}_start", "")).strip()
            end = str(values.get(f"{prefix}_end", "")).strip()
            if not start and not end:
                continue
            if not start or not end:
                missing = f"{prefix}_start" if not start else f"{prefix}_end"
                raise ValidationFailed(
                    f"{day_name}: give both a start and an end time.", field=missing
                )
            first = _time_of_day(start, f"{prefix}_start", f"{day_name}'s start")
            last = _time_of_day(end, f"{prefix}_end", f"{day_name}'s end")
            if first >= last:
                raise ValidationFailed(
                    f"{day_name}: the end must be after the start.", field=f"{prefix}_end"
                )
            ranges.append(HoursRange(weekday, first, last))
    return ranges


def _covered(ranges: list[WorkingHours], day: date, start: time, end: time) -> bool:
    return any(
        row.weekday == day.weekday()
        and (row.valid_from is None or row.valid_from <= day)
        and (row.valid_until is None or day <= row.valid_until)
        and row.start_time <= start
        and end <= row.end_time
        for row in ranges
    )


def _affected_outside_hours(
    *,
    practitioner: Practitioner,
    location: Location,
    before: list[WorkingHours],
    after: list[WorkingHours],
) -> list[Appointment]:
    """Upcoming booked visits of ``practitioner`` at ``location`` that the hours ``before``
    the change cover and the hours ``after`` it do not (a visit staff booked outside hours on
    purpose is not news)."""
    zone = location.zone
    upcoming = Appointment.objects.filter(
        practitioner=practitioner,
        location=location,
        status__in=STRANDABLE_STATUSES,
        start_at__gte=timezone.now(),
    ).select_related("client", "service", "location")
    stranded = []
    for appointment in upcoming.order_by("start_at"):
        start, end = appointment.start_at.astimezone(zone), appointment.end_at.astimezone(zone)
        if start.date() != end.date():
            continue
        day, first, last = start.date(), start.time(), end.time()
        if _covered(before, day, first, last) and not _covered(after, day, first, last):
            stranded.append(appointment)
    return stranded


def _refuse_unless_confirmed(affected: list[Appointment], *, confirm: bool, what: str) -> None:
    if affected and not confirm:
        raise AppointmentsAffected(
            f"{len(affected)} booked visit{'s' if len(affected) != 1 else ''} would fall "
            f"{what}. Move them or tell the clients, or save anyway.",
            extra={"appointment_ids": [appointment.pk for appointment in affected]},
        )


@transaction.atomic
def working_hours_set(
    *,
    actor: Actor,
    practitioner: Practitioner,
    location: Location,
    ranges: list[HoursRange],
    valid_from: str | date | None,
    valid_until: str | date | None,
    replacing: tuple[date | None, date | None] | None = None,
    end_current: bool = False,
    confirm: bool = False,
) -> list[WorkingHours]:
    """Set the weekly hours ``practitioner`` works at ``location`` from ``valid_from`` to
    ``valid_until`` (either open): the pattern with dates ``replacing`` (None: a new pattern)
    is replaced by ``ranges``; no ranges removes it. With ``end_current`` and a first day,
    hours here that started earlier and still apply on that day end the day before ("from
    4 January Tuesdays are afternoons only").

    Raises PermissionDenied unless a manager; ValidationFailed when ranges overlap each other
    or hours of the same practitioner (anywhere) on the same dates; AppointmentsAffected,
    unless ``confirm``, when booked visits would fall outside the hours."""
    roles.require_role(actor, roles.MANAGER)
    first = (
        valid_from
        if isinstance(valid_from, date)
        else _day(valid_from, "valid_from", "the first day", region=location.country)
    )
    last = (
        valid_until
        if isinstance(valid_until, date)
        else _day(valid_until, "valid_until", "the last day", region=location.country)
    )
    if first and last and first > last:
        raise ValidationFailed("The last day must be on or after the first.", field="valid_until")
    if not location.practitioners.filter(pk=practitioner.pk).exists():
        raise ValidationFailed(f"{practitioner} does not work at {location}.", field="location")
    # Every writer of this practitioner's hours queues here, so two saves cannot both pass
    # the overlap check.
    Practitioner.objects.select_for_update().get(pk=practitioner.pk)
    existing = list(
        WorkingHours.objects.filter(practitioner=practitioner).select_related("location")
    )
    replaced = [
        row
        for row in existing
        if replacing is not None
        and row.location_id == location.pk
        and (row.valid_from, row.valid_until) == replacing
    ]
    kept = [row for row in existing if row not in replaced]
    here_before = [copy.copy(row) for row in existing if row.location_id == location.pk]
    ended: list[WorkingHours] = []
    if end_current and first is not None:
        for row in kept:
            started_before = row.valid_from is None or row.valid_from < first
            still_on = row.valid_until is None or row.valid_until >= first
            if row.location_id == location.pk and started_before and still_on:
                row.valid_until = first - timedelta(days=1)
                ended.append(row)
    new_rows = [
        WorkingHours(
            practitioner=practitioner,
            location=location,
            weekday=item.weekday,
            start_time=item.start_time,
            end_time=item.end_time,
            valid_from=first,
            valid_until=last,
        )
        for item in ranges
    ]
    day_names = dict(WorkingHours.Weekday.choices)
    for index, row in enumerate(new_rows):
        for other in new_rows[:index]:
            if row.overlaps(other):
                raise ValidationFailed(
                    f"{day_names[row.weekday]}: two ranges overlap.",
                    field=f"d{row.weekday}_0_start",
                )
        clash = next((other for other in kept if row.overlaps(other)), None)
        if clash is not None:
            dates = _dates_label(clash.valid_from, clash.valid_until)
            raise ValidationFailed(
                f"{day_names[row.weekday]}: these hours overlap {clash.start_time:%H:%M}–"
                f"{clash.end_time:%H:%M} at {clash.location} ({dates}). Change or end that "
                "pattern first.",
                field=f"d{row.weekday}_0_start",
            )
    here_after = [row for row in kept if row.location_id == location.pk] + new_rows
    affected = _affected_outside_hours(
        practitioner=practitioner, location=location, before=here_before, after=here_after
    )
    _refuse_unless_confirmed(affected, confirm=confirm, what="outside these hours")
    before = [_hours_label(row) for row in replaced]
    WorkingHours.objects.filter(pk__in=[row.pk for row in replaced]).delete()
    WorkingHours.objects.bulk_update(ended, ["valid_until"])
    WorkingHours.objects.bulk_create(new_rows)
    _announce_hours_opened(
        practitioner=practitioner, location=location, before=here_before, after=here_after
    )
    after = [_hours_label(row) for row in new_rows]
    if before != after or (replacing or (None, None)) != (first, last):
        _record(
            actor=actor,
            entity="working_hours",
            object_id=practitioner.pk,
            summary=f"Hours of {practitioner} at {location}, {_dates_label(first, last)}",
            changes={
                "hours": [before, after],
                "dates": [
                    [str(day) if day else None for day in replacing] if replacing else None,
                    [str(first) if first else None, str(last) if last else None],
                ],
                "visits_outside_hours": [None, [appointment.pk for appointment in affected]],
                **(
                    {"ended_the_day_before": [None, [_hours_label(row) for row in ended]]}
                    if ended
                    else {}
                ),
            },
        )
    return new_rows


# ---------------------------------------------------------------------------------------------
# Time a change made bookable, announced to whoever offers it (the waitlist).

Span = tuple[time, time]


def _spans_on(rows: Iterable[WorkingHours], day: date) -> list[Span]:
    """The working time ``rows`` give on ``day``, as sorted local (start, end) times."""
    return sorted(
        (row.start_time, row.end_time)
        for row in rows
        if row.weekday == day.weekday()
        and (row.valid_from is None or row.valid_from <= day)
        and (row.valid_until is None or day <= row.valid_until)
    )


def _minus(spans: list[Span], taken: list[Span]) -> list[Span]:
    """``spans`` without the parts ``taken`` covers."""
    left = list(spans)
    for cut_start, cut_end in taken:
        remaining: list[Span] = []
        for start, end in left:
            if cut_end <= start or end <= cut_start:
                remaining.append((start, end))
                continue
            if start < cut_start:
                remaining.append((start, cut_start))
            if cut_end < end:
                remaining.append((cut_end, end))
        left = remaining
    return left


def _within(spans: list[Span], start: time, end: time) -> list[Span]:
    return [
        (max(first, start), min(last, end))
        for first, last in spans
        if max(first, start) < min(last, end)
    ]


def _horizon_days(zone: tzinfo) -> list[date]:
    today = timezone.now().astimezone(zone).date()
    return [today + timedelta(days=offset) for offset in range(OPENED_TIME_HORIZON_DAYS)]


def _announce_opened(
    *,
    practitioner: Practitioner,
    location: Location,
    windows: list[tuple[datetime, datetime]],
    reason: str,
) -> None:
    now = timezone.now()
    windows = [(start, end) for start, end in windows if end > now]
    if windows:
        signals.bookable_time_opened.send(
            sender=Practitioner,
            practitioner=practitioner,
            location=location,
            windows=windows,
            reason=reason,
        )


def _announce_hours_opened(
    *,
    practitioner: Practitioner,
    location: Location,
    before: list[WorkingHours],
    after: list[WorkingHours],
) -> None:
    """Announce the working time ``after`` gives and ``before`` did not (new hours minus old
    hours), day by day over the horizon; narrowing opens nothing."""
    zone = location.zone
    windows = [
        (datetime.combine(day, start, tzinfo=zone), datetime.combine(day, end, tzinfo=zone))
        for day in _horizon_days(zone)
        for start, end in _minus(_spans_on(after, day), _spans_on(before, day))
    ]
    _announce_opened(practitioner=practitioner, location=location, windows=windows, reason="hours")


def _announce_time_off_removed(block: TimeOff, *, location: Location | None) -> None:
    """Announce the working time a removed block covered within the horizon: for a
    practitioner's time off, their hours wherever they work; for a closure, the hours of
    everyone working at that location. (Other blocks still in force are left to whoever
    offers the time: it checks the time is really free.)"""
    if block.practitioner_id is not None:
        hours = WorkingHours.objects.filter(practitioner_id=block.practitioner_id)
    elif block.location_id is not None:
        hours = WorkingHours.objects.filter(location_id=block.location_id)
    else:
        return  # a room's maintenance frees no practitioner's time
    rows = list(hours.select_related("practitioner", "location"))
    pairs = {(row.practitioner_id, row.location_id): row for row in rows}
    now = timezone.now()
    zone_location = location or (rows[0].location if rows else None)
    if zone_location is None:
        return
    zone = zone_location.zone
    spans = list(
        occurrences(
            start_at=block.start_at,
            end_at=block.end_at,
            repeats=block.repeats,
            repeat_until=block.repeat_until,
            zone=zone,
            window_start_at=now,
            window_end_at=now + timedelta(days=OPENED_TIME_HORIZON_DAYS),
        )
    )
    for (practitioner_id, location_id), sample in pairs.items():
        here = [
            row
            for row in rows
            if row.practitioner_id == practitioner_id and row.location_id == location_id
        ]
        where = sample.location
        windows: list[tuple[datetime, datetime]] = []
        for block_start, block_end in spans:
            local_start, local_end = (
                block_start.astimezone(where.zone),
                block_end.astimezone(where.zone),
            )
            day = local_start.date()
            while day <= local_end.date():
                first = local_start.time() if day == local_start.date() else time.min
                last = local_end.time() if day == local_end.date() else time.max
                for start, end in _within(_spans_on(here, day), first, last):
                    windows.append(
                        (
                            datetime.combine(day, start, tzinfo=where.zone),
                            datetime.combine(day, end, tzinfo=where.zone),
                        )
                    )
                day += timedelta(days=1)
        _announce_opened(
            practitioner=sample.practitioner,
            location=where,
            windows=windows,
            reason="time_off_removed",
        )


def _hours_label(row: WorkingHours) -> str:
    return f"{row.get_weekday_display()} {row.start_time:%H:%M}–{row.end_time:%H:%M}"


def _dates_label(first: date | None, last: date | None) -> str:
    if first and last:
        return f"{first:%-d %b %Y} to {last:%-d %b %Y}"
    if first:
        return f"from {first:%-d %b %Y}"
    if last:
        return f"until {last:%-d %b %Y}"
    return "no end date"


# ---------------------------------------------------------------------------------------------
# Time off and closures (once or repeating).


def _affected_by_time_off(block: TimeOff, *, zone_location: Location) -> list[Appointment]:
    now = timezone.now()
    visits = Appointment.objects.filter(
        status__in=STRANDABLE_STATUSES, start_at__gte=now
    ).select_related("client", "service", "location")
    if block.practitioner_id is not None:
        visits = visits.filter(practitioner_id=block.practitioner_id)
    elif block.room_id is not None:
        visits = visits.filter(room_id=block.room_id)
    else:
        visits = visits.filter(location_id=zone_location.pk)
    window_end = now + AFFECTED_HORIZON
    spans = list(
        occurrences(
            start_at=block.start_at,
            end_at=block.end_at,
            repeats=block.repeats,
            repeat_until=block.repeat_until,
            zone=zone_location.zone,
            window_start_at=now,
            window_end_at=window_end,
        )
    )
    if not spans:
        return []
    visits = visits.filter(
        start_at__lt=max(end for _, end in spans), end_at__gt=min(s for s, _ in spans)
    )
    return [
        visit
        for visit in visits.order_by("start_at")
        if any(visit.start_at < end and start < visit.end_at for start, end in spans)
    ]


@transaction.atomic
def time_off_add(
    *,
    actor: Actor,
    location: Location,
    practitioner: Practitioner | None,
    start_at: str | datetime,
    end_at: str | datetime,
    reason: str,
    repeats: str = "",
    repeat_until: str | date | None = None,
    confirm: bool = False,
) -> TimeOff:
    """Block time for ``practitioner`` (None: the whole location is closed), once or
    repeating every week or year at the same local times. Form values are local times in
    ``location``'s time zone (``YYYY-MM-DDTHH:MM``).

    Raises PermissionDenied unless a manager; ValidationFailed naming the field;
    AppointmentsAffected, unless ``confirm``, when booked visits fall inside it."""
    roles.require_role(actor, roles.MANAGER)
    zone = location.zone
    moments = {}
    for name, raw, label in (("start_at", start_at, "the start"), ("end_at", end_at, "the end")):
        if isinstance(raw, datetime):
            moments[name] = raw
            continue
        local = local_datetime_or_none(raw, region=location.country)
        if local is None or local.tzinfo is not None or not 2000 <= local.year <= 2999:
            example = input_locale(location.country).format_datetime(
                datetime(2027, 12, 25, 9, 0)  # noqa: DTZ001 - wall-clock example
            )
            raise ValidationFailed(f"Give {label} as a date and time, e.g. {example}.", field=name)
        moments[name] = local.replace(tzinfo=zone)
    if repeats not in TimeOff.Repeats.values:
        raise ValidationFailed("Choose how often it repeats.", field="repeats")
    until = (
        repeat_until
        if isinstance(repeat_until, date) or repeat_until is None
        else _day(repeat_until, "repeat_until", "the last day it repeats", region=location.country)
    )
    reason = reason.strip()
    if len(reason) > 200:
        raise ValidationFailed("Keep the reason under 200 characters.", field="reason")
    if practitioner is not None and not location.practitioners.filter(pk=practitioner.pk).exists():
        raise ValidationFailed(f"{practitioner} does not work at {location}.", field="practitioner")
    block = TimeOff(
        practitioner=practitioner,
        location=None if practitioner is not None else location,
        start_at=moments["start_at"],
        end_at=moments["end_at"],
        reason=reason,
        repeats=repeats,
        repeat_until=until if repeats else None,
    )
    if not repeats and until is not None:
        raise ValidationFailed(
            "Only a repeating block has a last day it repeats.", field="repeat_until"
        )
    _validated(block)
    affected = _affected_by_time_off(block, zone_location=location)
    _refuse_unless_confirmed(
        affected,
        confirm=confirm,
        what="in this time off" if practitioner is not None else "while the clinic is closed",
    )
    block.save()
    _record(
        actor=actor,
        entity="time_off",
        object_id=block.pk,
        summary=f"Added time off: {block}",
        changes={
            "time_off": [None, time_off_label(block, zone=location.zone)],
            "visits_inside": [None, [appointment.pk for appointment in affected]],
        },
    )
    return block


@transaction.atomic
def time_off_remove(*, actor: Actor, block: TimeOff, location: Location | None) -> None:
    """Remove a block of time off or a closure (the hours it covered are bookable again);
    ``location`` is where its times are read, for the audit row."""
    roles.require_role(actor, roles.MANAGER)
    label = time_off_label(block, zone=location.zone if location else UTC)
    block_id = block.pk
    _announce_time_off_removed(block, location=location)
    block.delete()
    _record(
        actor=actor,
        entity="time_off",
        object_id=block_id,
        summary=f"Removed time off: {label}"[:200],
        changes={"time_off": [label, None]},
    )


def time_off_label(block: TimeOff, *, zone: tzinfo | None) -> str:
    """How people read a block: "Mon 7 Dec 2026 09:00 – 17:00, every week until 1 Mar 2027"."""
    zone = zone or UTC
    start, end = block.start_at.astimezone(zone), block.end_at.astimezone(zone)
    ends = f"{end:%H:%M}" if start.date() == end.date() else f"{end:%a %-d %b %Y %H:%M}"
    text = f"{start:%a %-d %b %Y %H:%M} – {ends}"
    if block.repeats:
        text += f", {block.get_repeats_display().lower()}"
        if block.repeat_until:
            text += f" until {block.repeat_until:%-d %b %Y}"
    return text
