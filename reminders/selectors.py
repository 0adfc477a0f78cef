"""Reads for the staff workspace: a client's or appointment's messages, the inbox, counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, QuerySet
from django.urls import reverse

from bookings.models import Appointment, Client
from bookings.tokens import manage_token_for
from clinic.care import CARE_INSTRUCTIONS
from clinic.errors import NotFound
from clinic.models import Location
from records.models import RecallRecipient
from reminders.models import InboundMessage, Message
from reminders.tokens import appointment_id_from_care_token, recipient_id_from_recall_token


def sms_blocked_reason(client: Client | None) -> str:
    """Why texts (other than verification codes) cannot go to ``client``; empty when they can.
    The dispatcher skips rows with this reason; staff pages show it before that happens."""
    if client is None or client.sms_consent_at is None:
        return "The client has not agreed to SMS"
    if client.sms_opted_out_at is not None:
        return "The client opted out of SMS"
    return ""


def messages_for_appointment(*, appointment: Appointment) -> QuerySet[Message]:
    return (
        Message.objects.filter(appointment=appointment)
        .select_related("rule", "retry_of", "fallback_of")
        .order_by("due_at", "id")
    )


def messages_for_client(*, client: Client) -> QuerySet[Message]:
    return (
        Message.objects.filter(client=client)
        .select_related("rule", "appointment", "retry_of", "fallback_of")
        .order_by("-due_at", "-id")
    )


def inbox_items() -> QuerySet[InboundMessage]:
    """Replies waiting for staff, urgent first, then newest first."""
    return (
        InboundMessage.objects.filter(handled_at__isnull=True)
        .select_related("client", "appointment")
        .order_by("-is_urgent", "-created_at", "-id")
    )


def urgent_replies_waiting() -> int:
    """How many urgent replies no one has handled yet (the inbox badge)."""
    return InboundMessage.objects.filter(handled_at__isnull=True, is_urgent=True).count()


def outbox_counts(*, start: datetime, end: datetime) -> dict[str, int]:
    """How many messages due in [start, end) are in each status (every status present)."""
    counts = dict.fromkeys(Message.Status.values, 0)
    rows = (
        Message.objects.filter(due_at__gte=start, due_at__lt=end)
        .values("status")
        .annotate(total=Count("id"))
    )
    for row in rows:
        counts[row["status"]] = row["total"]
    return counts


@dataclass(frozen=True)
class CarePage:
    location: Location
    first_name: str
    clinic_name: str
    clinic_phone: str
    urgent_phone: str
    local_start: datetime
    manage_url: str
    sections: dict[str, list[str]]


def care_page_for_token(*, token: str) -> CarePage:
    """The care instructions a signed link opens. Raises NotFound (bad link or no such
    appointment) or Gone (expired link)."""
    appointment_id = appointment_id_from_care_token(token)
    appointment = (
        Appointment.objects.select_related("client", "location", "service")
        .filter(pk=appointment_id, client__isnull=False)
        .first()
    )
    if appointment is None or appointment.client is None:
        raise NotFound("This link is not valid.")
    location = appointment.location
    return CarePage(
        location=location,
        first_name=appointment.client.first_name,
        clinic_name=location.name,
        clinic_phone=location.phone,
        urgent_phone=location.urgent_phone,
        local_start=appointment.start_at.astimezone(location.zone),
        manage_url=reverse("site-manage", args=[manage_token_for(appointment)]),
        sections=CARE_INSTRUCTIONS[appointment.service.kind],
    )


@dataclass(frozen=True)
class RecallPage:
    first_name: str
    clinic_name: str
    clinic_phone: str
    urgent_phone: str
    product_name: str
    lot_number: str
    treated_on: date
    instructions: str


def recall_page_for_token(*, token: str) -> RecallPage:
    """What a recall notice's link shows: the client's own visit, the product and what to do.
    Raises NotFound (tampered, or the recipient is gone) or Gone (expired)."""
    recipient = (
        RecallRecipient.objects.select_related(
            "client", "recall__product", "recall__lot", "appointment__location"
        )
        .filter(pk=recipient_id_from_recall_token(token))
        .first()
    )
    if recipient is None:
        raise NotFound("This link is not valid.")
    location = recipient.appointment.location
    return RecallPage(
        first_name=recipient.client.first_name,
        clinic_name=location.name,
        clinic_phone=location.phone,
        urgent_phone=location.urgent_phone,
        product_name=recipient.recall.product.name,
        lot_number=recipient.recall.lot.lot_number if recipient.recall.lot else "",
        treated_on=recipient.treated_on,
        instructions=recipient.recall.client_instructions,
    )
