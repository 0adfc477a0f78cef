"""The availability picker shared by booking, rescheduling and holding a first treatment:
a week strip (days without times greyed) and times grouped by part of day, in the clinic's
local time. Full page without JavaScript; HTMX swaps only the picker body."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from bookings.availability import Slot, days_with_slots, free_slots
from bookings.selectors.site import practitioners_for
from clinic.models import Location, Practitioner, Service
from clinic.parsing import clamp_date, date_or_none, datetime_or_none, id_or_none

PARTS_OF_DAY = (("Morning", 0, 12), ("Afternoon", 12, 17), ("Evening", 17, 24))


@dataclass(frozen=True)
class TimeButton:
    """One time to choose: the ISO start it posts and its local wall-clock text ("09:30")."""

    value: str
    text: str


def _buttons_html(buttons: list[TimeButton], *, day_text: str) -> SafeString:
    """The time buttons of one part of the day. Values and texts are ISO datetimes and
    "HH:MM" (digits and ``-:+T``), nothing to escape; ``day_text`` comes escaped."""
    return mark_safe(  # noqa: S308 - only escaped or digit-and-punctuation text is joined
        "".join(
            f'<button class="time" type="submit" name="start" value="{button.value}"'
            f' aria-label="{day_text} at {button.text}">{button.text}</button>'
            for button in buttons
        )
    )


@dataclass(frozen=True)
class DayCell:
    day: date
    slot_count: int
    url: str
    is_selected: bool


def parse_day(value: str | None) -> date | None:
    return date_or_none(value)


def parse_start(value: str | None) -> datetime | None:
    """An ISO start time posted by a time button; None when missing, malformed, naive or too
    far from today to convert between timezones."""
    return datetime_or_none(value)


def chosen_practitioner(
    request: HttpRequest, *, service: Service, location: Location, source: dict | None = None
) -> Practitioner | None:
    practitioner_id = id_or_none(
        (source if source is not None else request.GET).get("practitioner", "")
    )
    if practitioner_id is None:
        return None
    return practitioners_for(service=service, location=location).filter(pk=practitioner_id).first()


def picker_context(
    request: HttpRequest,
    *,
    service: Service,
    location: Location,
    base_url: str,
    action_url: str,
    not_before: datetime | None = None,
    ignore_appointment_id: int | None = None,
    extra_query: dict[str, str] | None = None,
    client_id: int | None = None,
) -> dict:
    """Everything the picker templates need for the week and day in ``request.GET``. With
    ``client_id`` (the client is known: a proven phone, or their manage link), times they are
    already booked elsewhere are not offered."""
    zone = location.zone
    today = timezone.now().astimezone(zone).date()
    first_day = max(today, not_before.astimezone(zone).date()) if not_before else today
    practitioner = chosen_practitioner(request, service=service, location=location)
    selected_day = parse_day(request.GET.get("day"))
    # A week asked for past the booking horizon (or before today) shows the nearest week
    # that can have times, not an error.
    last_day = max(first_day, today + timedelta(days=service.horizon_days))
    week_start = parse_day(request.GET.get("week")) or selected_day or first_day
    week_start = clamp_date(week_start, earliest=first_day, latest=last_day)
    week_end = week_start + timedelta(days=6)

    slots = free_slots(
        service=service,
        location=location,
        start_date=week_start,
        end_date=week_end,
        practitioner=practitioner,
        ignore_appointment_id=ignore_appointment_id,
        client_id=client_id,
    )
    if not_before is not None:
        slots = [slot for slot in slots if slot.start_at >= not_before]
    days = days_with_slots(slots=slots, start_date=week_start, end_date=week_end)
    if selected_day is None or not week_start <= selected_day <= week_end:
        selected_day = next((d.day for d in days if d.slots), None)

    query = dict(extra_query or {})
    if practitioner:
        query["practitioner"] = str(practitioner.pk)

    def url(**params: str) -> str:
        return f"{base_url}?{urlencode({**query, **params})}"

    cells = [
        DayCell(
            day=d.day,
            slot_count=len(d.slots),
            url=url(week=week_start.isoformat(), day=d.day.isoformat()),
            is_selected=d.day == selected_day,
        )
        for d in days
    ]
    day_slots: list[Slot] = next((d.slots for d in days if d.day == selected_day), [])
    # The buttons are written here, once per part of the day: a date filter, and then even
    # four variables, per button in the template were most of the fragment's rendering time.
    day_text = escape(dateformat.format(selected_day, "l j F")) if selected_day else ""
    groups = []
    for label, from_hour, to_hour in PARTS_OF_DAY:
        in_part = [
            TimeButton(value=start.isoformat(), text=f"{start:%H:%M}")
            for start in (slot.start_at.astimezone(zone) for slot in day_slots)
            if from_hour <= start.hour < to_hour
        ]
        if in_part:
            groups.append((label, _buttons_html(in_part, day_text=day_text)))
    previous_week = week_start - timedelta(days=7)
    return {
        "service": service,
        "location": location,
        "practitioners": practitioners_for(service=service, location=location),
        "practitioner": practitioner,
        "week_start": week_start,
        "week_end": week_end,
        "cells": cells,
        "selected_day": selected_day,
        "groups": groups,
        "slot_count": len(day_slots),
        "week_has_slots": bool(slots),
        "previous_week_url": url(week=max(previous_week, first_day).isoformat())
        if week_start > first_day
        else None,
        "next_week_url": url(week=(week_start + timedelta(days=7)).isoformat()),
        "base_url": base_url,
        "action_url": action_url,
        "extra_query": extra_query or {},
        "timezone_name": location.timezone,
        "hold_minutes": settings.SLOT_HOLD_MINUTES,
        "city_name": location.timezone.split("/")[-1].replace("_", " "),
    }


def local_alternatives(*, isoformats: list[str], location: Location) -> list[datetime]:
    """The nearest free times a SlotTaken/HoldExpired error carries, in the clinic's zone."""
    starts = []
    for value in isoformats:
        start_at = parse_start(value)
        if start_at is not None:
            starts.append(start_at.astimezone(location.zone))
    return starts
