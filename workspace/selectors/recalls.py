"""A recall's recipients as the staff page and the regulator's export show them: the client,
their session, and what became of the notice (the outbox message's status) and the reply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from records.models import Recall, RecallRecipient
from reminders.models import Message


@dataclass(frozen=True)
class RecallRow:
    recipient: RecallRecipient
    client_name: str
    phone: str
    treated_on: date
    practitioner: str
    notice_status: str  # "not sent", or the latest notice message's status
    notice_sent_at: datetime | None
    replied_at: datetime | None


def recall_rows(*, recall: Recall) -> list[RecallRow]:
    """One row per recipient of a recall already read through ``records.selectors.recall_read``
    (which checks and audits)."""
    latest: dict[int, Message] = {}
    for message in Message.objects.filter(recall_recipient__recall=recall).order_by("id"):
        if message.recall_recipient_id is not None:
            latest[message.recall_recipient_id] = message
    rows = []
    for recipient in recall.recipients.all():
        notice = latest.get(recipient.pk)
        rows.append(
            RecallRow(
                recipient=recipient,
                client_name=recipient.client.full_name,
                phone=recipient.client.phone,
                treated_on=recipient.treated_on,
                practitioner=recipient.appointment.practitioner.display_name,
                notice_status=notice.get_status_display() if notice else "Not sent",
                notice_sent_at=notice.sent_at if notice else None,
                replied_at=recipient.replied_at,
            )
        )
    return rows
