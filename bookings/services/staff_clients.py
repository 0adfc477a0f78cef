"""Clients registered by staff (a phone call or the front desk)."""

from __future__ import annotations

from bookings.models import Client
from bookings.services.clients import client_register
from clinic import roles
from clinic.models import Location
from clinic.roles import Actor

# What reception reads out before ticking "agreed to texts"; stored with the consent.
STAFF_PHONE_CONSENT_WORDING = (
    "We'll text you about your appointments: confirmations, reminders and aftercare. "
    "Reply STOP at any time to stop them."
)


def client_register_by_staff(
    *,
    actor: Actor,
    first_name: str,
    last_name: str = "",
    phone: str,
    email: str = "",
    sms_consent: bool,
    location: Location | None = None,
) -> Client:
    """Register (or find by phone) a client on the phone; consent, if the client agreed, is
    recorded as method ``staff_phone`` with the wording read out.

    Raises PermissionDenied for non-staff and ValidationFailed naming the field."""
    roles.require_role(actor, *roles.ALL_ROLES)
    return client_register(
        first_name=first_name,
        last_name=last_name,
        phone=phone,
        email=email,
        sms_consent=sms_consent,
        consent_wording=STAFF_PHONE_CONSENT_WORDING if sms_consent else "",
        consent_method="staff_phone",
        location=location,
    )
