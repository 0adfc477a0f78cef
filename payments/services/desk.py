"""The desk's payment buttons, each one service call taking what the form sent. The role is
checked first, so someone who may not press a button is refused (403) whatever they typed."""

from __future__ import annotations

import re
from decimal import Decimal

from bookings.models import Appointment
from clinic.errors import PolicyViolation, ValidationFailed
from clinic.roles import Actor
from payments import access, rules
from payments.models import Payment, Refund
from payments.services.deposits import deposit_for, deposit_request_by_link
from payments.services.fees import fee_charge, fee_waive
from payments.services.refunds import refund_issue

AMOUNT = re.compile(r"[0-9]{1,6}(\.[0-9]{1,2})?", re.ASCII)
PAYMENT_ID = re.compile(r"[0-9]{1,18}", re.ASCII)


def _minor_units(text: str) -> int:
    text = (text or "").strip().lstrip("£€$")
    if not AMOUNT.fullmatch(text):
        raise ValidationFailed("Enter an amount in pounds and pence, e.g. 12.50.", field="amount")
    return rules.to_minor_units(Decimal(text))


def desk_send_deposit_link(*, actor: Actor, appointment: Appointment, link_base: str) -> Payment:
    access.require(actor, access.SEND_PAYMENT_LINK)
    if deposit_for(service=appointment.service, location=appointment.location) is None:
        raise PolicyViolation("This service takes no deposit.")
    return deposit_request_by_link(appointment=appointment, actor=actor, link_base=link_base)


def desk_charge_fee(*, actor: Actor, appointment: Appointment) -> Payment:
    return fee_charge(appointment=appointment, actor=actor)


def desk_refund(
    *, actor: Actor, appointment: Appointment, payment_id: str, amount: str, reason: str
) -> Refund:
    """Refund ``amount`` (pounds, as typed; empty = all that is left) of one of the
    appointment's payments."""
    access.require(actor, access.REFUND)
    return desk_refund_minor(
        actor=actor,
        appointment=appointment,
        payment_id=int(payment_id) if PAYMENT_ID.fullmatch(payment_id) else 0,
        amount=_minor_units(amount) if amount.strip() else None,
        reason=reason,
    )


def desk_refund_minor(
    *,
    actor: Actor,
    appointment: Appointment,
    payment_id: int,
    amount: int | None,
    reason: str,
    field: str = "payment",
) -> Refund:
    """Refund ``amount`` minor units (None = all that is left) of one of the appointment's
    paid payments: the desk form and the staff API alike."""
    access.require(actor, access.REFUND)
    payment = (
        Payment.objects.filter(appointment=appointment, status=Payment.Status.SUCCEEDED)
        .filter(pk=payment_id)
        .first()
    )
    if payment is None:
        raise ValidationFailed("Choose a payment of this appointment.", field=field)
    minor = payment.amount - payment.amount_refunded if amount is None else amount
    return refund_issue(payment=payment, amount=minor, reason=reason, actor=actor)


def desk_waive_fee(*, actor: Actor, appointment: Appointment, reason: str) -> Payment:
    return fee_waive(appointment=appointment, actor=actor, reason=reason)
