"""Replies from clients: keywords are acted on, everything else is surfaced to staff."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from bookings import policy
from bookings.models import Appointment, Client
from bookings.selectors.consultations import appointment_awaiting_recheck
from bookings.services.consultations import health_recheck_answer
from bookings.tokens import manage_token_for
from clinic.errors import ApplicationError
from clinic.models import Location
from clinic.selectors import location_default
from records.services.ratings import course_rating_record
from records.services.recalls import recall_replies_record
from reminders.models import InboundMessage, Message, ReminderRule
from reminders.rendering import OPT_OUT_LINE, local_date_text, local_time_text, public_url
from reminders.services.outbox import client_opt_in, client_opt_out
from reminders.services.staff_alerts import staff_alert_urgent_reply
from reminders.triage import reply_triage

logger = logging.getLogger(__name__)

OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})
# Not YES: carriers and Twilio treat it as an opt-in keyword.
CONFIRM_KEYWORDS = frozenset({"C", "CONFIRM"})
RECHECK_ANSWERS = {"1": False, "2": True}  # 1 = no change, 2 = something changed
RATING_ANSWERS = frozenset({"1", "2", "3", "4", "5"})
# A digit answers the rating question while it is the latest question we asked (the health
# re-check also asks for a digit), for this long after it went out.
RATING_REPLY_WINDOW = timedelta(days=21)


@dataclass(frozen=True)
class InboundResult:
    inbound: InboundMessage
    reply: str  # empty = no auto-reply


def _keyword(body: str) -> str:
    return re.sub(r"[^\w]", "", body.strip()).upper() if len(body.split()) <= 1 else ""


def _next_appointment(client: Client, now: datetime) -> Appointment | None:
    return (
        Appointment.objects.filter(
            client=client,
            start_at__gt=now,
            status__in=policy.EXPECTED_STATUSES,
        )
        .select_related("location")
        .order_by("start_at")
        .first()
    )


def _location_for(client: Client | None, appointment: Appointment | None) -> Location | None:
    if appointment is not None:
        return appointment.location
    if client is not None and client.preferred_location_id:
        return client.preferred_location
    return location_default()


def _is_open(location: Location, now: datetime) -> bool:
    local = now.astimezone(location.zone)
    hours = location.desk_hours_on(local.date())
    return hours is not None and hours[0] <= local.time() < hours[1]


def inbound_receive(
    *,
    provider_sid: str,
    from_number: str,
    to_number: str,
    body: str,
    now: datetime | None = None,
) -> InboundResult:
    """Store a reply and act on it. Returns the reply text for TwiML (empty = none).

    A repeated webhook for the same provider SID returns the stored reply and acts once."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            inbound = InboundMessage.objects.create(
                provider_sid=provider_sid,
                from_number=from_number,
                to_number=to_number,
                body=body[:1600],
                client=Client.objects.filter(phone=from_number).first(),
            )
    except IntegrityError:
        inbound = InboundMessage.objects.get(provider_sid=provider_sid)
        return InboundResult(inbound, inbound.reply_body)

    client = inbound.client
    appointment = _next_appointment(client, now) if client else None
    location = _location_for(client, appointment)
    clinic_name = location.name if location else "the clinic"
    keyword = _keyword(body)
    reply = ""
    kind = InboundMessage.Kind.OTHER
    is_urgent = False
    red_flags: list[str] = []

    if keyword in OPT_OUT_KEYWORDS:
        kind = InboundMessage.Kind.STOP
        if client is not None:
            client_opt_out(client=client, method=f"sms_{keyword.lower()}", now=now)
        if keyword == "CANCEL" and appointment is not None:
            reply = (
                f"You won't get more texts from {clinic_name}. To cancel your appointment, "
                f"use {public_url(reverse('site-manage', args=[manage_token_for(appointment)]))}"
            )
    elif keyword in OPT_IN_KEYWORDS:
        kind = InboundMessage.Kind.START
        if client is not None:
            client_opt_in(client=client, method=f"sms_{keyword.lower()}", wording=body, now=now)
        reply = f"{clinic_name}: you'll get appointment texts again. {OPT_OUT_LINE}"
    elif keyword in HELP_KEYWORDS:
        kind = InboundMessage.Kind.HELP
        phone = location.phone if location else ""
        reply = f"{clinic_name} appointment texts. Call us on {phone}. {OPT_OUT_LINE}"
    elif keyword in CONFIRM_KEYWORDS:
        kind = InboundMessage.Kind.CONFIRM
        reply = _confirm_next(client=client, appointment=appointment, location=location)
    elif (
        keyword in RATING_ANSWERS
        and client is not None
        and (asked := _rating_asked(client, now)) is not None
        and asked.appointment is not None
    ):
        kind = InboundMessage.Kind.RATING
        course_rating_record(client=client, service=asked.appointment.service, rating=int(keyword))
        appointment = asked.appointment
        reply = f"Thank you for rating your results, from all of us at {clinic_name}."
    elif keyword in RECHECK_ANSWERS:
        kind = InboundMessage.Kind.RECHECK
        reply, recheck_appointment = _record_recheck(
            client=client, changed=RECHECK_ANSWERS[keyword]
        )
        appointment = recheck_appointment or appointment
    else:
        triage = reply_triage(client=client, body=body, now=now)
        is_urgent, red_flags = triage.is_urgent, list(triage.categories)
        if is_urgent:
            # The reply is about the visit that was treated, not the next one (or none).
            appointment = triage.treatment
            location = _location_for(client, appointment)
            if location is not None:
                reply = urgent_reply_text(location=location, now=now)

    with transaction.atomic():
        # The flag and the alert to staff commit together: no urgent reply without an alert.
        InboundMessage.objects.filter(pk=inbound.pk).update(
            kind=kind,
            is_urgent=is_urgent,
            red_flags=red_flags,
            appointment=appointment,
            reply_body=reply,
            # Keywords are fully handled here; other replies wait for staff.
            handled_at=now if kind in _SELF_HANDLED else None,
        )
        inbound.refresh_from_db()
        if client is not None and kind == InboundMessage.Kind.OTHER:
            # Any free-text reply answers the recall notices the client has been sent.
            recall_replies_record(client=client, received_at=now)
        if is_urgent:
            staff_alert_urgent_reply(
                inbound=inbound,
                location_open=location is not None and _is_open(location, now),
            )
    if is_urgent:
        logger.warning(
            "urgent reply flagged", extra={"inbound_id": inbound.pk, "client_id": inbound.client_id}
        )
    return InboundResult(inbound, reply)


_SELF_HANDLED = frozenset(
    {
        InboundMessage.Kind.STOP,
        InboundMessage.Kind.START,
        InboundMessage.Kind.HELP,
        InboundMessage.Kind.RATING,
    }
)


def _rating_asked(client: Client, now: datetime) -> Message | None:
    """The rating question the client is answering: our latest digit question to them, if it
    asked for a rating and went out recently."""
    latest = (
        Message.objects.filter(
            client=client,
            category__in=[
                ReminderRule.Category.OUTCOME_RATING,
                ReminderRule.Category.HEALTH_RECHECK,
            ],
            sent_at__isnull=False,
            appointment__isnull=False,
        )
        .select_related("appointment__service")
        .order_by("-sent_at", "-id")
        .first()
    )
    if latest is None or latest.category != ReminderRule.Category.OUTCOME_RATING:
        return None
    asked_at = latest.sent_at
    return latest if asked_at is not None and asked_at >= now - RATING_REPLY_WINDOW else None


def urgent_reply_text(*, location: Location, now: datetime) -> str:
    """The automatic answer to a red-flag reply, at any hour: who to call now, and the
    emergency line for a severe allergic reaction. Never a diagnosis."""
    emergency = (
        "If you have trouble breathing or swelling of the lips or face, "
        f"call {location.emergency_number or '999'}."
    )
    if _is_open(location, now):
        return (
            f"{location.name}: thanks, we've passed this to your practitioner, who will contact "
            f"you soon. If it can't wait, call us on {location.phone}. {emergency}"
        )
    return (
        f"{location.name} is closed now. Please call {location.urgent_phone or location.phone} "
        f"now. {emergency}"
    )


def _confirm_next(
    *, client: Client | None, appointment: Appointment | None, location: Location | None
) -> str:
    phone = location.phone if location else ""
    if client is None or appointment is None:
        return f"We couldn't find an upcoming appointment to confirm. Please call us on {phone}."
    if appointment.status == Appointment.Status.CONFIRMED:
        return "Thanks, your appointment is already confirmed."
    from bookings import services as booking_services

    try:
        booking_services.appointment_confirm(appointment=appointment, actor_label="client:sms")
    except ApplicationError as exc:
        logger.info("sms confirmation refused", extra={"code": exc.code})
        return f"We couldn't confirm that appointment. Please call us on {phone}."
    zone = appointment.location.zone
    return (
        f"Thanks {client.first_name}, you're confirmed for "
        f"{local_date_text(appointment.start_at, zone)} at "
        f"{local_time_text(appointment.start_at, zone)}."
    )


def _record_recheck(*, client: Client | None, changed: bool) -> tuple[str, Appointment | None]:
    """Pass a 1/2 answer to the consultation flow. If that flow's functions are not available
    the reply stays unhandled (kind ``recheck``) for staff to record."""
    if client is None:
        return "", None
    appointment = appointment_awaiting_recheck(client=client)
    if appointment is None:
        return "", None
    try:
        health_recheck_answer(appointment=appointment, changed=changed, via="sms")
    except ApplicationError as exc:
        logger.info("sms recheck answer refused", extra={"code": exc.code})
        return "", appointment
    if changed:
        return "Thanks for telling us. The clinic will contact you before your visit.", appointment
    return "Thanks, see you soon.", appointment
