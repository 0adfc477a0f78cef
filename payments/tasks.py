"""Thin tasks: load by id, call a service."""

from __future__ import annotations

from celery import shared_task

from payments.services import reconcile
from payments.services.data_protection import stripe_customer_delete
from payments.services.deposits import deposits_abandon_expired
from payments.services.refunds import refund_send


@shared_task(name="payments.send_refund")
def send_refund(refund_id: int) -> str:
    return refund_send(refund_id=refund_id).status


@shared_task(name="payments.abandon_expired_deposits")
def abandon_expired_deposits() -> int:
    """Periodic (beat, every minute): cancel the intents of deposits whose hold ran out."""
    return deposits_abandon_expired()


@shared_task(name="payments.reconcile")
def reconcile_with_stripe() -> int:
    """Daily (beat): compare our rows with Stripe's records; returns the mismatches found."""
    return reconcile.payments_reconcile()


@shared_task(
    name="payments.delete_stripe_customer",
    autoretry_for=(Exception,),
    retry_backoff=60,
    max_retries=10,
)
def delete_stripe_customer(customer_id: str, card_id: str) -> None:
    """After an erasure commits: remove the saved card and the customer at Stripe (ids only)."""
    stripe_customer_delete(customer_id=customer_id, card_id=card_id)
