"""Refunds: a row (pending) first, then one Stripe call with the row's idempotency key."""

from __future__ import annotations

import logging

from django.db import transaction

from clinic import roles
from clinic.errors import PolicyViolation, ValidationFailed
from clinic.roles import Actor
from payments import access, gateway, rules
from payments.models import Payment, PaymentAuditEntry, Refund

logger = logging.getLogger(__name__)


def refund_issue(*, payment: Payment, amount: int, reason: str, actor: Actor) -> Refund:
    """Refund ``amount`` (minor units) of ``payment``. Staff need the manager role (the system
    refunds what the terms say, with ``actor=None``). The row is written before Stripe is
    called; a failure leaves it ``failed`` with the code, for staff to see.

    Raises PermissionDenied, ValidationFailed (amount, reason), PolicyViolation (not paid)."""
    if actor is not None:
        access.require(actor, access.REFUND)
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("Give a reason for the refund.", field="reason")
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.status != Payment.Status.SUCCEEDED or not locked.stripe_payment_intent_id:
            raise PolicyViolation("Only a payment that went through can be refunded.")
        if not rules.refundable(paid=locked.amount, refunded=locked.amount_refunded, asked=amount):
            raise ValidationFailed(
                "The refund must be more than nothing and at most what is left of the payment.",
                field="amount",
            )
        refund = Refund.objects.create(
            payment=locked, amount=amount, reason=reason, created_by=roles.user_of(actor)
        )
        PaymentAuditEntry.objects.create(
            payment=locked,
            action="refund",
            actor=roles.user_of(actor),
            actor_label=roles.actor_label(actor) if actor is not None else "system",
            reason=reason,
            amount=amount,
        )
    return refund_send(refund_id=refund.pk)


def refund_send(*, refund_id: int) -> Refund:
    """Send a pending refund to Stripe (idempotent: the key is the row's, and a row that is no
    longer pending is left alone)."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != Refund.Status.PENDING:
        return refund
    intent_id = refund.payment.stripe_payment_intent_id
    assert intent_id
    try:
        stripe_id, status = gateway.refund_create(
            intent_id=intent_id,
            amount=refund.amount,
            idempotency_key=refund.idempotency_key,
            metadata={"refund_id": str(refund.pk), "payment_id": str(refund.payment_id)},
        )
    except gateway.PaymentGatewayError as error:
        if error.maybe_done:
            # Stripe may have it: stay pending; the retry (same key) or reconciliation settles it.
            logger.warning("refund outcome unknown", extra={"refund_id": refund.pk})
            return refund
        Refund.objects.filter(pk=refund.pk).update(
            status=Refund.Status.FAILED, error_code=error.stripe_code[:60]
        )
        refund.refresh_from_db()
        return refund
    Refund.objects.filter(pk=refund.pk).update(
        stripe_refund_id=stripe_id,
        status=Refund.Status.SUCCEEDED if status == "succeeded" else Refund.Status.PENDING,
    )
    refund.refresh_from_db()
    logger.info("refund sent", extra={"refund_id": refund.pk, "status": refund.status})
    return refund
