"""Appointment status changes: the allowed transitions, who may make them, and the record.

Every status change in bookings goes through ``appointment_transition`` (or ``set_status``
inside a service that already holds the row): it checks the table below, writes an
``AppointmentEvent`` (who, when, why) and sends the matching domain signal inside the
transaction, so receivers (reminders, consultations) commit or roll back with the change.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from bookings import policy, signals
from bookings.models import ACTIVE_STATUSES, Appointment, AppointmentEvent
from clinic import roles
from clinic.db import insert_rows
from clinic.errors import IllegalTransition, ValidationFailed
from clinic.roles import Actor

logger = logging.getLogger(__name__)

Status = Appointment.Status

SIGNAL_FOR_STATUS: dict[str, Signal] = {
    Status.HELD: signals.appointment_held,
    Status.PENDING_CLEARANCE: signals.appointment_pending_clearance,
    Status.BOOKED: signals.appointment_booked,
    Status.CONFIRMED: signals.appointment_confirmed,
    Status.ARRIVED: signals.appointment_arrived,
    Status.COMPLETED: signals.appointment_completed,
    Status.CANCELLED: signals.appointment_cancelled,
    Status.NO_SHOW: signals.appointment_no_show,
}


def actor_label_for(actor: Actor, actor_label: str | None) -> str:
    return actor_label or roles.actor_label(actor)


def record_event(
    appointment: Appointment,
    *,
    kind: str,
    from_status: str = "",
    to_status: str = "",
    actor: Actor,
    label: str,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    # Written on every booking and status change; no receiver listens for its post_save, so
    # the cheaper insert (no signals, as bulk_create) changes nothing but the cost.
    event = AppointmentEvent(
        appointment=appointment,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=label,
        reason=reason,
        details=details or {},
    )
    insert_rows(AppointmentEvent, [event])


def set_status(
    appointment: Appointment,
    to_status: str,
    *,
    actor: Actor,
    label: str,
    reason: str = "",
) -> Appointment:
    from_status = appointment.status
    policy.transition_table_decision(
        appointment=appointment, to_status=to_status
    ).raise_if_refused()
    appointment.status = to_status
    update_fields = ["status", "updated_at"]
    if to_status == Status.CANCELLED:
        appointment.cancellation_reason = reason[:300]
        update_fields.append("cancellation_reason")
    if from_status == Status.HELD and to_status != Status.CANCELLED:
        appointment.hold_expires_at = None
        update_fields.append("hold_expires_at")
    appointment.save(update_fields=update_fields)
    record_event(
        appointment,
        kind="transition",
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        label=label,
        reason=reason,
    )
    extra = {"reason": reason} if to_status == Status.CANCELLED else {}
    SIGNAL_FOR_STATUS[to_status].send(
        sender=Appointment, appointment=appointment, actor_label=label, **extra
    )
    if from_status == Status.NO_SHOW:
        signals.appointment_no_show_reverted.send(
            sender=Appointment, appointment=appointment, actor_label=label
        )
    return appointment


def _check_time_still_free(appointment: Appointment) -> None:
    """A no-show freed its time; putting it back needs the practitioner, room and client to be
    free still (one query; the exclusion constraints are the backstop on PostgreSQL)."""
    overlapping = Q(practitioner_id=appointment.practitioner_id)
    if appointment.room_id is not None:
        overlapping |= Q(room_id=appointment.room_id)
    if appointment.client_id is not None:
        overlapping |= Q(
            client_id=appointment.client_id,
            start_at__lt=appointment.end_at,
            end_at__gt=appointment.start_at,
        )
    taken = (
        Appointment.objects.filter(
            overlapping,
            status__in=ACTIVE_STATUSES,
            blocked_start_at__lt=appointment.blocked_end_at,
            blocked_end_at__gt=appointment.blocked_start_at,
        )
        .exclude(pk=appointment.pk)
        .exists()
    )
    if taken:
        raise IllegalTransition(
            "That time has been booked for someone else since the no-show was recorded.",
            field="status",
        )


def appointment_transition(
    *,
    appointment: Appointment,
    to_status: str,
    actor: Actor = None,
    reason: str = "",
    actor_label: str | None = None,
) -> Appointment:
    """Move an appointment to ``to_status`` if the transition table allows it.

    The rules (the table, arrival, completion and no-show times, signed consent, what clients
    may do online) are ``bookings.policy.transition_decision``. Raises IllegalTransition,
    PolicyViolation or ValidationFailed (a staff cancellation without a reason).
    """
    label = actor_label_for(actor, actor_label)
    with transaction.atomic():
        # Lock the appointment row only: FOR UPDATE would otherwise also lock the joined
        # location and service rows and serialise every transition in the clinic.
        locked = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("location", "service")
            .get(pk=appointment.pk)
        )
        kind = policy.actor_kind(actor, label)
        policy.transition_decision(
            appointment=locked, to_status=to_status, kind=kind
        ).raise_if_refused()
        if to_status == Status.CANCELLED and not reason.strip() and kind != policy.ActorKind.CLIENT:
            raise ValidationFailed("Please give a reason for the cancellation.", field="reason")
        if locked.status == Status.NO_SHOW:
            _check_time_still_free(locked)
        set_status(locked, to_status, actor=actor, label=label, reason=reason)
    appointment.refresh_from_db()
    return locked


def appointment_cancel(
    *,
    appointment: Appointment,
    actor: Actor = None,
    reason: str = "",
    actor_label: str | None = None,
) -> Appointment:
    """Cancel; the slot is free again at once. Raises IllegalTransition, PolicyViolation."""
    reason = reason.strip() or (
        "Cancelled by client" if actor_label_for(actor, actor_label) == "client" else ""
    )
    return appointment_transition(
        appointment=appointment,
        to_status=Status.CANCELLED,
        actor=actor,
        reason=reason,
        actor_label=actor_label,
    )


# Named shortcuts for the desk and the SMS replies; all rules live in appointment_transition.
appointment_confirm = partial(appointment_transition, to_status=Status.CONFIRMED)
appointment_confirm.__doc__ = "The client (reply C, the manage page) or staff confirmed attendance."
appointment_mark_arrived = partial(appointment_transition, to_status=Status.ARRIVED)
appointment_mark_arrived.__doc__ = "The client is here (from one hour before the start)."
appointment_complete = partial(appointment_transition, to_status=Status.COMPLETED)
appointment_complete.__doc__ = "The visit is done (after arrival and the start; consent signed)."
appointment_mark_no_show = partial(appointment_transition, to_status=Status.NO_SHOW)
appointment_mark_no_show.__doc__ = "The client did not come (from 15 minutes after the start)."
appointment_revert_no_show = partial(appointment_transition, to_status=Status.ARRIVED)
appointment_revert_no_show.__doc__ = (
    "A client marked no-show came late: arrived after all (on the day of the visit)."
)


def holds_release_expired(*, now: datetime | None = None) -> int:
    """Cancel every hold whose time is up (periodic; booking also releases holds in its way)."""
    now = now or timezone.now()
    released = 0
    with transaction.atomic():
        for hold in Appointment.objects.select_for_update().filter(
            status=Status.HELD, hold_expires_at__lte=now
        ):
            set_status(hold, Status.CANCELLED, actor=None, label="system", reason="hold expired")
            released += 1
    if released:
        logger.info("expired holds released", extra={"count": released})
    return released
