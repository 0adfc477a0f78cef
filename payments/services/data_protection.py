"""What payments holds about a client, for the data export and the erasure
(``bookings.signals.client_data_collect`` / ``client_erasing``).

Export: each payment's kind, amount, currency, status and dates, its refunds, and the card on
file as the brand and last four digits (never more is stored).

Erasure keeps the money rows: the clinic must keep its accounting records (amounts, dates,
statuses, Stripe ids for reconciliation) for years after an erasure request. What identifies
or describes the person goes: the payment no longer points at the client record, the free-text
reasons staff typed (refunds, waivers, audit entries) are replaced, and the Stripe customer is
deleted here and, after the erasing transaction commits, at Stripe (the saved card first, then
the customer) by a task, so a rolled-back erasure never deletes a card.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from bookings.models import Client
from payments import gateway
from payments.models import Payment, PaymentAuditEntry, Refund, StripeCustomer

logger = logging.getLogger(__name__)

ERASED_REASON = "(erased with the client's data)"


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


def client_payments_export(*, client: Client) -> dict[str, Any]:
    payments = (
        Payment.objects.filter(client=client).prefetch_related("refunds").order_by("created_at")
    )
    card = StripeCustomer.objects.filter(client=client).first()
    return {
        "payments": [
            {
                "appointment_id": payment.appointment_id,
                "kind": payment.get_kind_display(),
                "amount_minor_units": payment.amount,
                "currency": payment.currency,
                "status": payment.get_status_display(),
                "created_at": _iso(payment.created_at),
                "paid_at": _iso(payment.succeeded_at),
                "refunds": [
                    {
                        "amount_minor_units": refund.amount,
                        "status": refund.get_status_display(),
                        "created_at": _iso(refund.created_at),
                    }
                    for refund in payment.refunds.all()
                ],
            }
            for payment in payments
        ],
        "card_on_file": (
            {
                "brand": card.card_brand,
                "last4": card.card_last4,
                "saved_at": _iso(card.card_saved_at),
                "consent_wording": card.card_consent_wording,
            }
            if card is not None and card.has_card_on_file
            else None
        ),
    }


def client_payments_erase(*, client: Client) -> None:
    """Inside the erasing transaction: detach and anonymise, delete the Stripe customer row;
    the calls to Stripe are queued for after commit."""
    payments = Payment.objects.filter(client=client)
    ids = list(payments.values_list("pk", flat=True))
    PaymentAuditEntry.objects.filter(payment_id__in=ids).exclude(reason="").update(
        reason=ERASED_REASON
    )
    Refund.objects.filter(payment_id__in=ids).update(reason=ERASED_REASON)
    Payment.objects.filter(pk__in=ids).exclude(waive_reason="").update(waive_reason=ERASED_REASON)
    payments.update(client=None)
    customer = StripeCustomer.objects.filter(client=client).first()
    if customer is None:
        return
    customer_id, card_id = customer.stripe_customer_id, customer.payment_method_id
    customer.delete()
    if gateway.is_configured():
        from payments.tasks import delete_stripe_customer

        transaction.on_commit(lambda: delete_stripe_customer.delay(customer_id, card_id))
    else:
        logger.warning(
            "stripe customer not deleted: payments are off", extra={"client_id": client.pk}
        )


def stripe_customer_delete(*, customer_id: str, card_id: str) -> None:
    """At Stripe: the saved card, then the customer. Idempotent (gone is fine)."""
    if card_id:
        gateway.card_remove(customer_id=customer_id, card_id=card_id)
    gateway.customer_delete(customer_id)
