"""Thin tasks: load by id, call a service."""

from __future__ import annotations

from celery import shared_task

from payments.services import reconcile
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
