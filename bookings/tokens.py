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
from clinic.links import link_token_for, link_token_read

MANAGE_SALT = "bookings.manage"
MANAGE_GRACE = timedelta(days=1)


def manage_token_for(appointment: Appointment) -> str:
    return link_token_for(
        salt=MANAGE_SALT, object_id=appointment.pk, expires_at=appointment.end_at + MANAGE_GRACE
    )


def appointment_id_from_manage_token(token: str, *, now: datetime | None = None) -> int:
    """Return the appointment id a manage token names. Raises NotFound or Gone."""
    try:
        appointment_id, expires_epoch = link_token_read(token, salt=MANAGE_SALT)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound(
            "This link is not valid. Please use the link from your latest message."
        ) from None
    now = now or timezone.now()
    if now.timestamp() > expires_epoch:
        raise Gone("This link has expired. Contact the clinic or book again to get a new one.")
    return appointment_id


DATA_EXPORT_SALT = "bookings.data-export"
DATA_EXPORT_LINK_LIFETIME = timedelta(hours=24)


def data_export_token_for(*, request_id: int, client_id: int) -> str:
    """The token of the link texted to a client who asked for their data (``/my-data/<token>/``).
    It names the request and nothing else, lives 24 hours and is signed for this purpose only;
    the page behind it still asks for a fresh code to the client's phone."""
    return signing.dumps({"r": request_id, "c": client_id}, salt=DATA_EXPORT_SALT)


def data_export_request_from_token(token: str) -> tuple[int, int]:
    """Return ``(request_id, client_id)`` named by a data-export token. Raises NotFound for a
    tampered token (or a token made for another purpose) and Gone for an expired one."""
    try:
        payload = signing.loads(
            token, salt=DATA_EXPORT_SALT, max_age=int(DATA_EXPORT_LINK_LIFETIME.total_seconds())
        )
        return int(payload["r"]), int(payload["c"])
    except signing.SignatureExpired:
        raise Gone(
            "This link has expired. Ask for a copy of your data again from your booking page."
        ) from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound(
            "This link is not valid. Please use the link from your latest text."
        ) from None
