"""Planning the outbox: which Message rows should exist for an appointment, and when.

Every function here runs inside the booking service's transaction (called from
``reminders.receivers``), so planned rows commit or roll back with the booking change
(ARCHITECTURE invariant 3). The only side effect after commit is a nudge to the dispatcher.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from bookings.courses import course_is_unfinished, is_later_session
from bookings.models import Appointment, Client
from bookings.services.consultations import RELEASED_REASON
from bookings.tokens import manage_token_for
from clinic.db import insert_rows, new_row
from clinic.models import Location
from clinic.selectors import location_default
from payments.models import Payment
from payments.rules import format_money
from reminders.models import EMAIL_ALSO_CATEGORIES, Message, ReminderRule
from reminders.protocol import (
    DATA_EXPORT_LINK_TEMPLATE,
    VERIFICATION_TEMPLATE,
    WAITLIST_OFFER_TEMPLATE,
)
from reminders.quiet_hours import quiet_hours_end_after
from reminders.rendering import (
    local_date_text,
    local_time_text,
    public_url,
    render_template_text,
)
from reminders.rulebook import active_rules, rule_service_ids
from reminders.services.email_channel import email_twin_of
from reminders.services.nudge import nudge_dispatch_on_commit
from reminders.tokens import care_token_for

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
    service_ids = rule_service_ids(rule)
    if service_ids:
        return appointment.service_id in service_ids
    return not rule.service_kinds or appointment.service.kind in rule.service_kinds


def appointment_message_context(
    *, appointment: Appointment, now: datetime | None = None
) -> dict[str, object]:
    """The whole vocabulary an SMS template may use: no treatment name (``treatment_names`` is
    filled only after clearance, where the location opts in), no health detail."""
    location = appointment.location
    zone = location.zone
    manage_token = manage_token_for(appointment)
    care_token = care_token_for(appointment_id=appointment.pk, end_at=appointment.end_at)
    change_cutoff = appointment.start_at - timedelta(hours=location.online_change_cutoff_hours)
    return {
        # Copy never promises an online change that is already closed.
        "can_change_online": (now or timezone.now()) < change_cutoff,
        "previous_when": "",
        "treatment_names": "",
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


def _message_for(
    *,
    rule: ReminderRule,
    appointment: Appointment,
    context: dict[str, object],
    due_at: datetime,
) -> Message:
    assert appointment.client is not None  # noqa: S101 - _plan_rules skips client-less rows
    return new_row(
        Message,
        appointment_id=appointment.pk,
        client_id=appointment.client_id,
        location_id=appointment.location_id,
        rule_id=rule.pk,
        category=rule.category,
        to=appointment.client.phone,
        body=render_template_text(rule.template, context),
        due_at=due_at,
        appointment_version=appointment.version,
    )


def first_allowed_send_at(*, rule: ReminderRule, at: datetime, zone: ZoneInfo) -> datetime:
    """When a message due ``at`` can go out: after quiet hours, if the rule respects them."""
    if not rule.respects_quiet_hours:
        return at
    return quiet_hours_end_after(moment=at, zone=zone) or at


def _plan_catch_up(
    *,
    rule: ReminderRule,
    appointment: Appointment,
    context: dict[str, object],
    now: datetime,
    already_planned: set[int],
    handed_over: set[int],
) -> Message | None:
    """One catch-up row for steps that were missed at booking: due at the next allowed time,
    skipped (as a visible record) only if that would be after the visit has started.
    ``handed_over``: the rules with a message of this visit already sending or sent."""
    if rule.pk in already_planned:
        return None
    if rule.pk in handed_over:
        # Sent for an earlier time of this visit: a reschedule does not repeat it.
        return None
    due_at = rule_due_at(rule=rule, appointment=appointment, now=now)
    message = _message_for(rule=rule, appointment=appointment, context=context, due_at=due_at)
    send_at = first_allowed_send_at(rule=rule, at=due_at, zone=appointment.location.zone)
    if send_at >= appointment.start_at:
        message.status = Message.Status.SKIPPED
        message.status_reason = "It could only go out after the visit has started"
    return message


def _plan_rules(
    *,
    appointment: Appointment,
    trigger: str,
    now: datetime,
    categories: Iterable[str] | None = None,
    exclude_categories: Iterable[str] = (),
    extra_context: dict[str, object] | None = None,
    appointment_is_new: bool = False,
) -> list[Message]:
    if appointment.client is None:
        return []
    wanted = set(categories) if categories is not None else None
    unwanted = set(exclude_categories)
    rules = [
        rule
        for rule in active_rules()
        if rule.trigger == trigger
        and (wanted is None or rule.category in wanted)
        and rule.category not in unwanted
    ]
    # One look at this visit's rule messages answers the questions the plan asks: which rules
    # this version already has as first attempts, per channel (not retries or fallback emails),
    # and which went out for an earlier version.
    already_planned: set[int] = set()
    email_planned: set[int] = set()
    handed_over: set[int] = set()
    gone_out = {Message.Status.SENDING, Message.Status.SENT, Message.Status.DELIVERED}
    # A row inserted by this very booking has no messages yet: nothing to look at.
    planned_before: Iterable[tuple[Any, ...]] = (
        ()
        if appointment_is_new
        else Message.objects.filter(appointment=appointment, rule__isnull=False)
        .order_by()
        .values_list(
            "rule_id", "appointment_version", "retry_of_id", "fallback_of_id", "channel", "status"
        )
    )
    for rule_id, version, retry_of_id, fallback_of_id, channel, message_status in planned_before:
        if version == appointment.version and retry_of_id is None and fallback_of_id is None:
            if channel == Message.Channel.EMAIL:
                email_planned.add(rule_id)
            else:
                already_planned.add(rule_id)
        if message_status in gone_out:
            handed_over.add(rule_id)
    # Confirmations and the care-page link also go by email where the client agreed to it.
    client = appointment.client
    also_email = client.can_receive_email
    context: dict[str, object] | None = None
    # Facts about the client's course, asked of the database at most once per plan (not once
    # per rule that depends on them).
    is_repeat_session: bool | None = None
    is_course_unfinished: bool | None = None
    planned: list[Message] = []
    missed_with_catch_up: list[ReminderRule] = []
    for rule in rules:
        if rule.pk in already_planned or not _rule_applies(rule=rule, appointment=appointment):
            continue
        if rule.only_repeat_sessions:
            if is_repeat_session is None:
                is_repeat_session = is_later_session(appointment=appointment)
            if not is_repeat_session:
                continue
        if rule.only_while_course_unfinished:
            if is_course_unfinished is None:
                is_course_unfinished = course_is_unfinished(appointment=appointment)
            if not is_course_unfinished:
                continue
        if rule.only_after_course_finished:
            if is_course_unfinished is None:
                is_course_unfinished = course_is_unfinished(appointment=appointment)
            if is_course_unfinished:
                continue
        if context is None:
            context = {
                **appointment_message_context(appointment=appointment, now=now),
                **(extra_context or {}),
            }
        due_at = rule_due_at(rule=rule, appointment=appointment, now=now)
        message = _message_for(rule=rule, appointment=appointment, context=context, due_at=due_at)
        if due_at < now - timedelta(minutes=1):
            # A step whose time had passed when the booking was made is not sent late as it
            # is ("14 days before" for a booking made 3 days ahead): its catch-up message, if
            # the protocol has one, goes instead; the row stays as a visible record.
            message.status = Message.Status.SKIPPED
            catch_up = rule.catch_up
            if catch_up is not None and catch_up.is_active:
                message.status_reason = (
                    f"Its time had passed when this was booked; replaced by “{catch_up.name}”"
                )
                if catch_up not in missed_with_catch_up:
                    missed_with_catch_up.append(catch_up)
            else:
                message.status_reason = "Its time had already passed when this was booked"
        planned.append(message)
        if also_email and rule.category in EMAIL_ALSO_CATEGORIES and rule.pk not in email_planned:
            planned.append(email_twin_of(sms=message, client=client, location=appointment.location))
    for catch_up in missed_with_catch_up:
        catch_up_message = _plan_catch_up(
            rule=catch_up,
            appointment=appointment,
            context=context or appointment_message_context(appointment=appointment, now=now),
            now=now,
            already_planned=already_planned,
            handed_over=handed_over,
        )
        if catch_up_message is not None:
            planned.append(catch_up_message)
    insert_rows(Message, planned)
    if any(m.status == Message.Status.SCHEDULED and m.due_at <= now for m in planned):
        nudge_dispatch_on_commit()
    return planned


def messages_plan_for_appointment(
    *,
    appointment: Appointment,
    trigger: str = Trigger.BOOKED,
    now: datetime | None = None,
    appointment_is_new: bool = False,
) -> list[Message]:
    """Plan the protocol's messages for the appointment's current version. Idempotent: rules
    already planned for this version are left alone (the table's unique constraint is the
    backstop). ``appointment_is_new``: the row was inserted in this transaction by the booking
    now being planned, so it has no messages to look for. Returns the rows it created."""
    return _plan_rules(
        appointment=appointment,
        trigger=trigger,
        now=now or timezone.now(),
        appointment_is_new=appointment_is_new,
    )


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


def previous_when_text(*, appointment: Appointment, previous_start_at: datetime) -> str:
    """A moved visit's old time as the text says it: "14:00" on the same day, else with the
    date ("Wed 2 Dec at 14:00")."""
    zone = appointment.location.zone
    old_time = local_time_text(previous_start_at, zone)
    if previous_start_at.astimezone(zone).date() == appointment.start_at.astimezone(zone).date():
        return old_time
    return f"{local_date_text(previous_start_at, zone)} at {old_time}"


def messages_replan_after_reschedule(
    *,
    appointment: Appointment,
    previous_start_at: datetime | None = None,
    now: datetime | None = None,
) -> list[Message]:
    """Cancel unsent rows of earlier versions, then plan the protocol for the new version; the
    client is told the visit moved (the "moved" rules) rather than booked afresh."""
    now = now or timezone.now()
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
    moved_rules = ReminderRule.objects.filter(is_active=True, trigger=Trigger.RESCHEDULED)
    if trigger != Trigger.BOOKED or previous_start_at is None or not moved_rules.exists():
        # A moved tentative booking gets the tentative confirmation again, for its new time.
        return _plan_rules(appointment=appointment, trigger=trigger, now=now)
    planned = _plan_rules(
        appointment=appointment,
        trigger=trigger,
        now=now,
        exclude_categories=[Category.CONFIRMATION],
    )
    return planned + _plan_rules(
        appointment=appointment,
        trigger=Trigger.RESCHEDULED,
        now=now,
        extra_context={
            "previous_when": previous_when_text(
                appointment=appointment, previous_start_at=previous_start_at
            )
        },
    )


def messages_plan_after_cancellation(
    *, appointment: Appointment, reason: str = "", now: datetime | None = None
) -> list[Message]:
    """Cancel everything unsent and plan the cancellation confirmation; a tentative treatment
    released after the consultation gets the kinder "released" text instead (no "book again")."""
    messages_cancel_unsent(appointment=appointment, reason="Appointment cancelled")
    trigger = Trigger.RELEASED if reason == RELEASED_REASON else Trigger.CANCELLED
    return messages_plan_for_appointment(appointment=appointment, trigger=trigger, now=now)


def messages_follow_screening_submitted(*, appointment: Appointment) -> int:
    """The health questions are answered: the texts asking for them are not sent."""
    return messages_cancel_unsent(
        appointment=appointment,
        reason="The screening questions were answered",
        categories=[Category.CONSULTATION_PREP],
    )


def messages_follow_consultation_outcome(
    *,
    appointment: Appointment,
    outcome: str,
    service_names: Iterable[str] = (),
    now: datetime | None = None,
) -> list[Message]:
    """The consultation has been held: no more preparation texts; a cleared client is told so,
    with the booking link (treatment names only where the location opts in)."""
    messages_cancel_unsent(
        appointment=appointment,
        reason="The consultation has been held",
        categories=[Category.CONSULTATION_PREP],
    )
    if outcome != "cleared":
        return []
    names = ", ".join(service_names) if appointment.location.texts_name_treatments else ""
    return _plan_rules(
        appointment=appointment,
        trigger=Trigger.CLEARED,
        now=now or timezone.now(),
        extra_context={"treatment_names": names},
    )


def messages_cancel_after_no_show(*, appointment: Appointment) -> int:
    """A client who did not come gets no aftercare, downtime check or rebook nudge."""
    return messages_cancel_unsent(
        appointment=appointment,
        reason=NO_SHOW_REASON,
        categories=[Category.AFTERCARE, Category.DOWNTIME_CHECK, Category.REBOOK],
    )


NO_SHOW_REASON = "Client did not attend"


def messages_restore_after_no_show_reverted(*, appointment: Appointment) -> list[Message]:
    """The client came late after all: the aftercare texts cancelled by the no-show are planned
    again, as new rows pointing at the cancelled ones (statuses never move backwards). The
    dispatcher still skips any that have gone stale."""
    cancelled = Message.objects.filter(
        appointment=appointment,
        status=Message.Status.CANCELLED,
        status_reason=NO_SHOW_REASON,
        appointment_version=appointment.version,
        retries__isnull=True,
    )
    restored = [
        Message(
            appointment=appointment,
            client_id=message.client_id,
            location_id=message.location_id,
            rule_id=message.rule_id,
            category=message.category,
            channel=message.channel,
            to=message.to,
            subject=message.subject,
            body=message.body,
            due_at=message.due_at,
            appointment_version=message.appointment_version,
            retry_of=message,
        )
        for message in cancelled
    ]
    insert_rows(Message, restored)
    return restored


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


def message_plan_data_export_link(
    *, client: Client, link: str, now: datetime | None = None
) -> Message:
    """Queue the link to a client's data-copy page, due now (they just asked for it, so like a
    code it needs no stored consent and ignores quiet hours). bookings sends one request's link
    once (``client_request_export``), so one request makes one row."""
    now = now or timezone.now()
    location = client.preferred_location or location_default()
    body = render_template_text(
        DATA_EXPORT_LINK_TEMPLATE,
        {"link": link, "clinic_name": location.name if location else "Aftercare"},
    )
    message = Message.objects.create(
        client=client,
        location=location,
        category=Category.DATA_EXPORT,
        to=client.phone,
        body=body,
        due_at=now,
    )
    nudge_dispatch_on_commit()
    return message


def message_plan_payment_link(
    *, payment: Payment, link: str, now: datetime | None = None
) -> Message:
    """Queue the pay link of ``payment`` (a deposit for a phone booking, or a saved card that
    needs the client to authenticate), due now. Sent as a staff-style message (it needs the
    client's SMS consent, ignores quiet hours); the body names the clinic, date and amount,
    never the treatment."""
    now = now or timezone.now()
    appointment = payment.appointment
    client = appointment.client
    assert client is not None
    location = appointment.location
    when = appointment.start_at.astimezone(location.zone).strftime("%-d %b")
    amount = format_money(payment.amount, payment.currency)
    body = (
        f"Hi {client.first_name}, {location.name} asks you to pay {amount} for your visit on "
        f"{when}: {link}"
    )
    message = Message.objects.create(
        client=client,
        appointment=appointment,
        location=location,
        category=Category.ADHOC,
        to=client.phone,
        body=body,
        due_at=now,
    )
    nudge_dispatch_on_commit()
    return message


def message_plan_waitlist_offer(
    *,
    client: Client,
    location: Location,
    start_at: datetime,
    claim_path: str,
    hold_minutes: int,
    now: datetime | None = None,
) -> Message:
    """Queue the text offering a freed time (due now, with its claim link). It names no
    treatment, needs the client's SMS consent like any reminder, counts towards the daily cap,
    and goes stale within minutes, so the dispatcher skips it rather than send it late."""
    now = now or timezone.now()
    body = render_template_text(
        WAITLIST_OFFER_TEMPLATE,
        {
            "clinic_name": location.name,
            "date": local_date_text(start_at, location.zone),
            "time": local_time_text(start_at, location.zone),
            "minutes": hold_minutes,
            "claim_url": public_url(claim_path),
        },
    )
    message = Message.objects.create(
        client=client,
        location=location,
        category=Category.WAITLIST_OFFER,
        to=client.phone,
        body=body,
        due_at=now,
    )
    nudge_dispatch_on_commit()
    return message


__all__ = [
    "appointment_message_context",
    "course_is_unfinished",
    "message_plan_data_export_link",
    "message_plan_verification",
    "message_plan_waitlist_offer",
    "messages_cancel_after_no_show",
    "messages_cancel_unsent",
    "messages_follow_consultation_outcome",
    "messages_follow_screening_submitted",
    "messages_plan_after_cancellation",
    "messages_plan_after_completion",
    "messages_plan_for_appointment",
    "messages_replan_after_reschedule",
    "messages_restore_after_no_show_reverted",
    "rule_due_at",
]
