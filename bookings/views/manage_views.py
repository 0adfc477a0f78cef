"""Manage a booking from the signed link in every text (``/b/<token>/``): see it, add it to a
calendar, reschedule or cancel within the clinic's online cutoff, hold a first treatment after
a consultation. The token names one appointment and nothing else."""

from __future__ import annotations

from datetime import UTC
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from icalendar import Calendar, Event

from bookings import policy
from bookings.models import Appointment
from bookings.selectors.consultations import screening_advises_against_treatment
from bookings.selectors.site import (
    appointment_for_client_link,
    services_bookable_online,
    tentative_treatments_for,
)
from bookings.services import appointment_book, appointment_cancel, appointment_reschedule
from bookings.services.data_protection import client_request_export
from bookings.tokens import appointment_id_from_manage_token, manage_token_for
from bookings.views.site_picker import (
    chosen_practitioner,
    local_alternatives,
    parse_start,
    picker_context,
)
from clinic.care import care_before_the_visit
from clinic.errors import ApplicationError, Gone, NotFound, SlotUnavailable

PICKER_NOTES = {
    "site-reschedule": "Choosing a time moves your booking straight away; we text you the new time.",
    "site-first-treatment": "Choosing a time holds it for you until your consultation.",
}


def with_appointment(view):
    """Resolve the token; explain invalid (404) and expired (410) links kindly."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args, **kwargs) -> HttpResponse:
        try:
            appointment_id = appointment_id_from_manage_token(token)
            appointment = appointment_for_client_link(appointment_id=appointment_id)
            if appointment is None:
                raise NotFound("We could not find this booking. It may have been removed.")
        except (NotFound, Gone) as error:
            return render(
                request,
                "bookings/site/link_problem.html",
                {"error": error, "is_expired": isinstance(error, Gone)},
                status=error.status,
            )
        return view(request, appointment, token, *args, **kwargs)

    return wrapper


def _is_upcoming(appointment: Appointment) -> bool:
    return appointment.status in policy.UPCOMING_STATUSES


def _screening_pending(appointment: Appointment) -> bool:
    if not appointment.service.is_consultation or not _is_upcoming(appointment):
        return False
    consultation = getattr(appointment, "consultation", None)
    return consultation is None or consultation.submitted_at is None


def _google_calendar_url(appointment: Appointment, *, manage_url: str) -> str:
    stamp = "%Y%m%dT%H%M%SZ"
    location = appointment.location
    return "https://calendar.google.com/calendar/render?" + urlencode(
        {
            "action": "TEMPLATE",
            "text": f"{appointment.service.name} at {location.name}",
            "dates": f"{appointment.start_at.astimezone(UTC):{stamp}}/"
            f"{appointment.end_at.astimezone(UTC):{stamp}}",
            "details": f"Change or cancel: {manage_url}",
            "location": location.address or location.name,
        }
    )


def _first_treatment_service(appointment: Appointment, slug: str | None):
    treatments = services_bookable_online(location=appointment.location).filter(
        requires_consultation=True
    )
    if slug:
        return treatments.filter(slug=slug).first()
    return treatments.first()


def _booking_context(request: HttpRequest, appointment: Appointment, token: str) -> dict:
    can_offer_first_treatment = (
        appointment.service.is_consultation
        and _is_upcoming(appointment)
        and appointment.client is not None
        and not tentative_treatments_for(consultation=appointment).exists()
        and _first_treatment_service(appointment, request.GET.get("then")) is not None
        and not screening_advises_against_treatment(appointment=appointment)
    )
    manage_url = request.build_absolute_uri(reverse("site-manage", args=[token]))
    first_treatment_url = reverse("site-first-treatment", args=[token])
    if request.GET.get("then"):
        first_treatment_url += "?" + urlencode({"service": request.GET["then"]})
    return {
        "appointment": appointment,
        "token": token,
        "location": appointment.location,
        "service": appointment.service,
        "local_start": appointment.local_start,
        "local_end": appointment.local_end,
        "allowed_actions": policy.allowed_actions(appointment=appointment, actor_label="client"),
        "change_deadline": policy.online_change_deadline(appointment).astimezone(
            appointment.location.zone
        ),
        "is_active": _is_upcoming(appointment),
        "screening_pending": _screening_pending(appointment),
        "screening_answered": appointment.service.is_consultation
        and _is_upcoming(appointment)
        and not _screening_pending(appointment),
        "screening_url": reverse("site-screening", args=[token]),
        "prep": care_before_the_visit(service_kind=appointment.service.kind),
        "google_calendar_url": _google_calendar_url(appointment, manage_url=manage_url),
        "manage_url": manage_url,
        "tentative": list(tentative_treatments_for(consultation=appointment))
        if appointment.service.is_consultation
        else [],
        "can_offer_first_treatment": can_offer_first_treatment,
        "first_treatment_url": first_treatment_url,
    }


@with_appointment
def booking_confirmed(request: HttpRequest, appointment: Appointment, token: str) -> HttpResponse:
    return render(
        request, "bookings/site/confirmed.html", _booking_context(request, appointment, token)
    )


@with_appointment
def booking_manage(request: HttpRequest, appointment: Appointment, token: str) -> HttpResponse:
    return render(
        request, "bookings/site/manage.html", _booking_context(request, appointment, token)
    )


@require_POST
@with_appointment
def booking_data_request(
    request: HttpRequest, appointment: Appointment, token: str
) -> HttpResponse:
    """The client asks for a copy of everything we hold about them: recorded, the managers told,
    and a link texted to the client's phone; the export itself is behind a fresh code, never in
    a text."""
    if appointment.client is None:
        return redirect(reverse("site-manage", args=[token]))
    try:
        client_request_export(client=appointment.client)
    except ApplicationError as refusal:
        return render(
            request,
            "bookings/site/link_problem.html",
            {"error": refusal, "is_expired": True},
            status=refusal.status,
        )
    return redirect(reverse("site-manage", args=[token]) + "?data_requested=1")


@with_appointment
def booking_calendar(request: HttpRequest, appointment: Appointment, token: str) -> HttpResponse:
    """An .ics file with the visit (no health details, like the texts).

    The UID is the appointment's for good (the staff feed uses the same one) and SEQUENCE rises
    with every move, so a calendar app updates the visit instead of showing it twice; a
    cancelled visit comes as METHOD:CANCEL so the app removes it."""
    location = appointment.location
    is_cancelled = appointment.status == Appointment.Status.CANCELLED
    calendar = Calendar()
    calendar.add("prodid", "-//Aftercare//booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if is_cancelled else "PUBLISH")
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}@aftercare")
    # Versions start at 1; a cancellation is one more change after the last move.
    event.add("sequence", appointment.version + (1 if is_cancelled else 0))
    event.add("status", "CANCELLED" if is_cancelled else "CONFIRMED")
    event.add("summary", f"{appointment.service.name} at {location.name}")
    event.add("dtstart", appointment.start_at)
    event.add("dtend", appointment.end_at)
    event.add("dtstamp", timezone.now())
    event.add("location", location.address or location.name)
    event.add(
        "description",
        f"Change or cancel: {request.build_absolute_uri(reverse('site-manage', args=[token]))}",
    )
    calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="appointment.ics"'
    return response


def _late_change_page(request: HttpRequest, appointment: Appointment, token: str, message: str):
    context = _booking_context(request, appointment, token)
    context["error_message"] = message
    return render(request, "bookings/site/manage.html", context, status=409)


def _picker_response(
    request: HttpRequest,
    *,
    appointment: Appointment,
    token: str,
    service,
    url_name: str,
    template: str,
    not_before=None,
    ignore_appointment_id: int | None = None,
    error: ApplicationError | None = None,
    extra_query: dict | None = None,
) -> HttpResponse:
    base_url = reverse(url_name, args=[token])
    context = picker_context(
        request,
        service=service,
        location=appointment.location,
        base_url=base_url,
        action_url=base_url + ("?" + urlencode(extra_query) if extra_query else ""),
        not_before=not_before,
        ignore_appointment_id=ignore_appointment_id,
        extra_query=extra_query,
        client_id=appointment.client_id,
    )
    context.update(
        appointment=appointment,
        token=token,
        picker_note=PICKER_NOTES.get(url_name, ""),
        error=error,
        alternatives=local_alternatives(
            isoformats=error.extra.get("alternatives", []) if error else [],
            location=appointment.location,
        ),
    )
    if request.headers.get("HX-Request") and error is None:
        return render(request, "bookings/site/_picker_body.html", context)
    return render(request, template, context, status=error.status if error else 200)


@require_http_methods(["GET", "POST"])
@with_appointment
def booking_reschedule(request: HttpRequest, appointment: Appointment, token: str) -> HttpResponse:
    decision = policy.decide(
        appointment=appointment, action=policy.Action.MOVE, actor_label="client"
    )
    if not decision.allowed:
        return _late_change_page(request, appointment, token, decision.message)
    picker: dict[str, Any] = {
        "appointment": appointment,
        "token": token,
        "service": appointment.service,
        "url_name": "site-reschedule",
        "template": "bookings/site/reschedule.html",
        "ignore_appointment_id": appointment.pk,
    }
    if appointment.awaiting_consultation is not None:
        picker["not_before"] = policy.first_treatment_earliest(appointment.awaiting_consultation)
    if request.method == "POST":
        start_at = parse_start(request.POST.get("start"))
        if start_at is None:
            error = SlotUnavailable("Please choose one of the times shown.", field="start")
            return _picker_response(request, error=error, **picker)
        try:
            appointment_reschedule(
                appointment=appointment,
                start_at=start_at,
                practitioner=chosen_practitioner(
                    request,
                    service=appointment.service,
                    location=appointment.location,
                    source=request.POST,
                ),
                actor_label="client",
                reason="Rescheduled online",
            )
        except ApplicationError as error:
            if error.code == "policy":
                return _late_change_page(request, appointment, token, error.message)
            return _picker_response(request, error=error, **picker)
        return redirect(reverse("site-manage", args=[token]) + "?changed=1")
    return _picker_response(request, **picker)


@require_http_methods(["GET", "POST"])
@with_appointment
def booking_cancel(request: HttpRequest, appointment: Appointment, token: str) -> HttpResponse:
    decision = policy.decide(
        appointment=appointment, action=policy.Action.CANCEL, actor_label="client"
    )
    if not decision.allowed:
        return _late_change_page(request, appointment, token, decision.message)
    if request.method == "POST":
        try:
            appointment_cancel(appointment=appointment, actor_label="client")
        except ApplicationError as error:
            return _late_change_page(request, appointment, token, error.message)
        return redirect(reverse("site-manage", args=[token]) + "?cancelled=1")
    return render(
        request, "bookings/site/cancel.html", _booking_context(request, appointment, token)
    )


@require_http_methods(["GET", "POST"])
@with_appointment
def booking_first_treatment(
    request: HttpRequest, appointment: Appointment, token: str
) -> HttpResponse:
    """After booking a consultation: hold a first treatment from 24 hours after it, pending
    the practitioner's clearance."""
    service = _first_treatment_service(
        appointment, request.GET.get("service") or request.POST.get("service")
    )
    if (
        service is None
        or not appointment.service.is_consultation
        or not _is_upcoming(appointment)
        or appointment.client is None
        or screening_advises_against_treatment(appointment=appointment)
    ):
        return redirect("site-manage", token)
    picker: dict[str, Any] = {
        "appointment": appointment,
        "token": token,
        "service": service,
        "url_name": "site-first-treatment",
        "template": "bookings/site/first_treatment.html",
        "not_before": policy.first_treatment_earliest(appointment),
        "extra_query": {"service": service.slug},
    }
    if request.method == "POST":
        start_at = parse_start(request.POST.get("start"))
        if start_at is None:
            error = SlotUnavailable("Please choose one of the times shown.", field="start")
            return _picker_response(request, error=error, **picker)
        try:
            treatment = appointment_book(
                client=appointment.client,
                service=service,
                location=appointment.location,
                start_at=start_at,
                practitioner=chosen_practitioner(
                    request, service=service, location=appointment.location, source=request.POST
                ),
                channel=Appointment.Channel.ONLINE,
                awaiting_consultation=appointment,
            )
        except ApplicationError as error:
            return _picker_response(request, error=error, **picker)
        return redirect("site-confirmed", manage_token_for(treatment))
    return _picker_response(request, **picker)
