"""What reminders holds about a client, for data-protection exports and erasure, and the
retention rule for message and reply texts.

Bodies can carry a name, a time and (in replies) whatever the client wrote about their skin, so
they are the personal part of the outbox; the rows themselves (when, which category, status,
provider id) stay as the record that a text was or was not sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from bookings.models import Client
from reminders.models import InboundMessage, Message, ReminderRule

ERASED_TEXT = ""


def client_messages_export(*, client: Client) -> dict[str, Any]:
    """The ``messages`` and ``replies`` sections of a client's data export (verification codes
    and data-copy links are left out: they were only ever a proof of the phone and a way in)."""
    messages = (
        Message.objects.filter(client=client)
        .exclude(
            category__in=(ReminderRule.Category.VERIFICATION, ReminderRule.Category.DATA_EXPORT)
        )
        .order_by("due_at")
    )
    return {
        "messages": [
            {
                "category": message.category,
                "channel": message.channel,
                "to": message.to,
                "subject": message.subject,
                "body": message.body,
                "due_at": message.due_at.isoformat(),
                "sent_at": message.sent_at.isoformat() if message.sent_at else None,
                "status": message.status,
            }
            for message in messages
        ],
        "replies": [
            {
                "at": inbound.created_at.isoformat(),
                "from": inbound.from_number,
                "body": inbound.body,
                "kind": inbound.kind,
                "our_answer": inbound.reply_body,
            }
            for inbound in InboundMessage.objects.filter(client=client).order_by("created_at")
        ],
    }


def client_messages_erase(*, client: Client, phone: str) -> int:
    """Blank the bodies and numbers of every text to or from ``client`` (or ``phone``), and
    cancel what was not sent yet. Returns how many rows were touched."""
    Message.objects.filter(Q(client=client) | Q(to=phone), status=Message.Status.SCHEDULED).update(
        status=Message.Status.CANCELLED, status_reason="client erased"
    )
    touched = Message.objects.filter(Q(client=client) | Q(to=phone)).update(body=ERASED_TEXT, to="")
    touched += InboundMessage.objects.filter(Q(client=client) | Q(from_number=phone)).update(
        body=ERASED_TEXT, reply_body=ERASED_TEXT, from_number=""
    )
    return touched


def messages_retention_enforce(*, now: datetime | None = None) -> dict[str, int]:
    """The nightly retention job for texts: bodies of messages that ended more than
    ``MESSAGE_RETENTION_DAYS`` ago, and of replies received that long ago, are blanked.
    Idempotent; returns counts."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.MESSAGE_RETENTION_DAYS)
    messages = (
        # Handed over or settled: a row still scheduled or being sent needs its text.
        Message.objects.filter(due_at__lt=cutoff)
        .exclude(status__in=(Message.Status.SCHEDULED, Message.Status.SENDING))
        .exclude(body=ERASED_TEXT)
        .update(body=ERASED_TEXT)
    )
    replies = (
        InboundMessage.objects.filter(created_at__lt=cutoff)
        .exclude(body=ERASED_TEXT, reply_body=ERASED_TEXT)
        .update(body=ERASED_TEXT, reply_body=ERASED_TEXT)
    )
    return {"message_bodies_blanked": messages, "reply_bodies_blanked": replies}
