"""Staff actions on the outbox, consent changes, and recording what the provider told us."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from bookings.models import Client
from clinic import roles
from clinic.errors import PolicyViolation, ValidationFailed
from clinic.roles import Actor
from clinic.selectors import location_default
from reminders.backends.twilio import describe_error, is_opt_out
from reminders.models import InboundMessage, Message, ReminderRule
from reminders.services.email_channel import (
    SMS_UNREACHABLE_CODES,
    message_plan_email_fallback,
    sms_unreachable_reason,
)
from reminders.services.nudge import nudge_dispatch_on_commit

logger = logging.getLogger(__name__)

MAX_BODY_LENGTH = 1600  # Twilio's limit for one message body

# Forward-only order of delivery statuses (TWILIO.md): a late "sent" never overwrites
# "delivered". Terminal outcomes share the top rank so none replaces another.
STATUS_RANK: dict[str, int] = {
    Message.Status.SCHEDULED: 0,
    Message.Status.SENDING: 1,
    Message.Status.SENT: 2,
    Message.Status.DELIVERED: 3,
    Message.Status.UNDELIVERED: 3,
    Message.Status.FAILED: 3,
}

# Twilio's callback statuses mapped onto ours.
PROVIDER_STATUS_MAP = {
    "accepted": Message.Status.SENDING,
    "queued": Message.Status.SENDING,
    "sending": Message.Status.SENDING,
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "undelivered": Message.Status.UNDELIVERED,
    "failed": Message.Status.FAILED,
}


def message_send_adhoc(*, client: Client, body: str, actor: Actor) -> Message:
    """Queue a one-off message from staff to a client, due now.

    Raises PermissionDenied (not staff), ValidationFailed(field="body") for an empty or overlong
    body, PolicyViolation when the client has not consented or has opted out."""
    roles.require_role(actor, *roles.ALL_ROLES)
    body = body.strip()
    if not body:
        raise ValidationFailed("Write a message first.", field="body")
    if len(body) > MAX_BODY_LENGTH:
        raise ValidationFailed(
            f"A message can be at most {MAX_BODY_LENGTH} characters.", field="body"
        )
    if not client.can_receive_sms:
        raise PolicyViolation("This client has not agreed to SMS or has opted out.")
    location = client.preferred_location or location_default()
    if location is not None and not body.endswith(location.name):
        # The client must know who is writing: staff replies are signed with the clinic's name.
        body = f"{body} - {location.name}"
    with transaction.atomic():
        message = Message.objects.create(
            client=client,
            location=location,
            category=ReminderRule.Category.ADHOC,
            to=client.phone,
            body=body,
            due_at=timezone.now(),
            created_by=roles.user_of(actor),
        )
        nudge_dispatch_on_commit()
    logger.info(
        "adhoc message queued",
        extra={"message_id": message.pk, "actor": getattr(actor, "pk", None)},
    )
    return message


def message_retry(*, message: Message, actor: Actor) -> Message:
    """Send a failed message again as a NEW row linked to the failed one (the failed row stays
    as the record of what happened).

    Raises PermissionDenied, PolicyViolation (not failed, already retried, or no consent)."""
    roles.require_role(actor, *roles.ALL_ROLES)
    with transaction.atomic():
        original = (
            Message.objects.select_for_update(of=("self",))
            .select_related("client")
            .get(pk=message.pk)
        )
        if original.status not in (Message.Status.FAILED, Message.Status.UNDELIVERED):
            raise PolicyViolation("Only a failed or undelivered message can be retried.")
        if original.retries.exclude(
            status__in=[Message.Status.FAILED, Message.Status.UNDELIVERED]
        ).exists():
            raise PolicyViolation("This message has already been retried.")
        is_email = original.channel == Message.Channel.EMAIL
        if original.client is not None and is_email and not original.client.can_receive_email:
            raise PolicyViolation("This client has not agreed to email or has unsubscribed.")
        if original.client is not None and not is_email and not original.client.can_receive_sms:
            raise PolicyViolation("This client has not agreed to SMS or has opted out.")
        address = (
            (original.client.email if is_email else original.client.phone)
            if (original.client)
            else original.to
        )
        retry = Message.objects.create(
            appointment=original.appointment,
            client=original.client,
            location=original.location,
            rule=original.rule,
            category=original.category,
            channel=original.channel,
            to=address,
            subject=original.subject,
            body=original.body,
            due_at=timezone.now(),
            appointment_version=original.appointment_version,
            retry_of=original,
            created_by=roles.user_of(actor),
        )
        nudge_dispatch_on_commit()
    return retry


def inbound_mark_handled(*, inbound: InboundMessage, actor: Actor) -> InboundMessage:
    """Staff have dealt with a reply. Raises PermissionDenied. Idempotent."""
    roles.require_role(actor, *roles.ALL_ROLES)
    InboundMessage.objects.filter(pk=inbound.pk, handled_at__isnull=True).update(
        handled_at=timezone.now(), handled_by=actor
    )
    inbound.refresh_from_db()
    return inbound


def client_opt_out(*, client: Client, method: str, now: datetime | None = None) -> int:
    """Record an opt-out of SMS (STOP, or Twilio's opt-out error) and cancel every unsent text to
    the client; care messages among them go by email instead where the client agreed to email
    (their email consent is separate). Returns how many texts were cancelled."""
    now = now or timezone.now()
    Client.objects.filter(pk=client.pk, sms_opted_out_at__isnull=True).update(sms_opted_out_at=now)
    client.refresh_from_db(fields=["sms_opted_out_at"])
    logger.info("client opted out of SMS", extra={"client_id": client.pk, "method": method})
    with transaction.atomic():
        unsent = list(
            Message.objects.select_for_update(of=("self",))
            .filter(client=client, channel=Message.Channel.SMS, status=Message.Status.SCHEDULED)
            .select_related("location")
        )
        cancelled = Message.objects.filter(pk__in=[m.pk for m in unsent]).update(
            status=Message.Status.CANCELLED,
            status_reason=f"Client opted out ({method})"[:300],
            updated_at=now,
        )
        for message in unsent:
            message.status = Message.Status.CANCELLED
            message_plan_email_fallback(sms=message, why="client opted out of SMS", now=now)
    return cancelled


def client_opt_in(
    *, client: Client, method: str, wording: str, now: datetime | None = None
) -> None:
    """Record an opt-in by keyword (START/UNSTOP/YES): consent now, wording as received."""
    now = now or timezone.now()
    Client.objects.filter(pk=client.pk).update(
        sms_opted_out_at=None,
        sms_consent_at=now,
        sms_consent_method=method,
        sms_consent_wording=wording,
    )
    client.refresh_from_db()


def message_apply_provider_status(
    *,
    provider_sid: str,
    provider_status: str,
    error_code: int | None = None,
    message_id: int | None = None,
    now: datetime | None = None,
) -> Message | None:
    """Apply a status the provider reported (status callback or reconciliation).

    Moves forward only: duplicates and out-of-order callbacks change nothing. ``message_id``
    (carried in our StatusCallback URL) matches a row whose worker died before it could record
    the SID: that is how a callback resolves a row stuck in ``sending``. Returns the row, or
    None when nothing matches."""
    now = now or timezone.now()
    new_status = PROVIDER_STATUS_MAP.get(provider_status.lower())
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(provider_sid=provider_sid).first()
        if message is None and message_id is not None:
            message = (
                Message.objects.select_for_update()
                .filter(pk=message_id, provider_sid__isnull=True)
                .first()
            )
        if message is None:
            return None
        changed: list[str] = []
        if message.provider_sid is None:
            message.provider_sid = provider_sid
            changed.append("provider_sid")
        if new_status is not None and STATUS_RANK.get(new_status, -1) > STATUS_RANK.get(
            message.status, 99
        ):
            message.status = new_status
            message.provider_status = provider_status.lower()
            message.lease_expires_at = None
            changed += ["status", "provider_status", "lease_expires_at"]
            if new_status == Message.Status.DELIVERED:
                message.delivered_at = now
                changed.append("delivered_at")
            if message.sent_at is None and new_status != Message.Status.FAILED:
                message.sent_at = now
                changed.append("sent_at")
            if error_code:
                message.error_code = error_code
                message.status_reason = describe_error(error_code)
                changed += ["error_code", "status_reason"]
        if changed:
            message.updated_at = now
            message.save(update_fields=[*changed, "updated_at"])
        if is_opt_out(error_code) and message.client is not None:
            client_opt_out(client=message.client, method="carrier_21610", now=now)
        if (
            message.status in (Message.Status.FAILED, Message.Status.UNDELIVERED)
            and error_code in SMS_UNREACHABLE_CODES
        ):
            # The number cannot take texts: a care message goes by email instead, once.
            message_plan_email_fallback(
                sms=message, why=sms_unreachable_reason(error_code), now=now
            )
    return message


def messages_move_to_client(*, keep: Client, duplicate: Client) -> int:
    """After a merge: the duplicate's texts and replies belong to ``keep``, and texts not sent
    yet go to ``keep``'s number. Returns how many outbox rows moved."""
    moved = Message.objects.filter(client=duplicate).update(client=keep)
    InboundMessage.objects.filter(client=duplicate).update(client=keep)
    Message.objects.filter(
        client=keep, channel=Message.Channel.SMS, status=Message.Status.SCHEDULED
    ).exclude(to=keep.phone).update(to=keep.phone, updated_at=timezone.now())
    if keep.email:
        Message.objects.filter(
            client=keep, channel=Message.Channel.EMAIL, status=Message.Status.SCHEDULED
        ).exclude(to=keep.email).update(to=keep.email, updated_at=timezone.now())
    return moved
