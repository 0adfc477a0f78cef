"""Staff API for an appointment's money: the payments and refunds, and the desk's four buttons
(send a deposit link, charge the policy's fee, refund, waive). Each calls the same
``payments.services.desk`` function as the desk panel, so the roles of ``payments/access.py``
and every rule apply unchanged. Amounts are integers in minor units (pence)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from ninja import Field, Router, Schema, Status

from bookings.auth import staff_auth
from bookings.models import Appointment
from bookings.selectors.staff import appointment_for_staff
from clinic.api import error_responses
from clinic.http import ApiRequest
from clinic.parsing import Id
from payments import access
from payments.models import Payment, Refund
from payments.services import desk

router = Router(auth=staff_auth, tags=["staff"])


class RefundOut(Schema):
    id: int
    payment_id: int
    amount: int = Field(..., description="Minor units (pence)")
    currency: str
    reason: str
    status: str
    created_at: datetime


class PaymentOut(Schema):
    id: int
    kind: str = Field(
        ..., examples=["deposit"], description="deposit, late_cancel_fee, no_show_fee"
    )
    amount: int = Field(..., description="Minor units (pence)")
    currency: str = Field(..., examples=["gbp"])
    status: str = Field(..., examples=["succeeded"])
    amount_refunded: int = Field(..., description="Minor units refunded or being refunded")
    off_session: bool = Field(..., description="Charged to the card on file")
    waive_reason: str
    created_at: datetime
    succeeded_at: datetime | None
    refunds: list[RefundOut]


class RefundIn(Schema):
    payment_id: Id = Field(..., description="One of the appointment's paid payments")
    amount: int | None = Field(
        None, ge=1, le=100_000_000, description="Minor units; empty: all that is left"
    )
    reason: str = Field(..., max_length=500, examples=["Goodwill"])


class WaiveIn(Schema):
    reason: str = Field(..., max_length=500, examples=["Bereavement"])


def _refund_out(refund: Refund, currency: str) -> dict:
    return {
        "id": refund.pk,
        "payment_id": refund.payment_id,
        "amount": refund.amount,
        "currency": currency,
        "reason": refund.reason,
        "status": refund.status,
        "created_at": refund.created_at,
    }


def _payment_out(payment: Payment) -> dict:
    return {
        "id": payment.pk,
        "kind": payment.kind,
        "amount": payment.amount,
        "currency": payment.currency,
        "status": payment.status,
        "amount_refunded": payment.amount_refunded,
        "off_session": payment.off_session,
        "waive_reason": payment.waive_reason,
        "created_at": payment.created_at,
        "succeeded_at": payment.succeeded_at,
        "refunds": [_refund_out(refund, payment.currency) for refund in payment.refunds.all()],
    }


def _appointment(request: ApiRequest, appointment_id: int) -> Appointment:
    return appointment_for_staff(actor=request.auth, appointment_id=appointment_id)


def _fresh(payment: Payment) -> dict:
    return _payment_out(Payment.objects.prefetch_related("refunds").get(pk=payment.pk))


@router.get("/appointments/{appointment_id}/payments", response=list[PaymentOut])
def appointment_payments(request: ApiRequest, appointment_id: Id) -> list[dict]:
    """The appointment's deposit and fees, oldest first, each with its refunds."""
    appointment = _appointment(request, appointment_id)
    access.require(request.auth, access.SEE_PAYMENTS)
    rows = (
        Payment.objects.filter(appointment=appointment)
        .prefetch_related("refunds")
        .order_by("created_at", "pk")
    )
    return [_payment_out(payment) for payment in rows]


@router.post(
    "/appointments/{appointment_id}/payments/deposit-link",
    response={201: PaymentOut, **error_responses(409)},
)
def send_deposit_link(request: ApiRequest, appointment_id: Id):
    """Text the client a link to pay the deposit the policy asks (phone bookings). Reception
    and managers. 409 when the service takes no deposit or it is paid already."""
    appointment = _appointment(request, appointment_id)
    link_base = settings.PUBLIC_BASE_URL or f"{request.scheme}://{request.get_host()}"
    payment = desk.desk_send_deposit_link(
        actor=request.auth, appointment=appointment, link_base=link_base
    )
    return Status(201, _fresh(payment))


@router.post(
    "/appointments/{appointment_id}/payments/fee",
    response={201: PaymentOut, **error_responses(409)},
)
def charge_fee(request: ApiRequest, appointment_id: Id):
    """Charge the no-show or late-cancellation fee of the booking's terms to the card on file
    (a card that needs authentication gets a pay link instead: status ``requires_action``).
    Reception and managers. 409 when no fee is due; pressed again, the same charge."""
    appointment = _appointment(request, appointment_id)
    payment = desk.desk_charge_fee(actor=request.auth, appointment=appointment)
    return Status(201, _fresh(payment))


@router.post(
    "/appointments/{appointment_id}/payments/refunds",
    response={201: RefundOut, **error_responses(409)},
)
def refund(request: ApiRequest, appointment_id: Id, payload: RefundIn):
    """Refund all or part of one of the appointment's payments, with a reason. Managers."""
    appointment = _appointment(request, appointment_id)
    made = desk.desk_refund_minor(
        actor=request.auth,
        appointment=appointment,
        payment_id=payload.payment_id,
        amount=payload.amount,
        reason=payload.reason,
        field="payment_id",
    )
    return Status(201, _refund_out(made, made.payment.currency))


@router.post(
    "/appointments/{appointment_id}/payments/waive",
    response={200: PaymentOut, **error_responses(409)},
)
def waive_fee(request: ApiRequest, appointment_id: Id, payload: WaiveIn):
    """Waive the fee that is due (recorded as a waived payment, with the reason). Managers."""
    appointment = _appointment(request, appointment_id)
    payment = desk.desk_waive_fee(
        actor=request.auth, appointment=appointment, reason=payload.reason
    )
    return _fresh(payment)
