"""Staff API on the reminders side: messages for an appointment or a client, with delivery
status. Mounted under ``/api/v1/staff/`` in ``clinic/urls.py``; same staff auth and the same
access rules (the bookings selectors decide who may see which appointment or client)."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

from bookings.auth import staff_auth
from bookings.selectors.staff import appointment_for_staff, client_for_staff
from clinic.http import ApiRequest
from reminders.models import Message
from reminders.selectors import messages_for_appointment, messages_for_client

router = Router(auth=staff_auth, tags=["staff"])


class MessageOut(Schema):
    id: int
    appointment_id: int | None
    category: str
    to: str
    body: str
    due_at: datetime
    status: str
    status_reason: str
    error_code: int | None
    sent_at: datetime | None
    delivered_at: datetime | None
    retry_of_id: int | None


def _out(message: Message) -> dict:
    return {
        "id": message.id,
        "appointment_id": message.appointment_id,
        "category": message.category,
        "to": message.to,
        "body": message.body,
        "due_at": message.due_at,
        "status": message.status,
        "status_reason": message.status_reason,
        "error_code": message.error_code,
        "sent_at": message.sent_at,
        "delivered_at": message.delivered_at,
        "retry_of_id": message.retry_of_id,
    }


@router.get("/appointments/{appointment_id}/messages", response=list[MessageOut])
def appointment_messages(request: ApiRequest, appointment_id: int):
    appointment = appointment_for_staff(actor=request.auth, appointment_id=appointment_id)
    return [_out(message) for message in messages_for_appointment(appointment=appointment)]


@router.get("/clients/{client_id}/messages", response=list[MessageOut])
def client_messages(request: ApiRequest, client_id: int):
    client = client_for_staff(actor=request.auth, client_id=client_id)
    return [_out(message) for message in messages_for_client(client=client)]
