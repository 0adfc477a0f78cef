"""Signed, expiring links for clients: manage a booking (``/b/<token>/``) without an account.

A token names one appointment and carries its own expiry (the day after the appointment ends),
so it reveals nothing else and stops working once the visit is over. A tampered token is
``NotFound``; a genuine but expired one is ``Gone``, so the page can say how to get a new link.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core import signing
from django.utils import timezone

from bookings.models import Appointment
from clinic.errors import Gone, NotFound

MANAGE_SALT = "bookings.manage"
MANAGE_GRACE = timedelta(days=1)


def manage_token_for(appointment: Appointment) -> str:
    expires_at = appointment.end_at + MANAGE_GRACE
    return signing.dumps(
        {"a": appointment.pk, "e": int(expires_at.timestamp())}, salt=MANAGE_SALT, compress=True
    )


def appointment_id_from_manage_token(token: str, *, now: datetime | None = None) -> int:
    """Return the appointment id a manage token names. Raises NotFound or Gone."""
    try:
        payload = signing.loads(token, salt=MANAGE_SALT)
        appointment_id, expires_epoch = int(payload["a"]), int(payload["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound(
            "This link is not valid. Please use the link from your latest message."
        ) from None
    now = now or timezone.now()
    if now.timestamp() > expires_epoch:
        raise Gone("This link has expired. Contact the clinic or book again to get a new one.")
    return appointment_id
