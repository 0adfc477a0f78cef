"""Clients registered by staff (a phone call or the front desk)."""

from __future__ import annotations

import logging
from datetime import date

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from bookings import access
from bookings.models import Client, ClientChange, HealthDataAccess
from bookings.services.clients import client_register
from bookings.services.health_data import health_data_access_record
from clinic import roles
from clinic.errors import ValidationFailed
from clinic.models import Location
from clinic.roles import Actor

logger = logging.getLogger(__name__)

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


MAX_ALERT_CHARS = 500

STAFF_EMAIL_CONSENT_WORDING = (
    "The client agreed (to staff) that the clinic may email their confirmations and aftercare "
    "advice, and use email when a text cannot reach them. No marketing. Every email has an "
    "unsubscribe link."
)

EDITABLE_FIELDS = ("first_name", "last_name", "email", "date_of_birth", "notes", "alert")
OLDEST_AGE_YEARS = 120


@transaction.atomic
def client_update_by_staff(
    *,
    actor: Actor,
    client: Client,
    first_name: str,
    last_name: str = "",
    email: str = "",
    date_of_birth: str | date | None = None,
    notes: str = "",
    alert: str | None = None,
    email_consent: bool | None = None,
) -> Client:
    """Change a client's name, email, date of birth, desk notes and alert, and record who
    changed what from what (a ``ClientChange`` row) when anything changed. The phone number is
    the client's identity for texts and codes and is not changed here.

    ``email_consent`` (None = leave as it is): True records that the client agreed to email,
    to staff (method ``staff``, with the wording read out); False records that they withdrew it
    (like the unsubscribe link). Email consent needs an email address.

    Raises PermissionDenied for non-staff and ValidationFailed naming the field; nothing is
    saved when any field is wrong."""
    roles.require_role(actor, *roles.ALL_ROLES)
    first_name, last_name = first_name.strip(), last_name.strip()
    email, notes = email.strip(), notes.strip()
    if not first_name:
        raise ValidationFailed("Enter the client's first name.", field="first_name")
    if len(first_name) > 80 or len(last_name) > 80:
        raise ValidationFailed(
            "Names can be up to 80 characters.",
            field="first_name" if len(first_name) > 80 else "last_name",
        )
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            raise ValidationFailed(
                "Enter an email address like name@example.com.", field="email"
            ) from None
    if alert is not None:
        # The clinical alert is health data: None leaves it as it is (reception's form has no
        # such field), a value needs a clinical role (bookings.access).
        alert = alert.strip()
        if alert != client.alert:
            access.check_clinical_alert_change(actor=actor, client=client)
        if len(alert) > MAX_ALERT_CHARS:
            raise ValidationFailed(
                f"Keep the alert under {MAX_ALERT_CHARS} characters.", field="alert"
            )
    if email_consent and not email:
        raise ValidationFailed(
            "Enter the client's email address before ticking that they agreed to email.",
            field="email",
        )
    birthday = _parse_birthday(date_of_birth)
    wanted = {
        "first_name": first_name,
        "last_name": last_name,
        "email": email,
        "date_of_birth": birthday,
        "notes": notes,
    }
    if alert is not None:
        wanted["alert"] = alert
    locked = Client.objects.select_for_update().get(pk=client.pk)
    changes = {
        # The history shows that the clinical alert changed, never what it said.
        name: ["", ""] if name == "alert" else [_plain(getattr(locked, name)), _plain(value)]
        for name, value in wanted.items()
        if getattr(locked, name) != value
    }
    consent_fields: list[str] = []
    if (
        email_consent is not None
        and email_consent != locked.can_receive_email
        and (email_consent or locked.email_consent_at is not None)
    ):
        changes["email_consent"] = [
            "agreed" if locked.can_receive_email else "not agreed",
            "agreed" if email_consent else "withdrawn",
        ]
        now = timezone.now()
        if email_consent:
            locked.email_consent_at = now
            locked.email_consent_method = "staff"
            locked.email_consent_wording = STAFF_EMAIL_CONSENT_WORDING
            locked.email_opted_out_at = None
            consent_fields = [
                "email_consent_at",
                "email_consent_method",
                "email_consent_wording",
                "email_opted_out_at",
            ]
        else:
            locked.email_opted_out_at = now
            consent_fields = ["email_opted_out_at"]
    if not changes:
        return locked
    for name, value in wanted.items():
        setattr(locked, name, value)
    locked.save(update_fields=[*wanted, *consent_fields, "updated_at"])
    if "alert" in changes:
        health_data_access_record(
            actor=actor,
            action=HealthDataAccess.Action.CHANGE,
            record=f"client-alert:{locked.pk}",
            fields=["alert"],
            client_id=locked.pk,
            via="staff",
        )
    ClientChange.objects.create(
        client=locked,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=roles.actor_label(actor),
        changes=changes,
    )
    # Field names only: the values are personal details.
    logger.info("client updated", extra={"client_id": locked.pk, "fields": sorted(changes)})
    return locked


def _parse_birthday(value: str | date | None) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        birthday = value
    else:
        try:
            birthday = date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationFailed(
                "Enter the date of birth as a date, e.g. 1990-04-21.", field="date_of_birth"
            ) from None
    today = timezone.localdate()
    if birthday > today:
        raise ValidationFailed("The date of birth cannot be in the future.", field="date_of_birth")
    if birthday.year < today.year - OLDEST_AGE_YEARS:
        raise ValidationFailed("Check the year of birth.", field="date_of_birth")
    return birthday


def _plain(value) -> str:
    return value.isoformat() if isinstance(value, date) else str(value or "")
