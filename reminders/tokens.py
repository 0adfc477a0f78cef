"""Signed, expiring care-page links (``/c/<token>/``).

The token names one appointment and carries its own expiry, so the link in an SMS opens the
full instructions for that visit only, and stops working some weeks after the visit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core import signing
from django.utils import timezone

from clinic.errors import Gone, NotFound
from clinic.links import link_token_for, link_token_read

CARE_SALT = "reminders.care"
# Aftercare and the rebook nudge run to about four weeks after the visit.
CARE_GRACE = timedelta(days=45)


def care_token_for(*, appointment_id: int, end_at: datetime) -> str:
    return link_token_for(salt=CARE_SALT, object_id=appointment_id, expires_at=end_at + CARE_GRACE)


def appointment_id_from_care_token(token: str, *, now: datetime | None = None) -> int:
    """Return the appointment id a care token names. Raises NotFound (tampered) or Gone
    (expired)."""
    try:
        appointment_id, expires_epoch = link_token_read(token, salt=CARE_SALT)
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("This link is not valid.") from None
    now = now or timezone.now()
    if now.timestamp() > expires_epoch:
        raise Gone("This link has expired. Please contact the clinic for your care instructions.")
    return appointment_id


RECALL_SALT = "reminders.recall"
# A recall page stays readable for as long as a client may come back to the notice.
RECALL_LINK_MAX_AGE = timedelta(days=365)


def recall_token_for(recipient_id: int) -> str:
    return signing.dumps({"r": recipient_id}, salt=RECALL_SALT, compress=True)


def recipient_id_from_recall_token(token: str) -> int:
    """Raises NotFound (tampered) or Gone (older than RECALL_LINK_MAX_AGE)."""
    try:
        payload = signing.loads(token, salt=RECALL_SALT, max_age=RECALL_LINK_MAX_AGE)
        return int(payload["r"])
    except signing.SignatureExpired:
        raise Gone("This link has expired. Please contact the clinic.") from None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("This link is not valid.") from None


EMAIL_UNSUBSCRIBE_SALT = "reminders.email-unsubscribe"


def email_unsubscribe_token_for(client_id: int) -> str:
    """The signed link in every email that stops emails to this client (no expiry: an old email
    must still unsubscribe)."""
    return signing.dumps({"u": client_id}, salt=EMAIL_UNSUBSCRIBE_SALT, compress=True)


def client_id_from_email_unsubscribe_token(token: str) -> int:
    """Raises NotFound for a tampered link."""
    try:
        return int(signing.loads(token, salt=EMAIL_UNSUBSCRIBE_SALT)["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("This link is not valid.") from None
