"""Alerts to staff: an email to the practitioner (or, failing that, the managers) when something
needs a person now — an aftercare reply with worrying words, or a client saying their health
changed before a visit.

The inbox and the calendar flag already show these; an alert makes sure someone looks even when
nobody has the workspace open. Alerts are an outbox (``StaffAlert``): planned in the transaction
that noticed the event, one per recipient and event however often it is announced, sent by a
task after commit and retried by a periodic sweep, so none is lost if the broker or the mail
server is down for a while. Sending is at least once: a crash between the mail server accepting
and the row being marked sent means a second email, which is the right side to err on here.

Privacy: the email names no client and carries neither the reply nor any screening detail, only
a link into the workspace, where reading is permission-checked and audited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bookings.models import Appointment
from clinic import roles
from reminders.models import InboundMessage, StaffAlert
from reminders.rendering import local_date_text, local_time_text, public_url

logger = logging.getLogger(__name__)

# With the sweep every two minutes this keeps trying for about twenty minutes.
MAX_ATTEMPTS = 10
# The task enqueued at commit normally sends within seconds; the sweep leaves it that long.
SWEEP_GRACE = timedelta(minutes=2)


def _recipients(appointment: Appointment | None, *, managers_only: bool = False) -> list:
    """The appointment's practitioner when they can get email; otherwise every manager who can."""
    practitioner = appointment.practitioner if appointment is not None else None
    if managers_only:
        practitioner = None
    user = practitioner.user if practitioner is not None else None
    if user is not None and user.is_active and user.email:
        return [user]
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.MANAGER)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )


def _plan(
    *,
    kind: str,
    event_key: str,
    appointment: Appointment | None,
    inbound: InboundMessage | None,
    subject: str,
    body_for: Callable[[User], str],
    managers_only: bool = False,
) -> list[StaffAlert]:
    recipients = _recipients(appointment, managers_only=managers_only)
    if not recipients:
        logger.warning(
            "staff alert has nobody to go to",
            extra={"kind": kind, "appointment_id": getattr(appointment, "pk", None)},
        )
    planned = []
    for user in recipients:
        alert, created = StaffAlert.objects.get_or_create(
            dedupe_key=f"{kind}:{event_key}:user:{user.pk}",
            defaults={
                "kind": kind,
                "recipient": user,
                "appointment": appointment,
                "inbound": inbound,
                "subject": subject,
                "body": body_for(user),
            },
        )
        if created:
            planned.append(alert)
            transaction.on_commit(partial(_enqueue, alert.pk))
    return planned


def _enqueue(alert_id: int) -> None:
    from reminders import tasks

    try:
        tasks.send_staff_alert.delay(alert_id)
    except Exception:  # noqa: BLE001 - any broker error; the sweep sends it instead
        logger.warning("staff alert task not queued; the sweep will send it", exc_info=True)


def _greeting(user: User) -> str:
    return f"Hello {user.first_name}," if user.first_name else "Hello,"


def staff_alert_urgent_reply(*, inbound: InboundMessage, location_open: bool) -> list[StaffAlert]:
    """Plan alerts for an aftercare reply flagged urgent (``inbound.appointment`` is the treated
    visit, so its practitioner hears first)."""
    appointment = inbound.appointment
    link = public_url(reverse("staff-inbox"))
    told = (
        "They were told that their practitioner will contact them soon."
        if location_open
        else "The clinic was closed, so they were given the urgent contact number."
    )

    def body_for(user: User) -> str:
        return (
            f"{_greeting(user)}\n\n"
            "A client sent a text with words that can mean a problem "
            "(such as swelling, bleeding or pain). Please read the reply and contact them:\n\n"
            f"{link}\n\n{told}\n\n"
            "This email leaves out client details on purpose: sign in to see them."
        )

    return _plan(
        kind=StaffAlert.Kind.URGENT_REPLY,
        event_key=f"inbound:{inbound.pk}",
        appointment=appointment,
        inbound=inbound,
        subject="Urgent aftercare reply waiting in the inbox",
        body_for=body_for,
    )


def staff_alert_health_changed(*, appointment: Appointment) -> list[StaffAlert]:
    """Plan alerts for a client's "something changed" health re-check before ``appointment``
    (one per visit, however often the client answers)."""
    zone = appointment.location.zone
    when = (
        f"{local_date_text(appointment.start_at, zone)} at "
        f"{local_time_text(appointment.start_at, zone)}"
    )
    link = public_url(reverse("staff-appointment", args=[appointment.pk]))

    def body_for(user: User) -> str:
        return (
            f"{_greeting(user)}\n\n"
            "A client says their health has changed since their consultation. Please review "
            f"it before their appointment on {when} at {appointment.location.name}:\n\n"
            f"{link}\n\n"
            "This email leaves out client details on purpose: sign in to see them."
        )

    return _plan(
        kind=StaffAlert.Kind.HEALTH_CHANGED,
        event_key=f"appointment:{appointment.pk}",
        appointment=appointment,
        inbound=None,
        subject="A client's health changed before their visit",
        body_for=body_for,
    )


def staff_alert_verification_budget(
    *, budget: int, window_started_at: datetime
) -> list[StaffAlert]:
    """Tell the managers that verification texts are paused because the service-wide hourly
    budget is spent (at most one alert per hour, however many requests are refused)."""
    hour = window_started_at.strftime("%Y%m%d%H")

    def body_for(user) -> str:  # noqa: ANN001
        return (
            f"{_greeting(user)}\n\n"
            f"More than {budget} verification codes were requested in the last hour, so the "
            "booking site has stopped sending codes until the hour frees up. Clients cannot "
            "book online without one meanwhile; reception can still book by phone.\n\n"
            "A sudden burst usually means someone is abusing the form to send paid texts "
            "(SMS pumping). If bookings are really that busy, raise VERIFICATION_SMS_PER_HOUR."
        )

    return _plan(
        kind=StaffAlert.Kind.SMS_BUDGET,
        event_key=f"hour:{hour}",
        appointment=None,
        inbound=None,
        subject="Verification texts paused: hourly budget reached",
        body_for=body_for,
        managers_only=True,
    )


def staff_alert_data_request(*, client_id: int, request_id: int) -> list[StaffAlert]:
    """Tell the managers that a client asked for a copy of their data (a legal deadline runs
    from today). The email links to the client's data-protection page and names nobody."""
    link = public_url(reverse("staff-client-data", args=[client_id]))

    def body_for(user) -> str:  # noqa: ANN001
        return (
            f"{_greeting(user)}\n\n"
            "A client asked from their booking page for a copy of the information we hold "
            "about them. We texted them a 24-hour link to download it after a code to their "
            "phone. If they cannot use it, export it here and send it to them securely:\n\n"
            f"{link}\n\n"
            "This email leaves out client details on purpose: sign in to see them."
        )

    return _plan(
        kind=StaffAlert.Kind.DATA_REQUEST,
        event_key=f"request:{request_id}",
        appointment=None,
        inbound=None,
        subject="A client asked for a copy of their data",
        body_for=body_for,
        managers_only=True,
    )


def staff_alert_send(*, alert_id: int, now: datetime | None = None) -> bool:
    """Email one planned alert unless it has been sent. True when this call sent it.

    The row stays locked while the mail server is talked to, so two workers never send the same
    alert at once; a failure is counted and left for the sweep."""
    now = now or timezone.now()
    with transaction.atomic():
        alert = (
            StaffAlert.objects.select_for_update(skip_locked=True)
            .select_related("recipient")
            .filter(pk=alert_id, sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
            .first()
        )
        if alert is None:
            return False
        recipient = alert.recipient
        alert.attempts += 1
        if not (recipient.is_active and recipient.email):
            alert.attempts = MAX_ATTEMPTS
            alert.last_error = "recipient has no email address or is inactive"
            alert.save(update_fields=["attempts", "last_error"])
            logger.warning("staff alert undeliverable", extra={"alert_id": alert.pk})
            return False
        try:
            send_mail(alert.subject, alert.body, None, [recipient.email])
        except Exception as error:  # noqa: BLE001 - any mail failure is retried by the sweep
            alert.last_error = f"{type(error).__name__}: {error}"[:200]
            alert.save(update_fields=["attempts", "last_error"])
            logger.warning(
                "staff alert not sent",
                extra={
                    "alert_id": alert.pk,
                    "attempts": alert.attempts,
                    "error": type(error).__name__,
                },
            )
            return False
        alert.sent_at = now
        alert.last_error = ""
        alert.save(update_fields=["attempts", "sent_at", "last_error"])
    logger.info("staff alert sent", extra={"alert_id": alert.pk, "kind": alert.kind})
    return True


def staff_alerts_send_unsent(*, now: datetime | None = None) -> int:
    """The sweep: send alerts whose task never ran or failed. Returns how many were sent."""
    now = now or timezone.now()
    due = StaffAlert.objects.filter(
        sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS, created_at__lte=now - SWEEP_GRACE
    ).values_list("pk", flat=True)
    return sum(staff_alert_send(alert_id=pk, now=now) for pk in list(due[:200]))
