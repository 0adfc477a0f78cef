"""Clients: who books, how to reach them, and what they agreed to."""

from __future__ import annotations

import contextlib
from functools import cache, lru_cache
from typing import Any

import phonenumbers
from django.db import connection, transaction
from django.db.models import Field, Model
from django.utils import timezone

from bookings.models import Client
from clinic.db import column_list, first_row, placeholders
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


def phone_patterns_compile_for_locations() -> list[str]:
    """Compile the phone patterns of every active location's country, as validating a
    client's number there would (its example mobile number): phonenumbers compiles them on
    first use, tens of milliseconds in a worker's first booking. Returns the countries."""
    countries = sorted(
        set(Location.objects.filter(is_active=True).values_list("country", flat=True))
    )
    for country in countries:
        example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
        if example is None:
            continue
        # An example the rules refuse has still compiled them.
        with contextlib.suppress(ValidationFailed):
            normalise_phone(
                phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164),
                region=country,
            )
    return countries


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


def _client_locked_or_created(*, phone: str, defaults: dict[str, Any]) -> tuple[Client, bool]:
    """The client with ``phone``, locked until the transaction ends, or a new one made from
    ``defaults`` (and whether it is new).

    A known client costs one statement, a new one two. get_or_create needs four for a new one
    (the lookup, then a savepoint around the INSERT so that it can retry the lookup after losing
    the race on the unique phone); ``ON CONFLICT (phone) DO NOTHING`` makes losing that race an
    empty answer instead of an error, so no savepoint is needed. The INSERT of a loser waits
    for the winner's transaction, after which the lookup sees the winner's row."""
    existing = _client_locked(phone=phone)
    if existing is not None:
        return existing, False
    client = Client(phone=phone, **defaults)
    fields = _insert_fields()
    values = [field.get_db_prep_save(field.pre_save(client, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_insert_unless_phone_taken_sql(), values)
        inserted = cursor.fetchone()
    if inserted is None:
        raced = _client_locked(phone=phone)
        assert raced is not None  # the row whose phone stopped the INSERT is committed now
        return raced, False
    client.pk = inserted[0]
    client._state.adding = False
    client._state.db = connection.alias
    _mark_new_until_commit(client)
    return client, True


# Set on a client whose row the open transaction inserted, with the visits booked for them in
# it, and dropped when it commits. Until then nobody else can book for them: a second
# registration of the phone waits on this INSERT, then finds the committed row. So their only
# visits are the ones listed. (A rolled-back row keeps the mark, but its instance names no row
# and can book nothing.)
_NEW_IN_OPEN_TRANSACTION = "_registered_by_open_transaction"


def _mark_new_until_commit(client: Client) -> None:
    client.__dict__[_NEW_IN_OPEN_TRANSACTION] = []
    transaction.on_commit(lambda: client.__dict__.pop(_NEW_IN_OPEN_TRANSACTION, None))


def client_registered_here_with_no_visits(
    client: Model | None, *, besides: int | None = None
) -> bool:
    """Whether ``client`` was registered by the transaction still open and has no visit (other
    than ``besides``) booked in it: then they have none at all, and a first booking need not
    lock their calendar or count or look for their other visits."""
    booked = None if client is None else client.__dict__.get(_NEW_IN_OPEN_TRANSACTION)
    return booked is not None and all(visit == besides for visit in booked)


def client_note_visit(client: Model | None, *, appointment_id: int) -> None:
    """Every visit placed for a client registered by the open transaction is listed on them."""
    booked = None if client is None else client.__dict__.get(_NEW_IN_OPEN_TRANSACTION)
    if booked is not None and appointment_id not in booked:
        booked.append(appointment_id)


def _client_locked(*, phone: str) -> Client | None:
    return first_row(Client, _client_by_phone_locked_sql(), [phone])


@cache
def _client_by_phone_locked_sql() -> str:
    """Every booking looks its client up by phone: a fixed statement, because building the
    ORM's ``select_for_update().filter(phone=…).first()`` cost four times running it."""
    quote = connection.ops.quote_name
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return (
        f"SELECT {column_list(Client)} FROM {quote(Client._meta.db_table)}"  # noqa: S608 - names
        f" WHERE {quote(Client._meta.get_field('phone').column)} = %s{lock}"
    )


@cache
def _insert_fields() -> list[Field]:
    return [field for field in Client._meta.concrete_fields if not field.primary_key]


@cache
def _insert_unless_phone_taken_sql() -> str:
    """Every column of a new client (the values as a model save would write them); a phone
    already taken inserts nothing and returns no row. PostgreSQL and SQLite (3.35+) both
    read this text."""
    fields = _insert_fields()
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    return (
        f"INSERT INTO {Client._meta.db_table} ({columns})"  # noqa: S608 - fixed text
        f" VALUES ({placeholders(len(fields))})"
        f" ON CONFLICT ({connection.ops.quote_name(Client._meta.get_field('phone').column)})"
        f" DO NOTHING RETURNING {connection.ops.quote_name(Client._meta.pk.column)}"
    )


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
    # caller recovers from, and losing the race for a new phone is not an error (see below).
    with transaction.atomic(savepoint=False):
        client, created = _client_locked_or_created(
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
