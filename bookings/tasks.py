"""Celery tasks for bookings: thin wrappers that load nothing heavy and call one service."""

from __future__ import annotations

from celery import shared_task

from bookings.services import holds_release_expired
from bookings.services.consultations import tentative_holds_release_due


@shared_task(name="bookings.release_expired_holds")
def release_expired_holds() -> int:
    """Periodic (beat, every minute): free slots whose hold (``SLOT_HOLD_MINUTES``) ran out."""
    return holds_release_expired()


@shared_task(name="bookings.tentative_holds_release_due")
def release_tentative_treatments() -> int:
    """Periodic (beat, every 5 minutes): cancel tentative treatments that cannot be cleared."""
    return tentative_holds_release_due()


@shared_task(name="bookings.verifications_delete_old")
def delete_old_verifications() -> int:
    """Periodic (beat, hourly): drop phone verifications that no longer count for rate limits."""
    from bookings.services.verification import verifications_delete_old

    return verifications_delete_old()


@shared_task(name="bookings.retention_enforce")
def enforce_retention() -> dict[str, int]:
    """Nightly (beat): old verifications, and clinical records of clients erased more than
    CLINICAL_RECORD_RETENTION_DAYS ago."""
    from bookings.services.data_protection import retention_enforce

    return retention_enforce()
