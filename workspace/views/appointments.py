"""The appointment panel (HTMX partials): details and history, booking a free slot, moving an
appointment, and the desk actions. Each POST calls one service with ``actor=request.user``;
domain errors come back as an inline alert with their HTTP status."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from bookings import access, policy
from bookings.models import Appointment, Client
from bookings.selectors.calendar import calendar_practitioners
from bookings.selectors.consultations import consultation_pending_for
from bookings.selectors.staff import (
    appointment_for_staff,
    appointment_history,
    clients_search,
    consultation_status_for_client,
)
from bookings.services.appointments import appointment_record_past_visit
from bookings.services.staff_appointments import (
    appointment_book_by_staff,
    appointment_change_status_by_staff,
    appointment_reschedule_by_staff,
)
from bookings.services.staff_clients import client_register_by_staff
from clinic.errors import ApplicationError, ValidationFailed
from clinic.models import Location, Practitioner, Room, Service
from clinic.parsing import input_locale, local_datetime_or_none
from payments.selectors import desk_payment_actions, payment_lines_for
from workspace.views.access import (
    current_location,
    render_staff,
    row_or_none,
    staff_member_required,
)


def _parse_local(raw: str, location: Location, *, field: str = "start") -> datetime:
    """A start typed as the location writes it (``02/12/2026 14:30`` in the UK) or ISO (the
    calendar's links), as wall-clock time at the location."""
    moment = local_datetime_or_none(raw, region=location.country)
    if moment is None:
        locale = input_locale(location.country)
        example = locale.format_datetime(datetime(2026, 12, 1, 14, 30))  # noqa: DTZ001
        raise ValidationFailed(
            f"Enter the date and time as {locale.datetime_hint}, for example {example}.",
            field=field,
        )
    return moment.replace(tzinfo=location.zone) if moment.tzinfo is None else moment


def _with_refresh(response: HttpResponse) -> HttpResponse:
    response["HX-Trigger"] = "appointment-changed"
    return response


def _panel(request: HttpRequest, appointment: Appointment, *, error=None, status=200):
    allowed = policy.allowed_actions(appointment=appointment, actor=request.user)
    completion = policy.decide(
        appointment=appointment, action=policy.Action.COMPLETE, actor=request.user
    )
    context = {
        "appointment": appointment,
        "history": appointment_history(appointment=appointment),
        "consultation": consultation_status_for_client(client=appointment.client)
        if appointment.client
        else None,
        "client_alert": access.client_alert_read(actor=request.user, client=appointment.client)
        if appointment.client
        else None,
        "actions": [
            (action, policy.action_label(appointment=appointment, action=action))
            for action in allowed
            if action in policy.DESK_ACTIONS
        ],
        "can_move": policy.Action.MOVE in allowed,
        # Arrived but not completable yet (e.g. the record is unsigned): say why.
        "completion_refusal": completion
        if appointment.status == Appointment.Status.ARRIVED and not completion.allowed
        else None,
        "has_treatment_record": appointment.service.kind == Service.Kind.TREATMENT
        and appointment.client is not None,
        "practitioners": calendar_practitioners(actor=request.user, location=appointment.location),
        "rooms": appointment.service.rooms.filter(location=appointment.location, is_active=True),
        "local_start": appointment.local_start.strftime("%Y-%m-%dT%H:%M"),
        "messages_url": reverse("staff-appointment-messages", args=[appointment.id]),
        "payments": payment_lines_for(appointment=appointment, actor=request.user),
        "payment_actions": desk_payment_actions(appointment=appointment, actor=request.user),
        "error": error,
    }
    template = (
        "workspace/_appointment_panel.html"
        if request.headers.get("HX-Request")
        else "workspace/appointment.html"
    )
    return render_staff(request, template, {"nav": "calendar", **context}, status=status)


@staff_member_required
def appointment_detail(request: HttpRequest, appointment_id: int) -> HttpResponse:
    appointment = appointment_for_staff(actor=request.user, appointment_id=appointment_id)
    return _panel(request, appointment)


@require_POST
@staff_member_required
def appointment_action(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """confirm / arrived / completed / no_show / cancel (with reason)."""
    appointment = appointment_for_staff(actor=request.user, appointment_id=appointment_id)
    action = request.POST.get("action", "")
    try:
        appointment = appointment_change_status_by_staff(
            actor=request.user,
            appointment=appointment,
            action=action,
            reason=request.POST.get("reason", ""),
        )
    except ApplicationError as error:
        appointment.refresh_from_db()
        return _panel(request, appointment, error=error, status=error.status)
    appointment = appointment_for_staff(actor=request.user, appointment_id=appointment_id)
    return _with_refresh(_panel(request, appointment))


@require_POST
@staff_member_required
def appointment_move(request: HttpRequest, appointment_id: int) -> HttpResponse:
    """The edit form's reschedule: new start (local) and optionally another practitioner."""
    appointment = appointment_for_staff(actor=request.user, appointment_id=appointment_id)
    try:
        start_at = _parse_local(request.POST.get("start", ""), appointment.location)
        practitioner = None
        if request.POST.get("practitioner"):
            practitioner = row_or_none(Practitioner.objects.all(), request.POST["practitioner"])
        room = None
        if request.POST.get("room"):
            room = row_or_none(
                Room.objects.filter(location=appointment.location), request.POST["room"]
            )
            if room is None:
                raise ValidationFailed("Choose one of this clinic's rooms.", field="room")
        appointment_reschedule_by_staff(
            actor=request.user,
            appointment=appointment,
            start_at=start_at,
            practitioner=practitioner,
            room=room,
            reason=request.POST.get("reason", ""),
            override_reason=request.POST.get("override_reason", ""),
        )
    except ApplicationError as error:
        return _panel(request, appointment, error=error, status=error.status)
    appointment = appointment_for_staff(actor=request.user, appointment_id=appointment_id)
    return _with_refresh(_panel(request, appointment))


def _booking_context(request: HttpRequest, location: Location, values: dict) -> dict:
    practitioners = calendar_practitioners(actor=request.user, location=location)
    chosen = row_or_none(practitioners, values.get("practitioner"))
    rooms = Room.objects.filter(location=location, is_active=True)
    chosen_room = row_or_none(rooms, values.get("room"))
    services = Service.objects.filter(is_active=True).order_by("display_order", "name")
    if chosen is not None:
        services = services.filter(practitioners=chosen)
    if chosen_room is not None:
        services = services.filter(rooms=chosen_room)
    return {
        "location": location,
        "practitioners": practitioners,
        "rooms": rooms,
        "services": services.distinct(),
        "values": values,
        "chosen_practitioner": chosen,
        "chosen_room": chosen_room,
    }


@require_http_methods(["GET", "POST"])
@staff_member_required
def appointment_new(request: HttpRequest) -> HttpResponse:
    """Book a free slot for an existing client (picked by search) or a new one taken on the
    phone. One service call per step: register the client if new, then book."""
    location = current_location(request)
    source = request.POST if request.method == "POST" else request.GET
    values = {
        key: source.get(key, "")
        for key in (
            "start",
            "practitioner",
            "room",
            "service",
            "client",
            "first_name",
            "last_name",
            "phone",
            "email",
            "sms_consent",
            "override_reason",
            "awaiting_consultation",
            "past_reason",
        )
    }
    context = _booking_context(request, location, values)
    template = (
        "workspace/_booking_form.html"
        if request.headers.get("HX-Request")
        else "workspace/booking.html"
    )
    if request.method == "GET":
        if values["client"]:
            context["client"] = row_or_none(Client.objects.all(), values["client"])
        return render_staff(request, template, {"nav": "calendar", **context})
    try:
        service = row_or_none(Service.objects.all(), values["service"])
        if service is None:
            raise ValidationFailed("Choose a service", field="service")
        start_at = _parse_local(values["start"], location)
        if values["client"]:
            client = row_or_none(Client.objects.all(), values["client"])
            if client is None:
                raise ValidationFailed("Choose a client", field="client")
        else:
            client = client_register_by_staff(
                actor=request.user,
                first_name=values["first_name"],
                last_name=values["last_name"],
                phone=values["phone"],
                email=values["email"],
                sms_consent=bool(values["sms_consent"]),
                location=location,
            )
            values["client"] = str(client.id)
        context["client"] = client
        awaiting = None
        if values["awaiting_consultation"]:
            awaiting = row_or_none(
                Appointment.objects.filter(client=client), values["awaiting_consultation"]
            )
        if values["past_reason"].strip():
            # "This visit already happened": recorded as completed, no booking texts.
            if context["chosen_practitioner"] is None:
                raise ValidationFailed(
                    "Choose who saw the client for a past visit", field="practitioner"
                )
            appointment = appointment_record_past_visit(
                actor=request.user,
                client=client,
                service=service,
                location=location,
                start_at=start_at,
                practitioner=context["chosen_practitioner"],
                room=context["chosen_room"],
                reason=values["past_reason"],
            )
        else:
            appointment = appointment_book_by_staff(
                actor=request.user,
                client=client,
                service=service,
                location=location,
                start_at=start_at,
                practitioner=context["chosen_practitioner"],
                room=context["chosen_room"],
                awaiting_consultation=awaiting,
                override_reason=values["override_reason"],
            )
    except ApplicationError as error:
        context["error"] = error
        if (
            error.code in policy.REFUSALS_A_TENTATIVE_HOLD_WAITS_OUT
            and context.get("client") is not None
        ):
            # Offer to hold the treatment until the client's upcoming consultation.
            context["tentative_options"] = consultation_pending_for(
                client=context["client"]
            ).order_by("start_at")
        return render_staff(request, template, {"nav": "calendar", **context}, status=error.status)
    if not request.headers.get("HX-Request"):
        return redirect(reverse("staff-appointment", args=[appointment.id]))
    return _with_refresh(
        _panel(request, appointment_for_staff(actor=request.user, appointment_id=appointment.id))
    )


@staff_member_required
def client_picker(request: HttpRequest) -> HttpResponse:
    """Search results for the booking form (name or phone)."""
    found = clients_search(actor=request.user, query=request.GET.get("q", ""))
    return render_staff(
        request,
        "workspace/_client_picker.html",
        {"clients": found, "query": request.GET.get("q", "")},
    )
