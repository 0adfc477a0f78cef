"""Recall notices through the outbox: one SMS per recipient of a product recall, with a signed
link to a page that says what to do. The text itself names no product and no treatment (lock
screens are public); the page behind the link does."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clinic import roles
from clinic.errors import ValidationFailed
from clinic.roles import Actor
from records.models import Recall, RecallRecipient
from records.services.recalls import recall_recipient_mark_queued
from reminders.models import Message, ReminderRule
from reminders.rendering import OPT_OUT_LINE, public_url
from reminders.services.nudge import nudge_dispatch_on_commit
from reminders.tokens import recall_token_for

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecallSendResult:
    queued: int
    already_queued: int
    cannot_receive_sms: int


def recall_notice_body(*, recipient: RecallRecipient) -> str:
    location = recipient.appointment.location
    url = public_url(reverse("reminders:recall-page", args=[recall_token_for(recipient.pk)]))
    return (
        f"Hi {recipient.client.first_name}, {location.name} has important information about "
        f"a product used at one of your visits. Please read {url} and reply to this text or "
        f"call {location.phone} so we know you have seen it. {OPT_OUT_LINE}"
    )


def recall_notices_send(*, actor: Actor, recall: Recall) -> RecallSendResult:
    """Queue a notice to every recipient of ``recall`` who has not had one, due now. Clients
    who have not agreed to SMS or opted out are counted (staff phone them) and not queued.
    Idempotent: sending again queues only the new or unreached. Raises PermissionDenied
    (managers only), ValidationFailed when the recall has nobody to notify."""
    roles.require_role(actor, roles.MANAGER)
    recipients = list(
        recall.recipients.select_related("client", "appointment__location").order_by("id")
    )
    if not recipients:
        raise ValidationFailed("Nobody was treated with this product.", field=None)
    queued = already = unreachable = 0
    now = timezone.now()
    with transaction.atomic():
        for recipient in recipients:
            if recipient.notice_queued_at is not None:
                already += 1
                continue
            if not recipient.client.can_receive_sms:
                unreachable += 1
                continue
            if not recall_recipient_mark_queued(recipient_id=recipient.pk, now=now):
                already += 1
                continue
            Message.objects.create(
                client=recipient.client,
                appointment=recipient.appointment,
                location=recipient.appointment.location,
                category=ReminderRule.Category.RECALL,
                to=recipient.client.phone,
                body=recall_notice_body(recipient=recipient),
                due_at=now,
                recall_recipient=recipient,
                created_by=roles.user_of(actor),
            )
            queued += 1
        if queued:
            nudge_dispatch_on_commit()
    logger.info(
        "recall notices queued",
        extra={"recall_id": recall.pk, "queued": queued, "unreachable": unreachable},
    )
    return RecallSendResult(queued=queued, already_queued=already, cannot_receive_sms=unreachable)
