"""Staff API on the reminders side: messages for an appointment or a client, with delivery
status. Mounted under ``/api/v1/staff/`` in ``clinic/urls.py``; same staff auth and the same
access rules (the bookings selectors decide who may see which appointment or client)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema

from bookings.auth import staff_auth
from bookings.selectors.staff import appointment_for_staff, client_for_staff
from clinic.http import ApiRequest
from clinic.parsing import Id
from reminders.models import InboundMessage, Message
from reminders.selectors import messages_for_appointment, messages_for_client
from workspace.selectors.messages import inbox_replies

router = Router(auth=staff_auth, tags=["staff"])


class MessageOut(Schema):
    id: int
    appointment_id: int | None
    category: str
    channel: str = Field(..., description="sms or email")
    to: str = Field(..., description="The phone number or email address it went to")
    subject: str = Field(..., description="Email subject (empty for a text)")
    body: str
    due_at: datetime
    status: str
    status_reason: str
    error_code: int | None
    sent_at: datetime | None
    delivered_at: datetime | None
    retry_of_id: int | None
    fallback_of_id: int | None = Field(
        ..., description="For an email sent because a text could not reach the client: the text"
    )
    fallback_note: str = Field(..., examples=["SMS failed: landline → sent by email"])


def _out(message: Message) -> dict:
    return {
        "id": message.id,
        "appointment_id": message.appointment_id,
        "category": message.category,
        "channel": message.channel,
        "to": message.to,
        "subject": message.subject,
        "body": message.body_for_staff,
        "due_at": message.due_at,
        "status": message.status,
        "status_reason": message.status_reason,
        "error_code": message.error_code,
        "sent_at": message.sent_at,
        "delivered_at": message.delivered_at,
        "retry_of_id": message.retry_of_id,
        "fallback_of_id": message.fallback_of_id,
        "fallback_note": message.fallback_note,
    }


@router.get("/appointments/{appointment_id}/messages", response=list[MessageOut])
def appointment_messages(request: ApiRequest, appointment_id: Id):
    appointment = appointment_for_staff(actor=request.auth, appointment_id=appointment_id)
    return [_out(message) for message in messages_for_appointment(appointment=appointment)]


@router.get("/clients/{client_id}/messages", response=list[MessageOut])
def client_messages(request: ApiRequest, client_id: Id):
    client = client_for_staff(actor=request.auth, client_id=client_id)
    return [_out(message) for message in messages_for_client(client=client)]


class InboxReplyOut(Schema):
    id: int
    kind: str
    urgent: bool
    red_flags: list[str]
    client_id: int | None
    appointment_id: int | None
    received_at: datetime
    from_number: str
    body: str


def _reply_out(inbound: InboundMessage) -> dict:
    return {
        "id": inbound.id,
        "kind": inbound.kind,
        "urgent": inbound.is_urgent,
        "red_flags": inbound.red_flags,
        "client_id": inbound.client_id,
        "appointment_id": inbound.appointment_id,
        "received_at": inbound.created_at,
        "from_number": inbound.from_number,
        "body": inbound.body,
    }


@router.get("/inbox", response=list[InboxReplyOut])
def inbox(request: ApiRequest, urgent: bool | None = None) -> list[dict]:
    """Replies waiting for staff, urgent first; ``urgent=true`` for only the urgent ones."""
    return [_reply_out(inbound) for inbound in inbox_replies(actor=request.auth, urgent=urgent)]
