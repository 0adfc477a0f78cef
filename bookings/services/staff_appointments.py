"""What staff may do to appointments, on top of the booking rules every interface shares.

The rules of *whether* a booking, move or transition is possible live in
``bookings.services.appointments``; this module adds *who* may ask: reception and managers may
act on any appointment; a practitioner only on their own column. Staff bookings skip the online
booking window (lead time, horizon) because the front desk books by phone, but never the
no-overlap or eligibility rules.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db import models

from bookings import access, policy
from bookings.models import Appointment, Client
from bookings.services.appointments import appointment_book, appointment_reschedule
from bookings.services.transitions import (
    appointment_cancel,
    appointment_complete,
    appointment_confirm,
    appointment_mark_arrived,
    appointment_mark_no_show,
)
from clinic import roles
from clinic.errors import ValidationFailed
from clinic.models import Location, Practitioner, Room, Service
from clinic.roles import Actor


class StaffAction(models.TextChoices):
    """The desk's status actions: the staff API's ``action`` enum. The same values as
    ``policy.Action`` (moving and changing online have endpoints of their own)."""

    CONFIRM = "confirm", "Confirm"
    ARRIVE = "arrived", "Arrived"
    COMPLETE = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"
    CANCEL = "cancel", "Cancel"


STAFF_ACTIONS: dict[str, Callable[..., Appointment]] = {
    StaffAction.CONFIRM: appointment_confirm,
    StaffAction.ARRIVE: appointment_mark_arrived,
    StaffAction.COMPLETE: appointment_complete,
    StaffAction.NO_SHOW: appointment_mark_no_show,
    StaffAction.CANCEL: appointment_cancel,
}


def require_appointment_access(actor: Actor, *, practitioner_id: int | None) -> None:
    """Raise PermissionDenied unless ``actor`` may work on appointments in this practitioner's
    column (``bookings.policy.may_work_in_column``)."""
    user_id = (
        Practitioner.objects.filter(id=practitioner_id).values_list("user_id", flat=True).first()
        if practitioner_id is not None
        else None
    )
    policy.may_work_in_column(actor, practitioner_user_id=user_id).raise_if_refused()


def appointment_book_by_staff(
    *,
    actor: Actor,
    client: Client,
    service: Service,
    location: Location,
    start_at: datetime,
    practitioner: Practitioner | None = None,
    awaiting_consultation: Appointment | None = None,
    override_reason: str = "",
    room: Room | None = None,
) -> Appointment:
    """Book on the phone or at the desk (channel ``staff``), in ``room`` when one is chosen. A practitioner books only into
    their own column (and gets it when they name none).

    Raises PermissionDenied, plus everything ``appointment_book`` raises (SlotTaken with
    alternatives, SlotUnavailable, NotEligible, ValidationFailed)."""
    if practitioner is None and not roles.has_role(actor, roles.RECEPTION, roles.MANAGER):
        practitioner = Practitioner.objects.filter(user=roles.user_of(actor)).first()
    require_appointment_access(actor, practitioner_id=practitioner.id if practitioner else None)
    access.check_booking_access(actor=actor, client=client)
    return appointment_book(
        client=client,
        service=service,
        location=location,
        start_at=start_at,
        practitioner=practitioner,
        actor=actor,
        channel=Appointment.Channel.STAFF,
        awaiting_consultation=awaiting_consultation,
        override_reason=override_reason,
        enforce_booking_window=False,
        room=room,
    )


def appointment_reschedule_by_staff(
    *,
    actor: Actor,
    appointment: Appointment,
    start_at: datetime,
    practitioner: Practitioner | None = None,
    reason: str = "",
    override_reason: str = "",
    room: Room | None = None,
) -> Appointment:
    """Move ``appointment`` (by drag on the calendar or the edit form), optionally to another
    practitioner or room.

    Raises PermissionDenied (a practitioner moving a colleague's appointment or into a
    colleague's column) plus everything ``appointment_reschedule`` raises."""
    require_appointment_access(actor, practitioner_id=appointment.practitioner_id)
    if practitioner is not None and practitioner.id != appointment.practitioner_id:
        require_appointment_access(actor, practitioner_id=practitioner.id)
    return appointment_reschedule(
        appointment=appointment,
        start_at=start_at,
        practitioner=practitioner,
        actor=actor,
        reason=reason,
        enforce_booking_window=False,
        override_reason=override_reason,
        room=room,
    )


def appointment_change_status_by_staff(
    *, actor: Actor, appointment: Appointment, action: str, reason: str = ""
) -> Appointment:
    """Apply a desk action: ``confirm``, ``arrived``, ``completed``, ``no_show`` or ``cancel``
    (cancel needs a reason).

    Raises ValidationFailed (unknown action, missing reason), PermissionDenied,
    IllegalTransition (e.g. no-show before the start)."""
    transition = STAFF_ACTIONS.get(action)
    if transition is None:
        raise ValidationFailed(
            f"Unknown action {action!r}; use one of {', '.join(STAFF_ACTIONS)}", field="action"
        )
    # The policy answers first (who, status, time) so the desk gets the reason it was shown;
    # the transition checks the same rules again under the row lock.
    policy.decide(appointment=appointment, action=action, actor=actor).raise_if_refused()
    return transition(appointment=appointment, actor=actor, reason=reason)
