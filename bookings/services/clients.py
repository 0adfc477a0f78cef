"""Clients: who books, how to reach them, and what they agreed to."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from django.db import transaction
from django.utils import timezone

from bookings.models import Client
from clinic.errors import ValidationFailed
from clinic.models import Location


def normalise_phone(raw: str, *, region: str = "GB") -> str:
    """Return ``raw`` as an E.164 mobile-capable number, reading local formats in ``region``.

    Raises ValidationFailed(field="phone") saying why the number was not accepted.
    """
    text = (raw or "").strip()
    if not text:
        raise ValidationFailed("Please enter your mobile number.", field="phone")
    return _normalised(text, region)


# A booking reads its phone twice (the proof's phone, then the client's) and parsing costs
# about 0.2 ms; an answer depends on nothing but the text and region. Refusals are not kept.
@lru_cache(maxsize=4096)
def _normalised(text: str, region: str) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationFailed(
            "That doesn't look like a phone number. Use digits, e.g. 07700 900123 or +44 7700 900123.",
            field="phone",
        ) from None
    length_problem = phonenumbers.is_possible_number_with_reason(number) in (
        phonenumbers.ValidationResult.TOO_SHORT,
        phonenumbers.ValidationResult.TOO_LONG,
        phonenumbers.ValidationResult.INVALID_LENGTH,
        phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    )
    if length_problem:
        raise ValidationFailed("That number has the wrong number of digits.", field="phone")
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(
            "That number isn't a valid phone number for its country.", field="phone"
        )
    kind = phonenumbers.number_type(number)
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        phonenumbers.PhoneNumberType.UNKNOWN,
    ):
        raise ValidationFailed(
            "Please give a mobile number: we send your reminders by text.", field="phone"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def client_register(
    *,
    first_name: str,
    last_name: str = "",
    phone: str,
    email: str = "",
    sms_consent: bool,
    consent_wording: str = "",
    consent_method: str = "online_form",
    email_consent: bool = False,
    email_consent_wording: str = "",
    location: Location | None = None,
    phone_verified: bool = False,
) -> Client:
    """Find the client by phone or create them; record SMS consent, and email consent (for the
    email given now, or the one on file), if given now.

    An existing client's name is not overwritten (a typo online must not rename a known client);
    an email is added if they had none. Raises ValidationFailed naming the field.
    """
    first_name = (first_name or "").strip()
    if not first_name:
        raise ValidationFailed("Please enter your first name.", field="first_name")
    if len(first_name) > 80 or len(last_name or "") > 80:
        raise ValidationFailed("Names can be at most 80 characters.", field="first_name")
    e164 = normalise_phone(phone, region=location.country if location else "GB")
    now = timezone.now()
    consent = {}
    if sms_consent:
        consent = {
            "sms_consent_at": now,
            "sms_consent_method": consent_method,
            "sms_consent_wording": consent_wording,
            "sms_opted_out_at": None,
        }
    if (
        email_consent
        and not (email or "").strip()
        and not Client.objects.filter(phone=e164).exclude(email="").exists()
    ):
        raise ValidationFailed("Enter an email address to be emailed.", field="email")
    if email_consent:
        consent.update(
            {
                "email_consent_at": now,
                "email_consent_method": consent_method,
                "email_consent_wording": email_consent_wording,
                "email_opted_out_at": None,
            }
        )
    verified = {"phone_verified_at": now} if phone_verified else {}
    # No savepoint of its own inside a caller's transaction: nothing in here raises an error a
    # caller recovers from (get_or_create keeps its own savepoint for the race it retries).
    with transaction.atomic(savepoint=False):
        # A new client is created with everything at once (one INSERT); get_or_create retries
        # the lookup itself when two first bookings from one phone race on the unique phone.
        client, created = Client.objects.select_for_update().get_or_create(
            phone=e164,
            defaults={
                "first_name": first_name,
                "last_name": (last_name or "").strip(),
                "email": (email or "").strip(),
                "preferred_location": location,
                **consent,
                **verified,
            },
        )
        if created:
            return client
        changed: list[str] = []
        if email and not client.email:
            client.email = email.strip()
            changed.append("email")
        sms_fields = [field for field in consent if field.startswith("sms_")]
        if sms_fields and (client.sms_consent_at is None or client.sms_opted_out_at is not None):
            for field in sms_fields:
                setattr(client, field, consent[field])
            changed += sms_fields
        email_fields = [field for field in consent if field.startswith("email_")]
        if email_fields and (
            client.email_consent_at is None or client.email_opted_out_at is not None
        ):
            for field in email_fields:
                setattr(client, field, consent[field])
            changed += email_fields
        if verified:
            client.phone_verified_at = now
            changed.append("phone_verified_at")
        if changed:
            client.save(update_fields=[*changed, "updated_at"])
    return client
