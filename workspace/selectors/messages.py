"""Reads behind the staff message pages: the outbox list with filters, the inbox in
sections, a client's two-way timeline. Each checks the actor's role; which appointment or
client a practitioner may see is decided by ``bookings.access``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q, QuerySet

from bookings import access
from bookings.models import Client
from clinic import roles
from clinic.parsing import bounded_search
from clinic.roles import Actor
from reminders.models import InboundMessage, Message
from reminders.selectors import inbox_items, messages_for_client

FAILED_STATUSES = (Message.Status.FAILED, Message.Status.UNDELIVERED)


def outbox_messages(
    *,
    actor: Actor,
    start: datetime,
    end: datetime,
    status: str = "",
    channel: str = "",
    query: str = "",
) -> QuerySet[Message]:
    """Messages due in [start, end), newest first, optionally of one ``status``, of one
    ``channel`` (sms/email; anything else is ignored) and matching ``query`` (part of the
    number or address, or the client's first or last name).

    Raises PermissionDenied for non-staff."""
    roles.require_role(actor, *roles.ALL_ROLES)
    messages = (
        access.filter_by_client(Message.objects.all(), actor=actor)
        .filter(due_at__gte=start, due_at__lt=end)
        .select_related("client", "appointment", "rule", "retry_of", "fallback_of")
        .order_by("-due_at", "-id")
    )
    if status:
        messages = messages.filter(status=status)
    if channel in Message.Channel.values:
        messages = messages.filter(channel=channel)
    query = bounded_search(query)
    if query:
        messages = messages.filter(
            Q(to__contains=query.replace(" ", ""))
            | Q(client__first_name__icontains=query)
            | Q(client__last_name__icontains=query)
        )
    return messages


def outbox_reasons(
    *, actor: Actor, start: datetime, end: datetime, limit: int = 30
) -> list[tuple[str, str]]:
    """Distinct (status, reason) pairs for messages due in [start, end): why things were
    skipped or failed. Raises PermissionDenied for non-staff."""
    roles.require_role(actor, *roles.ALL_ROLES)
    return list(
        Message.objects.filter(due_at__gte=start, due_at__lt=end)
        .exclude(status_reason="")
        .values_list("status", "status_reason")
        .order_by("status", "status_reason")
        .distinct()[:limit]
    )


def retried_message_ids(*, messages: QuerySet[Message]) -> set[int]:
    """Which of these failed messages already have a retry (so the page offers no second)."""
    return set(
        Message.objects.filter(
            retry_of__in=messages.filter(status__in=FAILED_STATUSES)
        ).values_list("retry_of_id", flat=True)
    )


@dataclass
class InboxSections:
    urgent: list[InboundMessage] = field(default_factory=list)
    from_clients: list[InboundMessage] = field(default_factory=list)
    unmatched: list[InboundMessage] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.urgent or self.from_clients or self.unmatched)


def inbox_replies(*, actor: Actor, urgent: bool | None = None) -> QuerySet[InboundMessage]:
    """Unhandled replies the actor may see (``bookings.access``), urgent first then newest
    first; only urgent ones (or only the others) when ``urgent`` is given. Raises
    PermissionDenied."""
    roles.require_role(actor, *roles.ALL_ROLES)
    items = access.filter_by_client(inbox_items(), actor=actor)
    if urgent is not None:
        items = items.filter(is_urgent=urgent)
    return items


def inbox_sections(*, actor: Actor) -> InboxSections:
    """Unhandled replies: urgent aftercare replies first (with appointment and practitioner),
    then other replies from known clients, then unknown numbers. Raises PermissionDenied."""
    roles.require_role(actor, *roles.ALL_ROLES)
    sections = InboxSections()
    items = access.filter_by_client(inbox_items(), actor=actor).select_related(
        "appointment__practitioner", "appointment__service"
    )
    for item in items.prefetch_related("staff_alerts__recipient"):
        if item.is_urgent:
            sections.urgent.append(item)
        elif item.client_id:
            sections.from_clients.append(item)
        else:
            sections.unmatched.append(item)
    return sections


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    direction: str  # "out" or "in"
    message: Message | InboundMessage


def client_timeline(*, client: Client) -> list[TimelineEntry]:
    """Outbound messages (with status) and inbound replies (opt-outs, confirmations, questions)
    of one client, newest first. Access to ``client`` is checked by whoever loaded it."""
    entries = [
        TimelineEntry(message.sent_at or message.due_at, "out", message)
        for message in messages_for_client(client=client)
    ]
    entries += [
        TimelineEntry(inbound.created_at, "in", inbound)
        for inbound in InboundMessage.objects.filter(client=client).select_related("appointment")
    ]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)
