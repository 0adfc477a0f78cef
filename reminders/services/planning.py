"""Planning the outbox: which Message rows should exist for an appointment, and when.

Every function here runs inside the booking service's transaction (called from
``reminders.receivers``), so planned rows commit or roll back with the booking change
(ARCHITECTURE invariant 3). The only side effect after commit is a nudge to the dispatcher.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bookings.courses import course_is_unfinished, is_later_session
from bookings.models import Appointment, Client
from bookings.tokens import manage_token_for
from clinic.models import Location
from clinic.selectors import location_default
from reminders.models import Message, ReminderRule
from reminders.protocol import VERIFICATION_TEMPLATE
from reminders.rendering import (
    local_date_text,
    local_time_text,
    public_url,
    render_template_text,
)
from reminders.tokens import care_token_for

logger = logging.getLogger(__name__)

Category = ReminderRule.Category
Trigger = ReminderRule.Trigger


def rule_due_at(*, rule: ReminderRule, appointment: Appointment, now: datetime) -> datetime:
    """When a rule fires for an appointment, in UTC.

    With a fixed local time of day the *local date* of anchor+offset is computed first and the
    wall-clock time is localised on that date, so "the day before at 10:00" stays 10:00 local
    across a DST change (invariant 6).
    """
    anchor_at = {
        ReminderRule.Anchor.BOOKED: now,
        ReminderRule.Anchor.START: appointment.start_at,
        ReminderRule.Anchor.END: appointment.end_at,
    }[ReminderRule.Anchor(rule.anchor)]
    raw = anchor_at + timedelta(minutes=rule.offset_minutes)
    if rule.local_time is None:
        return raw
    zone = appointment.location.zone
    local_date = raw.astimezone(zone).date()
    return datetime.combine(local_date, rule.local_time, tzinfo=zone).astimezone(UTC)


def _rule_applies(*, rule: ReminderRule, appointment: Appointment) -> bool:
    service_ids = [service.pk for service in rule.services.all()]
    if service_ids:
        return appointment.service_id in service_ids
    return not rule.service_kinds or appointment.service.kind in rule.service_kinds


def appointment_message_context(*, appointment: Appointment) -> dict[str, object]:
    """The whole vocabulary an SMS template may use: no treatment name, no health detail."""
    location = appointment.location
    zone = location.zone
    manage_token = manage_token_for(appointment)
    care_token = care_token_for(appointment_id=appointment.pk, end_at=appointment.end_at)
    return {
        "first_name": appointment.client.first_name if appointment.client else "",
        "clinic_name": location.name,
        "clinic_phone": location.phone,
        "date": local_date_text(appointment.start_at, zone),
        "time": local_time_text(appointment.start_at, zone),
        "manage_url": public_url(reverse("site-manage", args=[manage_token])),
        "care_url": public_url(reverse("reminders:care-page", args=[care_token])),
        # The consultation flow's re-check page hangs off the manage link.
        "recheck_url": public_url(reverse("site-recheck", args=[manage_token])),
        "screening_url": public_url(reverse("site-screening", args=[manage_token])),
        "book_url": public_url(reverse("site-book")),
    }


def _plan_rules(
    *,
    appointment: Appointment,
    trigger: str,
    now: datetime,
    categories: Iterable[str] | None = None,
) -> list[Message]:
    if appointment.client is None:
        return []
    rules = (
        ReminderRule.objects.filter(is_active=True, trigger=trigger)
        .prefetch_related("services")
        .order_by("id")
    )
    if categories is not None:
        rules = rules.filter(category__in=list(categories))
    already_planned = set(
        Message.objects.filter(
            appointment=appointment,
            appointment_version=appointment.version,
            rule__isnull=False,
            retry_of__isnull=True,
        ).values_list("rule_id", flat=True)
    )
    context: dict[str, object] | None = None
    planned: list[Message] = []
    for rule in rules:
        if rule.pk in already_planned or not _rule_applies(rule=rule, appointment=appointment):
            continue
        if rule.only_repeat_sessions and not is_later_session(appointment=appointment):
            continue
        if rule.only_while_course_unfinished and not course_is_unfinished(appointment=appointment):
            continue
        if context is None:
            context = appointment_message_context(appointment=appointment)
        due_at = rule_due_at(rule=rule, appointment=appointment, now=now)
        message = Message(
            appointment=appointment,
            client_id=appointment.client_id,
            location_id=appointment.location_id,
            rule=rule,
            category=rule.category,
            to=appointment.client.phone,
            body=render_template_text(rule.template, context),
            due_at=due_at,
            appointment_version=appointment.version,
        )
        # A step whose time had already passed when the booking was made is not sent late
        # ("14 days before" for a booking made 3 days ahead); the row stays as a visible record.
        if due_at < now - timedelta(minutes=1):
            message.status = Message.Status.SKIPPED
            message.status_reason = "Its time had already passed when this was booked"
        planned.append(message)
    Message.objects.bulk_create(planned)
    if any(m.status == Message.Status.SCHEDULED and m.due_at <= now for m in planned):
        nudge_dispatch_on_commit()
    return planned


def messages_plan_for_appointment(
    *, appointment: Appointment, trigger: str = Trigger.BOOKED, now: datetime | None = None
) -> list[Message]:
    """Plan the protocol's messages for the appointment's current version. Idempotent: rules
    already planned for this version are left alone (the table's unique constraint is the
    backstop). Returns the rows it created."""
    return _plan_rules(appointment=appointment, trigger=trigger, now=now or timezone.now())


def messages_cancel_unsent(
    *,
    appointment: Appointment,
    reason: str,
    categories: Iterable[str] | None = None,
    before_version: int | None = None,
) -> int:
    """Cancel this appointment's messages that have not been handed to the provider yet.
    Rows already ``sending`` are left alone: they may already be at Twilio."""
    unsent = Message.objects.filter(appointment=appointment, status=Message.Status.SCHEDULED)
    if categories is not None:
        unsent = unsent.filter(category__in=list(categories))
    if before_version is not None:
        unsent = unsent.filter(appointment_version__lt=before_version)
    return unsent.update(
        status=Message.Status.CANCELLED, status_reason=reason[:300], updated_at=timezone.now()
    )


def messages_replan_after_reschedule(
    *, appointment: Appointment, now: datetime | None = None
) -> list[Message]:
    """Cancel unsent rows of earlier versions, then plan the protocol for the new version."""
    messages_cancel_unsent(
        appointment=appointment,
        reason="Appointment rescheduled",
        before_version=appointment.version,
    )
    # A tentative booking moved to another time is still only tentative.
    trigger = (
        Trigger.PENDING_CLEARANCE
        if appointment.status == Appointment.Status.PENDING_CLEARANCE
        else Trigger.BOOKED
    )
    return messages_plan_for_appointment(appointment=appointment, trigger=trigger, now=now)


def messages_plan_after_cancellation(
    *, appointment: Appointment, now: datetime | None = None
) -> list[Message]:
    """Cancel everything unsent and plan the cancellation confirmation."""
    messages_cancel_unsent(appointment=appointment, reason="Appointment cancelled")
    return messages_plan_for_appointment(
        appointment=appointment, trigger=Trigger.CANCELLED, now=now
    )


def messages_cancel_after_no_show(*, appointment: Appointment) -> int:
    """A client who did not come gets no aftercare, downtime check or rebook nudge."""
    return messages_cancel_unsent(
        appointment=appointment,
        reason="Client did not attend",
        categories=[Category.AFTERCARE, Category.DOWNTIME_CHECK, Category.REBOOK],
    )


def messages_plan_after_completion(
    *, appointment: Appointment, now: datetime | None = None
) -> list[Message]:
    """Plan completion rules (the rebook nudge, only while the course is unfinished)."""
    return messages_plan_for_appointment(
        appointment=appointment, trigger=Trigger.COMPLETED, now=now
    )


def message_plan_verification(
    *, phone: str, code: str, location: Location | None, now: datetime | None = None
) -> Message:
    """Queue a one-time code, due now. The client asked for it, so it needs no stored consent
    and ignores quiet hours; it goes stale after the code's lifetime."""
    now = now or timezone.now()
    location = location or location_default()
    body = render_template_text(
        VERIFICATION_TEMPLATE,
        {"code": code, "clinic_name": location.name if location else "Aftercare"},
    )
    message = Message.objects.create(
        client=Client.objects.filter(phone=phone).first(),
        location=location,
        category=Category.VERIFICATION,
        to=phone,
        body=body,
        due_at=now,
    )
    nudge_dispatch_on_commit()
    return message


def nudge_dispatch_on_commit() -> None:
    """Ask a worker to run the dispatcher as soon as the current transaction commits. If the
    broker is down the beat sweep finds the rows anyway, so a failure here is only logged."""

    def _nudge() -> None:
        from reminders.tasks import dispatch_due_messages

        try:
            dispatch_due_messages.delay()
        except Exception:  # noqa: BLE001 - any broker error; the sweep is the safety net
            logger.warning("dispatch nudge failed; the periodic sweep will send", exc_info=True)

    transaction.on_commit(_nudge)


__all__ = [
    "appointment_message_context",
    "course_is_unfinished",
    "message_plan_verification",
    "messages_cancel_after_no_show",
    "messages_cancel_unsent",
    "messages_plan_after_cancellation",
    "messages_plan_after_completion",
    "messages_plan_for_appointment",
    "messages_replan_after_reschedule",
    "nudge_dispatch_on_commit",
    "rule_due_at",
]
