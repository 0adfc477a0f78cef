"""Phone verification: a client proves they hold a phone by typing back a 6-digit code.

Clients have no password, so this code is what stands between a stranger and someone else's
bookings and texts. The code is stored only as a keyed hash, lives 10 minutes, allows 5 tries,
and sending is rate limited per phone and per IP with a cool-down between resends (each code is
a paid SMS and a possible nuisance to whoever owns the number). A correct code yields a signed,
short-lived verification token that the booking API and site accept as proof of the phone.
"""

from __future__ import annotations

import logging
import math
import secrets
from datetime import datetime, timedelta

from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from bookings.models import PhoneVerification
from bookings.services.clients import normalise_phone
from bookings.signals import phone_verification_requested
from clinic.db import lock_for_transaction
from clinic.errors import ApplicationError, Gone, NotFound, ValidationFailed
from clinic.models import Location

logger = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(minutes=10)
RESEND_COOL_DOWN = timedelta(seconds=60)
RATE_WINDOW = timedelta(hours=1)
MAX_CODES_PER_PHONE = 5  # per RATE_WINDOW
MAX_CODES_PER_IP = 20  # per RATE_WINDOW; a clinic's shared wifi may book for several people
TOKEN_LIFETIME = timedelta(minutes=30)
TOKEN_SALT = "bookings.phone-verification"  # noqa: S105 - a signing namespace, not a secret
HASH_SALT = "bookings.phone-verification-code"


class VerificationRateLimited(ApplicationError):
    """Too many codes requested for this phone or from this address, or a resend too soon."""

    code = "rate_limited"
    status = 429


class VerificationRequired(ApplicationError):
    """An anonymous booking arrived without proof of the phone."""

    code = "verification_required"
    status = 401


class VerificationInvalid(ValidationFailed):
    """The verification token is malformed, expired, or for another phone."""

    code = "verification_invalid"
    status = 422


def _code_hash(*, phone: str, code: str) -> str:
    # Keyed with SECRET_KEY: a 6-digit code has only a million values, so a plain hash would
    # be reversed instantly by anyone holding a database copy.
    return salted_hmac(HASH_SALT, f"{phone}:{code}", algorithm="sha256").hexdigest()


def _normalised(phone: str, *, location: Location | None) -> str:
    return normalise_phone(phone, region=location.country if location else "GB")


@transaction.atomic(durable=True)
def verification_start(
    *, phone: str, ip: str | None, location: Location | None = None, now: datetime | None = None
) -> PhoneVerification:
    """Create a verification for ``phone`` and send its code by SMS (through the
    ``phone_verification_requested`` signal, whose receiver writes the outbox row in this
    transaction).

    Raises ValidationFailed(field="phone") for a number that is not a valid mobile, and
    VerificationRateLimited (429, ``extra={"retry_after": seconds}``) when the phone asked for a
    code less than a minute ago, or the phone or IP asked for too many codes this hour.
    """
    now = now or timezone.now()
    phone = _normalised(phone, location=location)

    # The limit checks and the insert must not interleave for one phone: on PostgreSQL an
    # advisory lock per phone serialises them; SQLite's BEGIN IMMEDIATE already does.
    with transaction.atomic():
        lock_for_transaction(f"verification:{phone}")
        window_start = now - RATE_WINDOW
        recent_for_phone = PhoneVerification.objects.filter(
            phone=phone, created_at__gt=window_start
        )
        latest = recent_for_phone.order_by("-created_at").first()
        if latest is not None and latest.created_at > now - RESEND_COOL_DOWN:
            wait = max(1, math.ceil((latest.created_at + RESEND_COOL_DOWN - now).total_seconds()))
            raise VerificationRateLimited(
                f"We have just sent you a code. You can ask for another one in {wait} seconds.",
                field="phone",
                extra={"retry_after": wait},
            )
        if recent_for_phone.count() >= MAX_CODES_PER_PHONE:
            raise VerificationRateLimited(
                "We have sent several codes to this number already. Please try again in an hour, "
                "or call the clinic.",
                field="phone",
                extra={"retry_after": int(RATE_WINDOW.total_seconds())},
            )
        if (
            ip
            and PhoneVerification.objects.filter(ip=ip, created_at__gt=window_start).count()
            >= MAX_CODES_PER_IP
        ):
            raise VerificationRateLimited(
                "Too many codes have been requested from this connection. Please try again later, "
                "or call the clinic.",
                field="phone",
                extra={"retry_after": int(RATE_WINDOW.total_seconds())},
            )

        code = f"{secrets.randbelow(10**6):06d}"
        verification = PhoneVerification.objects.create(
            phone=phone,
            code_hash=_code_hash(phone=phone, code=code),
            location=location,
            ip=ip or None,
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        phone_verification_requested.send(
            sender=PhoneVerification, phone=phone, code=code, location=location
        )
    logger.info("verification started", extra={"verification_id": verification.pk})
    return verification


def verification_check(*, verification_id: int, code: str, now: datetime | None = None) -> str:
    """Check ``code`` against the verification and return a signed verification token valid
    for 30 minutes.

    Raises NotFound for an unknown id; Gone when the code has expired, was already used, or
    the 5 attempts are spent; ValidationFailed(field="code") for a wrong code (the attempt is
    counted and the message says how many tries are left).
    """
    now = now or timezone.now()
    code = "".join(code.split())
    # The attempt counter must persist even when the code is wrong, so the row is locked and
    # updated in a committed transaction and the error raised only afterwards.
    with transaction.atomic():
        verification = (
            PhoneVerification.objects.select_for_update().filter(pk=verification_id).first()
        )
        if verification is None:
            raise NotFound("We could not find that code request. Please ask for a new code.")
        if verification.verified_at is not None:
            raise Gone("This code has already been used. Please ask for a new one.")
        if verification.expires_at <= now:
            raise Gone("This code has expired. Please ask for a new one.")
        if verification.attempts >= PhoneVerification.MAX_ATTEMPTS:
            raise Gone("Too many wrong tries for this code. Please ask for a new one.")
        is_correct = code.isdigit() and constant_time_compare(
            verification.code_hash, _code_hash(phone=verification.phone, code=code)
        )
        verification.attempts += 1
        if is_correct:
            verification.verified_at = now
        verification.save(update_fields=["attempts", "verified_at"])

    if not is_correct:
        left = verification.attempts_left
        if left == 0:
            raise Gone("That code is not right, and it was the last try. Please ask for a new one.")
        tries = "try" if left == 1 else "tries"
        raise ValidationFailed(
            f"That code is not right. Please check the text we sent you ({left} {tries} left).",
            field="code",
            extra={"attempts_left": left},
        )
    logger.info("verification succeeded", extra={"verification_id": verification.pk})
    return verification_token_for(verification=verification)


def verification_token_for(*, verification: PhoneVerification) -> str:
    """The signed token proving ``verification.phone`` (for a verification already checked)."""
    if verification.verified_at is None:
        raise ValidationFailed("This phone has not been verified yet.", field="code")
    return signing.dumps({"v": verification.pk, "p": verification.phone}, salt=TOKEN_SALT)


def verification_token_validate(*, token: str | None, phone: str) -> None:
    """Check that ``token`` proves ``phone`` (E.164) and is under 30 minutes old.

    Raises VerificationRequired (401) when there is no token, and VerificationInvalid (422)
    when it is tampered with, expired, or was issued for a different phone.
    """
    if not token:
        raise VerificationRequired(
            "Please verify your phone number first: request a code with POST "
            f"{reverse('api:create_verification')} and send the token from its check as "
            "verification_token.",
            field="verification_token",
        )
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=int(TOKEN_LIFETIME.total_seconds()))
    except signing.SignatureExpired:
        raise VerificationInvalid(
            "Your phone verification has expired. Please ask for a new code.",
            field="verification_token",
        ) from None
    except signing.BadSignature:
        raise VerificationInvalid(
            "This verification token is not valid. Please verify your phone again.",
            field="verification_token",
        ) from None
    if not isinstance(payload, dict) or payload.get("p") != phone:
        raise VerificationInvalid(
            "This verification was for a different phone number. Please verify this number.",
            field="verification_token",
        )


def verifications_delete_old(*, now: datetime | None = None) -> int:
    """Delete verifications older than the rate-limit window (they no longer count towards any
    limit and their codes expired long ago). Returns how many were deleted. Meant for a daily
    periodic task."""
    now = now or timezone.now()
    deleted, _ = PhoneVerification.objects.filter(created_at__lt=now - RATE_WINDOW).delete()
    return deleted
