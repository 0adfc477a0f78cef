"""Email as a second channel of the outbox.

Email rows are ``Message`` rows like texts (``channel="email"``): planned in the same
transaction, claimed and sent by the same dispatcher, tracked through the same statuses. They
exist in two ways:

- a *twin*: for the categories in ``EMAIL_ALSO_CATEGORIES`` (the confirmation and the aftercare
  text with the care-page link) a client who gave an address and agreed to email gets the same
  text by email too, planned next to the SMS row;
- a *fallback*: a care message whose SMS could not reach the client (a permanent Twilio error
  such as a landline, or the client opted out of SMS only) is planned once as an email row
  pointing at the failed SMS (``fallback_of``, unique: a callback arriving twice makes one email).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.models import Client
from clinic.db import new_row
from clinic.models import Location
from reminders.channels import (
    SMS_UNREACHABLE_CODES,
    SMS_UNREACHABLE_REASONS,
    sms_unreachable_reason,
)
from reminders.models import EMAIL_FALLBACK_CATEGORIES, Message
from reminders.protocol import DEFAULT_EMAIL_SUBJECT, EMAIL_SUBJECTS
from reminders.rendering import OPT_OUT_LINE

logger = logging.getLogger(__name__)

Status = Message.Status


def email_subject_for(*, category: str, location: Location | None) -> str:
    clinic = location.name if location is not None else "Aftercare"
    return EMAIL_SUBJECTS.get(category, DEFAULT_EMAIL_SUBJECT).format(clinic=clinic)


def email_blocked_reason(client: Client | None) -> str:
    """Why no email may go to ``client``; empty when it may."""
    if client is None or not client.email:
        return "The client has no email address"
    if client.email_consent_at is None:
        return "The client has not agreed to email"
    if client.email_opted_out_at is not None:
        return "The client unsubscribed from email"
    return ""


def email_twin_of(*, sms: Message, client: Client, location: Location | None) -> Message:
    """An unsaved email row carrying the same text as ``sms`` (same rule, version, due time
    and planned status); ``location`` is the text's (named in the subject)."""
    return new_row(
        Message,
        appointment_id=sms.appointment_id,
        client_id=client.pk,
        location_id=sms.location_id,
        rule_id=sms.rule_id,
        category=sms.category,
        channel=Message.Channel.EMAIL,
        to=client.email,
        subject=email_subject_for(category=sms.category, location=location),
        body=sms.body,
        due_at=sms.due_at,
        status=sms.status,
        status_reason=sms.status_reason,
        appointment_version=sms.appointment_version,
    )


def _body_without_sms_footer(body: str) -> str:
    suffix = f" {OPT_OUT_LINE}"
    return body[: -len(suffix)] if body.endswith(suffix) else body


def message_plan_email_fallback(
    *, sms: Message, why: str, now: datetime | None = None
) -> Message | None:
    """Plan the email that replaces a care text which could not reach the client. Returns the
    new row, or None when none is due: not a care category, not SMS, no email or no consent,
    an email of the same message already exists, or this SMS already has its fallback.

    Due when the text was due (so staleness, quiet hours and "before the visit" are judged as
    for the text); the dispatcher sends it at once if that time has passed."""
    now = now or timezone.now()
    if sms.channel != Message.Channel.SMS or sms.category not in EMAIL_FALLBACK_CATEGORIES:
        return None
    client = Client.objects.filter(pk=sms.client_id).first() if sms.client_id else None
    if client is None or email_blocked_reason(client):
        return None
    if Message.objects.filter(fallback_of=sms).exists():
        return None
    if (
        sms.rule_id is not None
        and sms.appointment_id is not None
        and Message.objects.filter(
            appointment_id=sms.appointment_id,
            rule_id=sms.rule_id,
            appointment_version=sms.appointment_version,
            channel=Message.Channel.EMAIL,
        )
        .exclude(status__in=[Status.CANCELLED, Status.SKIPPED])
        .exists()
    ):
        # Its email twin was planned with it: the client has it by email already.
        return None
    email = Message(
        appointment_id=sms.appointment_id,
        client=client,
        location_id=sms.location_id,
        rule_id=sms.rule_id,
        category=sms.category,
        channel=Message.Channel.EMAIL,
        to=client.email,
        subject=email_subject_for(category=sms.category, location=sms.location),
        body=_body_without_sms_footer(sms.body),
        due_at=sms.due_at,
        appointment_version=sms.appointment_version,
        recall_recipient_id=sms.recall_recipient_id,
        fallback_of=sms,
        status_reason=f"SMS failed: {why} → sent by email"[:300],
    )
    try:
        with transaction.atomic():
            email.save()
    except IntegrityError:
        # A concurrent callback planned it first (fallback_of is unique).
        return None
    logger.info(
        "care message re-planned as email",
        extra={"message_id": sms.pk, "email_message_id": email.pk},
    )
    if email.due_at <= now:
        from reminders.services.nudge import nudge_dispatch_on_commit

        nudge_dispatch_on_commit()
    return email


def client_email_opt_out(*, client: Client, method: str, now: datetime | None = None) -> int:
    """Record that the client unsubscribed from email (the link in every email) and cancel their
    unsent email rows. Idempotent. Returns how many rows were cancelled."""
    now = now or timezone.now()
    Client.objects.filter(pk=client.pk, email_opted_out_at__isnull=True).update(
        email_opted_out_at=now
    )
    client.refresh_from_db(fields=["email_opted_out_at"])
    logger.info("client unsubscribed from email", extra={"client_id": client.pk, "method": method})
    return Message.objects.filter(
        client=client, channel=Message.Channel.EMAIL, status=Status.SCHEDULED
    ).update(
        status=Status.CANCELLED, status_reason="Client unsubscribed from email", updated_at=now
    )


__all__ = [
    "SMS_UNREACHABLE_CODES",
    "SMS_UNREACHABLE_REASONS",
    "client_email_opt_out",
    "email_blocked_reason",
    "email_subject_for",
    "email_twin_of",
    "message_plan_email_fallback",
    "sms_unreachable_reason",
]
