"""The desk panel's payment buttons: parse, call one payments service, show the panel again."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from bookings.models import Appointment
from bookings.selectors.staff import appointment_for_staff
from clinic.errors import ApplicationError
from payments.services import desk
from workspace.views.access import staff_member_required
from workspace.views.appointments import _panel, _with_refresh


def _link_base(request: HttpRequest) -> str:
    return settings.PUBLIC_BASE_URL or f"{request.scheme}://{request.get_host()}"


def _answer(
    request: HttpRequest, appointment_id: int, call: Callable[[Appointment], object]
) -> HttpResponse:
    appointment = appointment_for_staff(actor=request.user, appointment_id=appointment_id)
    try:
        call(appointment)
    except ApplicationError as error:
        appointment.refresh_from_db()
        return _panel(request, appointment, error=error, status=error.status)
    appointment = appointment_for_staff(actor=request.user, appointment_id=appointment_id)
    return _with_refresh(_panel(request, appointment))


@require_POST
@staff_member_required
def payment_send_link(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _answer(
        request,
        appointment_id,
        lambda appointment: desk.desk_send_deposit_link(
            actor=request.user, appointment=appointment, link_base=_link_base(request)
        ),
    )


@require_POST
@staff_member_required
def payment_charge_fee(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _answer(
        request,
        appointment_id,
        lambda appointment: desk.desk_charge_fee(actor=request.user, appointment=appointment),
    )


@require_POST
@staff_member_required
def payment_refund(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _answer(
        request,
        appointment_id,
        lambda appointment: desk.desk_refund(
            actor=request.user,
            appointment=appointment,
            payment_id=request.POST.get("payment", ""),
            amount=request.POST.get("amount", ""),
            reason=request.POST.get("reason", ""),
        ),
    )


@require_POST
@staff_member_required
def payment_waive_fee(request: HttpRequest, appointment_id: int) -> HttpResponse:
    return _answer(
        request,
        appointment_id,
        lambda appointment: desk.desk_waive_fee(
            actor=request.user, appointment=appointment, reason=request.POST.get("reason", "")
        ),
    )
