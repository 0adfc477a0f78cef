"""Celery tasks for the waitlist: thin, idempotent, take ids."""

from __future__ import annotations

from celery import shared_task

from waitlist.services import entries_expire, freed_time_process, offers_sweep


@shared_task(name="waitlist.freed_time_process")
def freed_time_process_task(freed_time_id: int) -> int | None:
    """Make a freed time's next offer (after commit, and again at the live offer's expiry)."""
    offer = freed_time_process(freed_time_id=freed_time_id)
    return offer.pk if offer is not None else None


@shared_task(name="waitlist.offers_sweep")
def sweep_offers() -> int:
    """Periodic (beat, every minute): expired offers move on, waits that are over resume."""
    return offers_sweep()


@shared_task(name="waitlist.entries_expire")
def expire_entries() -> int:
    """Periodic (beat, hourly): entries whose last date has passed expire."""
    return entries_expire()
