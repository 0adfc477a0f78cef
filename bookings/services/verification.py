"""Phone verification: a client proves they hold a phone by typing back a 6-digit code.

Clients have no password, so this code is what stands between a stranger and someone else's
bookings and texts. The code is stored only as a keyed hash, lives 10 minutes, allows 5 tries,
and sending is rate limited per phone and per IP with a cool-down between resends (each code is
a paid SMS and a possible nuisance to whoever owns the number). A correct code yields a signed,
short-lived verification token that the booking API and site accept as proof of the phone, for
one booking only.

Against SMS pumping (fraudsters requesting codes to premium-rate numbers abroad and sharing the
operator's fee): codes go only to the countries a location allows (default its own), and the
whole service sends at most ``VERIFICATION_SMS_PER_HOUR`` codes an hour; hitting that budget
stops codes for everyone and alerts the managers once an hour.

A verification is named by an unguessable ``handle`` and bound to the browser session that
asked (``requester``), so a stranger can neither guess it nor spend its tries; a new code for
the same phone and requester supersedes the earlier ones.
"""

from __future__ import annotations

import logging
import math
import secrets
from datetime import datetime, timedelta
from functools import cache
from typing import cast

import phonenumbers
from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import Field
from django.db.transaction import TransactionManagementError
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from bookings.models import Appointment, PhoneVerification
from bookings.services.clients import normalise_phone
from bookings.signals import phone_verification_requested, verification_budget_exhausted
from clinic.db import column_list, first_row, lock_for_transaction
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
REQUESTER_SALT = "bookings.verification-requester"


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


def verification_requester_for(*, session_key: str | None) -> str:
    """The binding stored for a verification asked for from a browser session (a keyed hash, so
    the database never holds a usable session key). Empty for callers without a session."""
    if not session_key:
        return ""
    return salted_hmac(REQUESTER_SALT, session_key, algorithm="sha256").hexdigest()


def _allowed_countries(location: Location | None) -> frozenset[str]:
    if location is not None:
        return location.sms_country_codes
    codes: set[str] = set()
    for active in Location.objects.filter(is_active=True):
        codes |= active.sms_country_codes
    return frozenset(codes or {"GB"})


def _check_country(*, phone: str, location: Location | None) -> None:
    # Compared by calling code: +44 covers GB and the Channel Islands, +1 the whole North
    # American plan, which share numbering and prices.
    allowed = {phonenumbers.country_code_for_region(code) for code in _allowed_countries(location)}
    if phonenumbers.parse(phone).country_code not in allowed:
        raise ValidationFailed(
            "We can only send codes to mobile numbers in the countries this clinic serves. "
            "Please use another number or call the clinic.",
            field="phone",
            extra={"reason": "country_not_allowed"},
        )


def verification_start(
    *,
    phone: str,
    ip: str | None,
    location: Location | None = None,
    requester: str = "",
    now: datetime | None = None,
) -> PhoneVerification:
    """Create a verification for ``phone`` and send its code by SMS (through the
    ``phone_verification_requested`` signal, whose receiver writes the outbox row in this
    transaction). Earlier pending codes for the same phone and ``requester`` (see
    ``verification_requester_for``; for API callers, the same address) stop working.

    Raises ValidationFailed(field="phone") for a number that is not a valid mobile or is in a
    country the location does not allow, and VerificationRateLimited (429,
    ``extra={"retry_after": seconds}``) when the phone asked for a code less than a minute ago,
    the phone or IP asked for too many codes this hour, or the service's hourly budget of codes
    is spent (which alerts the managers through ``verification_budget_exhausted``).
    """
    now = now or timezone.now()
    phone = _normalised(phone, location=location)
    _check_country(phone=phone, location=location)

    with transaction.atomic(durable=True):
        refusal = _verification_refusal(phone=phone, ip=ip, now=now)
        if refusal is None:
            verification = _verification_create(
                phone=phone, ip=ip, location=location, requester=requester, now=now
            )
    # Raised after commit so that the budget alert planned above is kept.
    if refusal is not None:
        raise refusal
    logger.info("verification started", extra={"verification_id": verification.pk})
    return verification


def _verification_refusal(
    *, phone: str, ip: str | None, now: datetime
) -> VerificationRateLimited | None:
    """Raise for a per-phone or per-address limit; return the refusal (after announcing it) when
    the service-wide budget is spent, so the caller commits the alert before refusing."""
    # The limit checks and the insert must not interleave for one phone: on PostgreSQL an
    # advisory lock per phone serialises them; SQLite's BEGIN IMMEDIATE already does.
    lock_for_transaction(f"verification:{phone}")
    window_start = now - RATE_WINDOW
    recent_for_phone = PhoneVerification.objects.filter(phone=phone, created_at__gt=window_start)
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
    # One lock for the whole service (taken after the phone's, always in that order) keeps the
    # hourly budget exact under concurrent requests; the transactions it queues are tiny.
    lock_for_transaction("verification:budget")
    budget = settings.VERIFICATION_SMS_PER_HOUR
    sent_this_hour = PhoneVerification.objects.filter(created_at__gt=window_start).count()
    if sent_this_hour >= budget:
        logger.warning("verification budget exhausted", extra={"budget": budget})
        verification_budget_exhausted.send(
            sender=PhoneVerification, budget=budget, window_started_at=window_start
        )
        return VerificationRateLimited(
            "We cannot send codes right now. Please try again later, or call the clinic to book.",
            field="phone",
            extra={"retry_after": int(RATE_WINDOW.total_seconds()), "reason": "budget"},
        )
    return None


def _verification_create(
    *, phone: str, ip: str | None, location: Location | None, requester: str, now: datetime
) -> PhoneVerification:
    earlier = PhoneVerification.objects.filter(
        phone=phone, verified_at__isnull=True, superseded_at__isnull=True, expires_at__gt=now
    )
    earlier = earlier.filter(requester=requester) if requester else earlier.filter(ip=ip)
    earlier.update(superseded_at=now)
    code = f"{secrets.randbelow(10**6):06d}"
    verification = PhoneVerification.objects.create(
        phone=phone,
        code_hash=_code_hash(phone=phone, code=code),
        location=location,
        ip=ip or None,
        requester=requester,
        created_at=now,
        expires_at=now + CODE_LIFETIME,
    )
    phone_verification_requested.send(
        sender=PhoneVerification, phone=phone, code=code, location=location
    )
    return verification


def verification_check(
    *, handle: str, code: str, requester: str = "", now: datetime | None = None
) -> str:
    """Check ``code`` against the verification named by ``handle`` (asked for by
    ``requester``) and return a signed verification token valid for 30 minutes.

    Raises NotFound for an unknown handle or one another browser session asked for; Gone when
    the code has expired, was replaced by a newer one, was already used, or the 5 attempts are
    spent; ValidationFailed(field="code") for a wrong code (the attempt is counted and the
    message says how many tries are left).
    """
    now = now or timezone.now()
    code = "".join(code.split())
    # The attempt counter must persist even when the code is wrong, so the row is locked and
    # updated in a committed transaction and the error raised only afterwards.
    with transaction.atomic():
        verification = (
            PhoneVerification.objects.select_for_update().filter(handle=handle or "-").first()
        )
        if verification is None or (
            verification.requester and not constant_time_compare(verification.requester, requester)
        ):
            raise NotFound("We could not find that code request. Please ask for a new code.")
        if verification.verified_at is not None:
            raise Gone("This code has already been used. Please ask for a new one.")
        if verification.superseded_at is not None:
            raise Gone("We sent you a newer code. Please use the code from the latest text.")
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


@cache
def _redeemable_sql() -> str:
    """The verified row a token names, locked (where the database locks rows): every
    anonymous booking reads it, and building the ORM query cost several times running it."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return (
        f"SELECT {column_list(PhoneVerification)} FROM {PhoneVerification._meta.db_table}"  # noqa: S608
        f" WHERE id = %s AND phone = %s AND verified_at IS NOT NULL{lock}"
    )


def verification_token_redeem(
    *, token: str | None, phone: str, now: datetime | None = None
) -> PhoneVerification:
    """Check that ``token`` proves ``phone`` (E.164), is under 30 minutes old and has not been
    spent, and lock it for spending. Call inside the booking's transaction and then
    ``verification_mark_used`` (which writes the spending): a booking that fails rolls it back,
    so the client can try another time with the same proof.

    Raises VerificationRequired (401) when there is no token, and VerificationInvalid (422)
    when it is tampered with, expired, already used for a booking, or for a different phone.
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
    if connection.features.has_select_for_update and connection.get_autocommit():
        # As the ORM's select_for_update: a lock outside a transaction would end at once.
        raise TransactionManagementError(
            "select_for_update cannot be used outside of a transaction."
        )
    verification = first_row(
        PhoneVerification, _redeemable_sql(), [int(payload.get("v") or 0), phone]
    )
    if verification is None or verification.used_at is not None:
        raise VerificationInvalid(
            "This verification has already been used for a booking. Please verify your phone "
            "again to make another booking.",
            field="verification_token",
        )
    # The row stays locked (FOR UPDATE) until the transaction ends, so a second redemption of
    # this token waits and then sees it spent; verification_mark_used writes the spending and
    # the booking in one UPDATE.
    verification.used_at = now or timezone.now()
    return verification


def verification_mark_used(
    *, verification: PhoneVerification, appointment: Appointment
) -> PhoneVerification:
    """Spend a redeemed verification on ``appointment`` (see ``verification_token_redeem``),
    in the same transaction."""
    if verification.used_at is None:
        verification.used_at = timezone.now()
    verification.used_for = appointment
    # An UPDATE of the two fields, as save(update_fields=...) writes (nothing listens for
    # this model's save signals): a fixed statement, as building the ORM's update cost
    # several times running it.
    with connection.cursor() as cursor:
        cursor.execute(
            _mark_used_sql(),
            [
                connection.ops.adapt_datetimefield_value(verification.used_at),
                appointment.pk,
                verification.pk,
            ],
        )
    return verification


@cache
def _mark_used_sql() -> str:
    quote = connection.ops.quote_name
    used_at, used_for = (
        quote(cast("Field", PhoneVerification._meta.get_field(name)).column)
        for name in ("used_at", "used_for")
    )
    return (
        f"UPDATE {quote(PhoneVerification._meta.db_table)}"  # noqa: S608 - names from the model
        f" SET {used_at} = %s, {used_for} = %s"
        f" WHERE {quote(PhoneVerification._meta.pk.column)} = %s"
    )


def verifications_delete_old(*, now: datetime | None = None) -> int:
    """Delete verifications older than the rate-limit window (they no longer count towards any
    limit and their codes expired long ago). Returns how many were deleted. Meant for a daily
    periodic task."""
    now = now or timezone.now()
    deleted, _ = PhoneVerification.objects.filter(created_at__lt=now - RATE_WINDOW).delete()
    return deleted
