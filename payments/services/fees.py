"""Fees after a late cancellation or a no-show: charged to the card on file in one click, the
amount from the terms the booking was made on; or waived by a manager with a reason."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from bookings.models import Appointment
from clinic import roles
from clinic.errors import PolicyViolation, ValidationFailed
from clinic.roles import Actor
from payments import access, gateway, rules
from payments.models import Payment, PaymentAuditEntry, PaymentTerms, StripeCustomer
from payments.services.deposits import LIVE_STATUSES, UNPAID_STATUSES, payment_apply_state

logger = logging.getLogger(__name__)

Kind = Payment.Kind


def fee_due(*, appointment: Appointment) -> tuple[str, int] | None:
    """The fee ``appointment`` owes now under its terms, as (kind, amount), or None: a no-show
    owes the no-show fee; a cancellation by the client inside the window the late fee."""
    terms = PaymentTerms.objects.filter(appointment=appointment).first()
    if terms is None:
        return None
    if appointment.status == Appointment.Status.NO_SHOW:
        outcome = rules.no_show_outcome(terms)
        return (Kind.NO_SHOW_FEE, outcome.fee) if outcome.fee else None
    if appointment.status == Appointment.Status.CANCELLED:
        cancelled = appointment.events.filter(to_status=Appointment.Status.CANCELLED).last()
        if cancelled is None or cancelled.actor_label != "client":
            return None
        outcome = rules.cancellation_outcome(
            terms, start_at=appointment.start_at, now=cancelled.created_at, by_clinic=False
        )
        return (Kind.LATE_CANCEL_FEE, outcome.fee) if outcome.fee else None
    return None


def _audit(payment: Payment, *, action: str, actor: Actor, reason: str = "") -> None:
    PaymentAuditEntry.objects.create(
        payment=payment,
        action=action,
        actor=roles.user_of(actor),
        actor_label=roles.actor_label(actor) if actor is not None else "system",
        reason=reason,
        amount=payment.amount,
    )


def fee_charge(*, appointment: Appointment, actor: Actor) -> Payment:
    """Charge the fee ``appointment`` owes to the client's card on file, off-session. One live
    charge per fee: a second click returns the first. A card that needs authentication leaves
    the row ``requires_action`` and texts the client a pay link.

    Raises PermissionDenied, PolicyViolation (nothing owed, no card on file)."""
    access.require(actor, access.CHARGE_FEE)
    due = fee_due(appointment=appointment)
    if due is None:
        raise PolicyViolation("This appointment owes no fee under its terms.")
    kind, amount = due
    customer = StripeCustomer.objects.filter(client=appointment.client).first()
    if customer is None or not customer.has_card_on_file:
        raise PolicyViolation("The client has no card on file; send a payment link instead.")
    terms = PaymentTerms.objects.get(appointment=appointment)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                appointment=appointment,
                client_id=appointment.client_id,
                kind=kind,
                amount=amount,
                currency=terms.currency,
                off_session=True,
                stripe_payment_method_id=customer.payment_method_id,
                created_by=roles.user_of(actor),
            )
            _audit(payment, action="fee_charged", actor=actor)
    except IntegrityError:
        return Payment.objects.get(appointment=appointment, kind=kind, status__in=LIVE_STATUSES)
    try:
        state = gateway.intent_create(
            amount=amount,
            currency=terms.currency,
            customer_id=customer.stripe_customer_id,
            payment_method=customer.payment_method_id,
            off_session=True,
            metadata={
                "payment_id": str(payment.pk),
                "appointment_id": str(appointment.pk),
                "kind": kind,
            },
            idempotency_key=payment.idempotency_key,
        )
    except gateway.PaymentGatewayError as error:
        if not error.maybe_done:
            Payment.objects.filter(pk=payment.pk).update(
                status=Payment.Status.FAILED, error_code=error.stripe_code[:60]
            )
        payment.refresh_from_db()
        return payment
    Payment.objects.filter(pk=payment.pk).update(stripe_payment_intent_id=state.id)
    return payment_apply_state(payment_id=payment.pk, state=state)


def fee_waive(*, appointment: Appointment, actor: Actor, reason: str) -> Payment:
    """A manager waives the fee ``appointment`` owes (or an unpaid fee charge): recorded as a
    ``waived`` row with the reason, audited. Raises PermissionDenied, ValidationFailed,
    PolicyViolation (nothing owed, already paid)."""
    access.require(actor, access.WAIVE)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("Give a reason for waiving the fee.", field="reason")
    due = fee_due(appointment=appointment)
    if due is None:
        raise PolicyViolation("This appointment owes no fee under its terms.")
    kind, amount = due
    terms = PaymentTerms.objects.get(appointment=appointment)
    intent_to_cancel = ""
    with transaction.atomic():
        existing = (
            Payment.objects.select_for_update()
            .filter(appointment=appointment, kind=kind)
            .exclude(status__in=(Payment.Status.CANCELED, Payment.Status.FAILED))
            .first()
        )
        if existing is not None and existing.status not in UNPAID_STATUSES:
            raise PolicyViolation("This fee is already paid or waived; refund it instead.")
        payment = existing or Payment(
            appointment=appointment,
            client_id=appointment.client_id,
            kind=kind,
            amount=amount,
            currency=terms.currency,
        )
        intent_to_cancel = payment.stripe_payment_intent_id or ""
        payment.status = Payment.Status.WAIVED
        payment.waive_reason = reason
        payment.waived_by = roles.user_of(actor)
        payment.save()
        _audit(payment, action="fee_waived", actor=actor, reason=reason)
    if intent_to_cancel:
        gateway.intent_cancel(intent_to_cancel)
    return payment
