"""The daily reconciliation: our rows against Stripe's records.

An intent Stripe moved on (a webhook we missed) is applied, which is the normal repair; a
difference that applying cannot explain (amounts, a payment we think succeeded that Stripe
does not have as succeeded, a Stripe charge with no row here) becomes a
``ReconciliationMismatch`` that managers see. Pending refunds are sent again with their own
idempotency key, so a refund whose outcome was unknown is never made twice."""

from __future__ import annotations

import logging

from payments import gateway
from payments.models import Payment, ReconciliationMismatch, Refund
from payments.services.deposits import STRIPE_STATUS, payment_apply_state
from payments.services.refunds import refund_send

logger = logging.getLogger(__name__)

Kind = ReconciliationMismatch.Kind


def _mismatch(
    *, kind: str, detail: str, payment: Payment | None = None, stripe_id: str = ""
) -> bool:
    _, created = ReconciliationMismatch.objects.get_or_create(
        kind=kind,
        payment=payment,
        stripe_id=stripe_id,
        resolved_at=None,
        defaults={"detail": detail},
    )
    return created


def payments_reconcile(*, limit: int = 100) -> int:
    """Compare, repair what can be repaired, record the rest; returns new mismatches."""
    found = 0
    intents = {state.id: state for state in gateway.intents_list(limit=limit)}
    ours = {
        payment.stripe_payment_intent_id: payment
        for payment in Payment.objects.filter(stripe_payment_intent_id__in=list(intents))
    }
    for intent_id, state in intents.items():
        payment = ours.get(intent_id)
        if payment is None:
            if state.status == "succeeded":
                found += _mismatch(
                    kind=Kind.UNKNOWN_HERE,
                    stripe_id=intent_id,
                    detail=f"Stripe took {state.amount} {state.currency}; no payment row here.",
                )
            continue
        if state.amount != payment.amount:
            found += _mismatch(
                kind=Kind.AMOUNT,
                payment=payment,
                stripe_id=intent_id,
                detail=f"Ours {payment.amount}, Stripe's {state.amount}.",
            )
        expected = STRIPE_STATUS.get(state.status)
        if payment.status == expected:
            continue
        if payment.status == Payment.Status.SUCCEEDED or payment.status == Payment.Status.WAIVED:
            found += _mismatch(
                kind=Kind.STATUS,
                payment=payment,
                stripe_id=intent_id,
                detail=f"Ours {payment.status}, Stripe's {state.status}.",
            )
        else:
            payment_apply_state(payment_id=payment.pk, state=state)
    # Rows that say they were paid but whose intent Stripe did not list (older than the page,
    # or unknown there) are checked one by one.
    for payment in (
        Payment.objects.filter(status=Payment.Status.SUCCEEDED)
        .exclude(stripe_payment_intent_id__in=list(intents))
        .exclude(stripe_payment_intent_id__isnull=True)[:limit]
    ):
        assert payment.stripe_payment_intent_id
        try:
            state = gateway.intent_retrieve(payment.stripe_payment_intent_id)
        except gateway.PaymentGatewayError:
            found += _mismatch(
                kind=Kind.UNKNOWN_AT_STRIPE,
                payment=payment,
                stripe_id=payment.stripe_payment_intent_id,
                detail="Stripe has no record of this payment.",
            )
            continue
        if state.status != "succeeded":
            found += _mismatch(
                kind=Kind.STATUS,
                payment=payment,
                stripe_id=state.id,
                detail=f"Ours succeeded, Stripe's {state.status}.",
            )
    stripe_refunds = {refund["id"]: refund for refund in gateway.refunds_list(limit=limit)}
    for refund in Refund.objects.filter(stripe_refund_id__in=list(stripe_refunds)):
        theirs = stripe_refunds[refund.stripe_refund_id or ""]
        if theirs["amount"] != refund.amount:
            found += _mismatch(
                kind=Kind.AMOUNT,
                payment=refund.payment,
                stripe_id=theirs["id"],
                detail=f"Refund: ours {refund.amount}, Stripe's {theirs['amount']}.",
            )
    for refund in Refund.objects.filter(status=Refund.Status.PENDING):
        refund_send(refund_id=refund.pk)
    if found:
        logger.warning("payment reconciliation found mismatches", extra={"count": found})
    return found
