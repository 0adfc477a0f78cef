"""Clinic settings for managers: locations, practitioners' hours and time off, clinic
closures and services. Each page parses the form, calls one service in
``bookings.services.clinic_settings`` and shows its error at the top of the form, linked to
the field; the rules live in the services and the models' ``clean``."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Any

from django.contrib import messages as flash
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from bookings.models import Appointment
from bookings.selectors.clinic_settings import (
    HoursPattern,
    empty_week,
    hours_pattern,
    hours_patterns,
    settings_changes,
    time_off_to_come,
)
from bookings.services.clinic_settings import (
    AppointmentsAffected,
    location_save,
    service_save,
    service_set_active,
    time_off_add,
    time_off_label,
    time_off_remove,
    working_hours_parse,
    working_hours_set,
)
from clinic import roles
from clinic.errors import ApplicationError
from clinic.models import Location, Practitioner, Room, Service, TimeOff, WorkingHours
from clinic.parsing import date_or_none, id_or_none
from payments.gateway import is_configured as payments_configured
from payments.models import DepositRule, PaymentPolicy
from payments.services.policies import (
    POLICY_FIELDS,
    deposit_label,
    policy_form_values,
    policy_of,
    policy_save,
)
from workspace.views.access import render_staff, staff_member_required

COMMON_ZONES = [
    "Europe/London",
    "Europe/Dublin",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
    "UTC",
]


def _manager(request: HttpRequest) -> None:
    roles.require_role(request.user, roles.MANAGER)


def _affected(error: ApplicationError | None) -> list[Appointment]:
    """The visits an ``AppointmentsAffected`` refusal names, for the warning list."""
    if not isinstance(error, AppointmentsAffected):
        return []
    return list(
        Appointment.objects.filter(pk__in=error.extra.get("appointment_ids", []))
        .select_related("client", "service", "location", "practitioner")
        .order_by("start_at")
    )


@staff_member_required
def settings_hub(request: HttpRequest) -> HttpResponse:
    _manager(request)
    return render_staff(
        request,
        "workspace/settings/hub.html",
        {
            "nav": "settings",
            "locations": Location.objects.all(),
            "changes": settings_changes(limit=15),
        },
    )


# ---------------------------------------------------------------------------------------------
# Locations


LOCATION_FIELDS = (
    "name",
    "address",
    "timezone",
    "phone",
    "urgent_phone",
    "emergency_number",
    "sms_sender_name",
    "texts_name_treatments",
    "online_change_cutoff_hours",
    "online_upcoming_treatments_limit",
    "online_upcoming_consultations_limit",
    "practitioners_see",
    "is_active",
)


DESK_FIELDS = [f"{part}{weekday}" for weekday in range(7) for part in ("open", "close", "closed")]
# A new location's front desk: weekdays 09:00–18:00, Saturday 10:00–16:00, closed Sunday.
DEFAULT_DESK_WEEK: dict[int, tuple[time, time] | None] = {
    **dict.fromkeys(range(5), (time(9), time(18))),
    5: (time(10), time(16)),
    6: None,
}


@staff_member_required
def location_list(request: HttpRequest) -> HttpResponse:
    _manager(request)
    locations = Location.objects.prefetch_related("opening_hours")
    return render_staff(
        request,
        "workspace/settings/locations.html",
        {
            "nav": "settings",
            "locations": [(place, desk_week_summary(place.desk_week())) for place in locations],
        },
    )


def desk_week_summary(week: dict[int, tuple[time, time] | None]) -> str:
    """ "Mon–Fri 09:00–18:00, Sat 10:00–16:00, Sun closed": runs of days with the same hours."""
    short = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    parts: list[str] = []
    day = 0
    while day < 7:
        last = day
        while last + 1 < 7 and week[last + 1] == week[day]:
            last += 1
        days = short[day] if last == day else f"{short[day]}–{short[last]}"
        span = week[day]
        parts.append(f"{days} {span[0]:%H:%M}–{span[1]:%H:%M}" if span else f"{days} closed")
        day = last + 1
    return ", ".join(parts)


@require_http_methods(["GET", "POST"])
@staff_member_required
def location_edit(request: HttpRequest, location_id: int | None = None) -> HttpResponse:
    _manager(request)
    location = get_object_or_404(Location, pk=location_id) if location_id is not None else None
    shown = location or Location()
    values: dict[str, Any] = {name: getattr(shown, name) for name in LOCATION_FIELDS}
    desk = shown.desk_week() if location is not None else DEFAULT_DESK_WEEK
    for weekday, span in desk.items():
        values[f"open{weekday}"] = f"{span[0]:%H:%M}" if span else ""
        values[f"close{weekday}"] = f"{span[1]:%H:%M}" if span else ""
        values[f"closed{weekday}"] = "" if span else "on"
    error = None
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in [*LOCATION_FIELDS, *DESK_FIELDS]}
        try:
            saved = location_save(actor=request.user, location=location, values=values)
        except ApplicationError as failure:
            error = failure
        else:
            flash.success(request, f"Saved {saved.name}.")
            return redirect("staff-settings-locations")
    return render_staff(
        request,
        "workspace/settings/location_edit.html",
        {
            "nav": "settings",
            "location": location,
            "values": values,
            "error": error,
            "zones": COMMON_ZONES,
            "region": shown.country or "GB",
            "practitioners_see_choices": Location.PractitionersSee.choices,
            "desk_grid": [
                {
                    "weekday": weekday,
                    "name": name,
                    "opens": values.get(f"open{weekday}", ""),
                    "closes": values.get(f"close{weekday}", ""),
                    "closed": values.get(f"closed{weekday}", ""),
                }
                for weekday, name in WorkingHours.Weekday.choices
            ],
        },
        status=error.status if error else 200,
    )


# ---------------------------------------------------------------------------------------------
# Practitioners: weekly hours and time off


@staff_member_required
def practitioner_list(request: HttpRequest) -> HttpResponse:
    _manager(request)
    practitioners = Practitioner.objects.prefetch_related("locations", "services")
    return render_staff(
        request,
        "workspace/settings/practitioners.html",
        {"nav": "settings", "practitioners": practitioners},
    )


def _practitioner_page(
    request: HttpRequest,
    practitioner: Practitioner,
    *,
    time_off_values: dict[str, str] | None = None,
    error: ApplicationError | None = None,
) -> HttpResponse:
    locations = list(practitioner.locations.all())
    location = locations[0] if locations else None
    blocks = list(time_off_to_come(practitioner=practitioner))
    zone = location.zone if location else None
    return render_staff(
        request,
        "workspace/settings/practitioner.html",
        {
            "nav": "settings",
            "practitioner": practitioner,
            "locations": locations,
            "patterns": hours_patterns(practitioner=practitioner),
            "time_off": [(block, time_off_label(block, zone=zone)) for block in blocks],
            "values": time_off_values
            or {"location": str(location.pk) if location else "", "repeats": ""},
            "repeat_choices": TimeOff.Repeats.choices,
            "error": error,
            "affected": _affected(error),
        },
        status=error.status if error else 200,
    )


@staff_member_required
def practitioner_detail(request: HttpRequest, practitioner_id: int) -> HttpResponse:
    _manager(request)
    practitioner = get_object_or_404(Practitioner, pk=practitioner_id)
    return _practitioner_page(request, practitioner)


def _pattern_dates(source: Any, prefix: str) -> tuple[date | None, date | None]:
    return date_or_none(source.get(f"{prefix}from")), date_or_none(source.get(f"{prefix}until"))


@require_http_methods(["GET", "POST"])
@staff_member_required
def hours_edit(request: HttpRequest, practitioner_id: int) -> HttpResponse:
    """The weekly grid of one pattern: ``?location=&from=&until=`` picks it (none: new)."""
    _manager(request)
    practitioner = get_object_or_404(Practitioner, pk=practitioner_id)
    source = request.POST if request.method == "POST" else request.GET
    location = get_object_or_404(
        practitioner.locations.all(), pk=id_or_none(source.get("location")) or 0
    )
    is_new = source.get("new") == "1"
    replacing = None if is_new else _pattern_dates(source, "")
    first, last = replacing or (None, None)
    pattern = (
        HoursPattern(location, None, None, empty_week())
        if is_new
        else hours_pattern(
            practitioner=practitioner, location=location, valid_from=first, valid_until=last
        )
    )
    values: dict[str, str] = {
        "valid_from": first.isoformat() if first else "",
        "valid_until": last.isoformat() if last else "",
        "end_current": "on" if is_new else "",
    }
    for day in pattern.days:
        for index, row in day.slots:
            values[f"d{day.weekday}_{index}_start"] = f"{row.start_time:%H:%M}" if row else ""
            values[f"d{day.weekday}_{index}_end"] = f"{row.end_time:%H:%M}" if row else ""
    error = None
    if request.method == "POST":
        values = {name: str(request.POST.get(name, "")) for name in values}
        try:
            working_hours_set(
                actor=request.user,
                practitioner=practitioner,
                location=location,
                ranges=working_hours_parse(values),
                valid_from=values["valid_from"],
                valid_until=values["valid_until"],
                replacing=replacing,
                end_current=is_new and request.POST.get("end_current") == "on",
                confirm=request.POST.get("confirm") == "on",
            )
        except ApplicationError as failure:
            error = failure
        else:
            flash.success(request, f"Saved {practitioner}'s hours at {location}.")
            return redirect("staff-settings-practitioner", practitioner.pk)
    grid = [
        {
            "name": day.name,
            "cells": [
                {
                    "number": index + 1,
                    "start_name": f"d{day.weekday}_{index}_start",
                    "end_name": f"d{day.weekday}_{index}_end",
                    "start": values.get(f"d{day.weekday}_{index}_start", ""),
                    "end": values.get(f"d{day.weekday}_{index}_end", ""),
                }
                for index, _row in day.slots
            ],
        }
        for day in pattern.days
    ]
    return render_staff(
        request,
        "workspace/settings/hours_edit.html",
        {
            "nav": "settings",
            "practitioner": practitioner,
            "location": location,
            "grid": grid,
            "values": values,
            "is_new": is_new,
            "replacing": replacing,
            "error": error,
            "affected": _affected(error),
        },
        status=error.status if error else 200,
    )


TIME_OFF_FIELDS = ("location", "start_at", "end_at", "reason", "repeats", "repeat_until")


def _time_off_from(request: HttpRequest) -> dict[str, str]:
    return {name: str(request.POST.get(name, "")) for name in TIME_OFF_FIELDS}


def _add_time_off(
    request: HttpRequest,
    values: dict[str, str],
    *,
    location: Location,
    practitioner: Practitioner | None,
) -> None:
    """The posted block of time off (a practitioner's, or the whole location's closure)."""
    time_off_add(
        actor=request.user,
        location=location,
        practitioner=practitioner,
        start_at=values["start_at"],
        end_at=values["end_at"],
        reason=values["reason"],
        repeats=values["repeats"],
        repeat_until=values["repeat_until"] or None,
        confirm=request.POST.get("confirm") == "on",
    )


@require_POST
@staff_member_required
def practitioner_time_off_add(request: HttpRequest, practitioner_id: int) -> HttpResponse:
    _manager(request)
    practitioner = get_object_or_404(Practitioner, pk=practitioner_id)
    values = _time_off_from(request)
    location = practitioner.locations.filter(pk=id_or_none(values["location"]) or 0).first()
    try:
        if location is None:
            raise ApplicationError("Choose where the times are read.", field="location")
        _add_time_off(request, values, location=location, practitioner=practitioner)
    except ApplicationError as failure:
        return _practitioner_page(request, practitioner, time_off_values=values, error=failure)
    flash.success(request, f"Added time off for {practitioner}.")
    return redirect("staff-settings-practitioner", practitioner.pk)


@require_POST
@staff_member_required
def time_off_delete(request: HttpRequest, time_off_id: int) -> HttpResponse:
    _manager(request)
    block = get_object_or_404(TimeOff, pk=time_off_id)
    location = block.location
    if location is None and block.practitioner is not None:
        location = block.practitioner.locations.first()
    if location is None and block.room is not None:
        location = block.room.location
    practitioner_id = block.practitioner_id
    time_off_remove(actor=request.user, block=block, location=location)
    flash.success(request, "Removed.")
    if practitioner_id is not None:
        return redirect("staff-settings-practitioner", practitioner_id)
    return redirect(
        f"{reverse('staff-settings-closures')}?location={location.pk if location else ''}"
    )


@require_http_methods(["GET", "POST"])
@staff_member_required
def closures(request: HttpRequest) -> HttpResponse:
    """Whole-clinic closures of one location (bank holidays, every Sunday…)."""
    _manager(request)
    source = request.POST if request.method == "POST" else request.GET
    locations = list(Location.objects.all())
    wanted = id_or_none(source.get("location"))
    location = next((place for place in locations if place.pk == wanted), None) or (
        locations[0] if locations else None
    )
    if location is None:
        return redirect("staff-settings-location-new")
    values = {"location": str(location.pk), "repeats": ""}
    error = None
    if request.method == "POST":
        values = _time_off_from(request)
        try:
            _add_time_off(request, values, location=location, practitioner=None)
        except ApplicationError as failure:
            error = failure
        else:
            flash.success(request, f"Added a closure at {location}.")
            return redirect(f"{reverse('staff-settings-closures')}?location={location.pk}")
    blocks = time_off_to_come(location=location)
    return render_staff(
        request,
        "workspace/settings/closures.html",
        {
            "nav": "settings",
            "location": location,
            "locations": locations,
            "closures": [(block, time_off_label(block, zone=location.zone)) for block in blocks],
            "values": values,
            "repeat_choices": TimeOff.Repeats.choices,
            "error": error,
            "affected": _affected(error),
        },
        status=error.status if error else 200,
    )


# ---------------------------------------------------------------------------------------------
# Services


SERVICE_FIELDS = (
    "name",
    "kind",
    "summary",
    "description",
    "duration_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "slot_step_minutes",
    "price",
    "requires_consultation",
    "consultation_validity_days",
    "course_size",
    "min_interval_days",
    "is_online_bookable",
    "min_lead_minutes",
    "horizon_days",
    "display_order",
)


@staff_member_required
def service_list(request: HttpRequest) -> HttpResponse:
    _manager(request)
    services = list(
        Service.objects.prefetch_related("rooms").order_by("-is_active", "display_order")
    )
    policies = {
        policy.service_id: policy
        for policy in PaymentPolicy.objects.filter(location__isnull=True, service__in=services)
    }
    for service in services:
        service.deposit_label = deposit_label(policies.get(service.pk))  # type: ignore[attr-defined]
    return render_staff(
        request,
        "workspace/settings/services.html",
        {"nav": "settings", "services": services},
    )


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return "" if value is None else str(value)


@require_http_methods(["GET", "POST"])
@staff_member_required
def service_edit(request: HttpRequest, service_id: int | None = None) -> HttpResponse:
    _manager(request)
    service = get_object_or_404(Service, pk=service_id) if service_id is not None else None
    shown = service or Service(duration_minutes=30)
    values = {name: _shown(getattr(shown, name)) for name in SERVICE_FIELDS}
    values.update(policy_form_values(policy_of(service)))
    chosen_rooms = {str(room.pk) for room in service.rooms.all()} if service else set()
    error = None
    if request.method == "POST":
        values = {
            name: str(request.POST.get(name, "")) for name in (*SERVICE_FIELDS, *POLICY_FIELDS)
        }
        chosen_rooms = set(request.POST.getlist("rooms"))
        try:
            # The service and its payment policy together, or neither.
            with transaction.atomic():
                saved = service_save(
                    actor=request.user, service=service, values=values, room_ids=chosen_rooms
                )
                policy_save(actor=request.user, service=saved, values=values)
        except ApplicationError as failure:
            error = failure
        else:
            flash.success(request, f"Saved {saved.name}.")
            return redirect("staff-settings-services")
    return render_staff(
        request,
        "workspace/settings/service_edit.html",
        {
            "nav": "settings",
            "service": service,
            "values": values,
            "rooms": Room.objects.select_related("location").filter(is_active=True),
            "chosen_rooms": chosen_rooms,
            "kinds": Service.Kind.choices,
            "deposit_rules": DepositRule.choices,
            "payments_off": not payments_configured(),
            "error": error,
        },
        status=error.status if error else 200,
    )


@require_POST
@staff_member_required
def service_archive(request: HttpRequest, service_id: int) -> HttpResponse:
    _manager(request)
    service = get_object_or_404(Service, pk=service_id)
    restored = request.POST.get("restore") == "1"
    service_set_active(actor=request.user, service=service, is_active=restored)
    flash.success(request, f"{'Restored' if restored else 'Archived'} {service.name}.")
    return redirect("staff-settings-services")
