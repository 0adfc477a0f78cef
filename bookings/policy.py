"""What may be done to an appointment now, by whom, and why not.

One answer for every interface: the desk panel, the staff API and the manage page render their
buttons from ``allowed_actions``/``decide``, and the services (``transitions``,
``appointments``, ``staff_appointments``) refuse through the same ``decide``, so a button the
service would refuse cannot be offered. Refusals carry a ``Refusal`` code and a message a person
can read; ``Decision.raise_if_refused`` turns them into the domain error every interface maps.

The status groups, the online-change cutoff and the time rules (arrival, no-show, first
treatment after a consultation) live here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone

from bookings.completion import completion_blockers
from bookings.models import Appointment, Consultation
from clinic import roles
from clinic.errors import ApplicationError, IllegalTransition, PermissionDenied, PolicyViolation
from clinic.models import Location
from clinic.roles import Actor
from clinic.templatetags.phone_format import phone

Status = Appointment.Status


class Action(models.TextChoices):
    """What someone may ask to do with an appointment (the values are the staff API's)."""

    CONFIRM = "confirm", "Confirm"
    ARRIVE = "arrived", "Arrived"
    COMPLETE = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"
    CANCEL = "cancel", "Cancel"
    MOVE = "move", "Move"
    CHANGE_ONLINE = "change_online", "Change online"


class Refusal(models.TextChoices):
    """Why an action is not allowed now."""

    NOT_FROM_STATUS = "not_from_status", "Not possible in this status"
    TOO_EARLY_TO_ARRIVE = "too_early_to_arrive", "Too early to mark arrived"
    NOT_STARTED = "not_started", "The appointment has not started"
    NO_SHOW_TOO_SOON = "no_show_too_soon", "Too soon after the start to record a no-show"
    NO_SHOW_DAY_OVER = "no_show_day_over", "A no-show can be undone only on the day"
    CONSENT_NOT_SIGNED = "consent_not_signed", "The client's consent is not signed"
    CLIENTS_CANNOT = "clients_cannot", "Only staff can do this"
    ONLINE_CHANGES_CLOSED = "online_changes_closed", "Online changes have closed"
    NOT_STAFF = "not_staff", "Needs a staff role"
    NOT_THEIR_APPOINTMENT = "not_their_appointment", "Another practitioner's appointment"
    # Given by completion guards other apps register (bookings.completion): records' rule.
    NEEDS_SIGNED_RECORD = "needs_signed_record", "Needs a signed treatment record"


class EligibilityRefusal(models.TextChoices):
    """Why a client may not have a service at a time (``bookings.eligibility.check``); the
    value is the error code every interface returns."""

    CONSULTATION_REQUIRED = "consultation_required", "A consultation is needed first"
    CONSULTATION_PENDING = "consultation_pending", "The consultation is not assessed yet"
    NOT_SUITABLE = "not_suitable", "Assessed as not suitable"
    CLEARANCE_EXPIRED = "clearance_expired", "The clearance has expired"
    NOT_BEFORE = "not_before", "The practitioner advised waiting"
    TOO_SOON_IN_COURSE = "too_soon_in_course", "Too soon after another session"
    UPCOMING_LIMIT = "upcoming_limit", "The most upcoming online bookings for one service"


# Refusals a tentative (pending clearance) booking may wait out, held until the consultation.
REFUSALS_A_TENTATIVE_HOLD_WAITS_OUT = frozenset(
    {EligibilityRefusal.CONSULTATION_REQUIRED, EligibilityRefusal.CONSULTATION_PENDING}
)
# Refusals the booking site answers by offering a consultation.
REFUSALS_NEEDING_A_CONSULTATION = frozenset(
    {*REFUSALS_A_TENTATIVE_HOLD_WAITS_OUT, EligibilityRefusal.CLEARANCE_EXPIRED}
)


class ActorKind(models.TextChoices):
    STAFF = "staff", "Staff"
    CLIENT = "client", "Client"  # the manage link, the public API's token, an SMS reply
    SYSTEM = "system", "System"  # periodic releases, consultation outcomes


# The transition table: from each status, the statuses an appointment may move to.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.HELD: frozenset({Status.BOOKED, Status.PENDING_CLEARANCE, Status.CANCELLED}),
    Status.PENDING_CLEARANCE: frozenset({Status.BOOKED, Status.CANCELLED}),
    Status.BOOKED: frozenset({Status.CONFIRMED, Status.ARRIVED, Status.CANCELLED, Status.NO_SHOW}),
    Status.CONFIRMED: frozenset({Status.ARRIVED, Status.CANCELLED, Status.NO_SHOW}),
    Status.ARRIVED: frozenset({Status.COMPLETED, Status.NO_SHOW}),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
    # Back to arrived when the client walks in late, on the day only (no_show_revert_refusal).
    Status.NO_SHOW: frozenset({Status.ARRIVED}),
}

# Booked and still to come: may be moved (by staff, or online before the cutoff), cancelled
# online, prepared for (screening, a first treatment hold, calendar links).
UPCOMING_STATUSES: tuple[str, ...] = (Status.PENDING_CLEARANCE, Status.BOOKED, Status.CONFIRMED)
# Booked for sure (not tentative) and still to come: the client is expected. A health re-check
# may be answered, an SMS "C" confirms it, a reminder is still worth sending.
EXPECTED_STATUSES: tuple[str, ...] = (Status.BOOKED, Status.CONFIRMED)
# Not over yet: upcoming, or the client is here (the client page's "upcoming").
OPEN_VISIT_STATUSES: tuple[str, ...] = (*UPCOMING_STATUSES, Status.ARRIVED)
# Booked or done, not cancelled or missed: the sessions of a course (``bookings.courses``) and
# what a practitioner's calendar feed carries.
BOOKED_OR_DONE_STATUSES: tuple[str, ...] = (*OPEN_VISIT_STATUSES, Status.COMPLETED)
COURSE_SESSION_STATUSES = BOOKED_OR_DONE_STATUSES
# Everything that was booked, attended or missed (reports); the staff calendar also shows holds.
BOOKED_EVER_STATUSES: tuple[str, ...] = (*BOOKED_OR_DONE_STATUSES, Status.NO_SHOW)
CALENDAR_STATUSES: tuple[str, ...] = (Status.HELD, *BOOKED_EVER_STATUSES)
# The visit's time came: the client came, or did not (the no-show rate's denominator).
DUE_STATUSES: tuple[str, ...] = (Status.ARRIVED, Status.COMPLETED, Status.NO_SHOW)
# The visit did not and will not take place.
DID_NOT_HAPPEN_STATUSES: tuple[str, ...] = (Status.CANCELLED, Status.NO_SHOW)
# A consultation in one of these will be (or was) assessed.
ASSESSABLE_CONSULTATION_STATUSES: tuple[str, ...] = (
    Status.BOOKED,
    Status.CONFIRMED,
    Status.ARRIVED,
    Status.COMPLETED,
)
# Later sessions whose health re-check state the staff calendar shows.
RECHECK_SHOWN_STATUSES: tuple[str, ...] = (*EXPECTED_STATUSES, Status.ARRIVED)

STATUS_FOR_ACTION: dict[str, str] = {
    Action.CONFIRM: Status.CONFIRMED,
    Action.ARRIVE: Status.ARRIVED,
    Action.COMPLETE: Status.COMPLETED,
    Action.NO_SHOW: Status.NO_SHOW,
    Action.CANCEL: Status.CANCELLED,
}
# The desk panel's buttons, in the order they are shown.
DESK_ACTIONS: tuple[str, ...] = (
    Action.CONFIRM,
    Action.ARRIVE,
    Action.COMPLETE,
    Action.NO_SHOW,
    Action.CANCEL,
)
CLIENT_ACTIONS = frozenset({Action.CONFIRM, Action.CANCEL, Action.MOVE, Action.CHANGE_ONLINE})

ARRIVAL_OPENS_BEFORE_START = timedelta(hours=1)
# Clinical order (DOMAIN.md): a no-show is recorded only once the client is this late.
NO_SHOW_AFTER_START = timedelta(minutes=15)
# A first treatment may be held tentatively from this long after the consultation it awaits.
FIRST_TREATMENT_GAP = timedelta(hours=24)


@dataclass(frozen=True)
class Decision:
    action: str
    refusal: str | None = None
    message: str = ""

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    def raise_if_refused(self) -> None:
        """Raise the domain error for a refusal: PermissionDenied (not this actor's),
        PolicyViolation (online changes closed) or IllegalTransition (status, time, clients)."""
        if self.refusal is None:
            return
        error: type[ApplicationError]
        field: str | None = "status"
        if self.refusal in {Refusal.NOT_STAFF, Refusal.NOT_THEIR_APPOINTMENT}:
            error, field = PermissionDenied, None
        elif self.refusal == Refusal.ONLINE_CHANGES_CLOSED:
            error, field = PolicyViolation, "start"
        else:
            error = IllegalTransition
        raise error(self.message, field=field, extra={"reason": self.refusal})


def action_label(*, appointment: Appointment, action: str) -> str:
    """The words on the button for ``action``: "Arrived" on a no-show (allowed only on the
    day, ``no_show_revert_refusal``) is an undo, and says so."""
    if action == Action.ARRIVE and appointment.status == Status.NO_SHOW:
        return "Undo no-show — arrived"
    return Action(action).label


def actor_kind(actor: Actor, actor_label: str | None = None) -> str:
    """Who is asking, as the services label them: ``system``, a client (``client``,
    ``client:sms``) or staff (``staff:<username>``)."""
    label = actor_label or roles.actor_label(actor)
    if label == "system":
        return ActorKind.SYSTEM
    if label.startswith("client"):
        return ActorKind.CLIENT
    return ActorKind.STAFF


def online_change_deadline(appointment: Appointment) -> datetime:
    """The last moment a client may move or cancel online (the location's cutoff)."""
    return appointment.start_at - timedelta(hours=appointment.location.online_change_cutoff_hours)


def online_changes_closed_message(location: Location) -> str:
    return (
        f"Online changes close {location.online_change_cutoff_hours} hours before your "
        f"appointment. Please call us on "
        f"{phone(location.phone, location.country) if location.phone else 'the clinic'}."
    )


def first_treatment_earliest(consultation: Appointment) -> datetime:
    """The earliest start of a treatment held until ``consultation``'s outcome."""
    return consultation.end_at + FIRST_TREATMENT_GAP


FIRST_TREATMENT_TOO_SOON = "A first treatment can be held from 24 hours after your consultation."


def may_work_in_column(actor: Actor, *, practitioner_user_id: int | None) -> Decision:
    """Reception and managers may work on any appointment; a practitioner only in their own
    column (``practitioner_user_id`` is the user of the column's practitioner)."""
    if roles.has_role(actor, roles.RECEPTION, roles.MANAGER):
        return Decision(action="")
    if roles.has_role(actor, roles.PRACTITIONER):
        if practitioner_user_id is not None and practitioner_user_id == actor.pk:  # type: ignore[union-attr]
            return Decision(action="")
        return Decision(
            action="",
            refusal=Refusal.NOT_THEIR_APPOINTMENT,
            message="You can only work on your own appointments",
        )
    return Decision(action="", refusal=Refusal.NOT_STAFF, message="This needs a staff role")


def transition_table_decision(*, appointment: Appointment, to_status: str) -> Decision:
    """The transition table alone (for system changes such as releasing an expired hold)."""
    if to_status in ALLOWED_TRANSITIONS[appointment.status]:
        return Decision("")
    return Decision(
        "", Refusal.NOT_FROM_STATUS, _status_refusal(appointment, "", ActorKind.SYSTEM, to_status)
    )


def _status_refusal(
    appointment: Appointment, action: str, kind: str, to_status: str | None = None
) -> str:
    status_label = appointment.get_status_display().lower()
    if kind == ActorKind.CLIENT and action == Action.CANCEL:
        return "This booking can no longer be cancelled online."
    if kind == ActorKind.CLIENT and action in {Action.MOVE, Action.CHANGE_ONLINE}:
        return "This booking can no longer be changed online."
    if action in {Action.MOVE, Action.CHANGE_ONLINE}:
        return f"A {status_label} appointment cannot be moved."
    to_label = Status(to_status or STATUS_FOR_ACTION[action]).label.lower()
    return f"Cannot change a {status_label} appointment to {to_label}."


def transition_decision(
    *, appointment: Appointment, to_status: str, kind: str, now: datetime | None = None
) -> Decision:
    """May ``appointment`` move to ``to_status`` now, asked by this kind of actor? The
    transition table, then the clinical-order rules (arrival from an hour before the start;
    completion after the start and, for a treatment, with signed consent and whatever the
    completion guards of ``bookings.completion`` ask (a signed record); a no-show from 15
    minutes after the start, undone to arrived on the day), then what clients may do online
    (confirm; cancel before the cutoff)."""
    now = now or timezone.now()
    action = next((a for a, s in STATUS_FOR_ACTION.items() if s == to_status), "")
    if kind == ActorKind.CLIENT and action not in CLIENT_ACTIONS:
        return Decision(action, Refusal.CLIENTS_CANNOT, "Clients can only confirm or cancel.")
    allowed_from = ALLOWED_TRANSITIONS[appointment.status]
    if kind == ActorKind.CLIENT and to_status == Status.CANCELLED:
        allowed_from = allowed_from if appointment.status in UPCOMING_STATUSES else frozenset()
    if to_status not in allowed_from:
        return Decision(
            action, Refusal.NOT_FROM_STATUS, _status_refusal(appointment, action, kind, to_status)
        )
    time_rule = _TIME_RULES.get(Status(to_status))
    if time_rule is not None:
        refused = time_rule(appointment, action, now)
        if refused is not None:
            return refused
    if kind == ActorKind.CLIENT and to_status == Status.CANCELLED:
        return _online_cutoff(appointment, action, now)
    return Decision(action)


# Clinical order: when each step of a visit may be recorded. One small function per rule, each
# returning the refusal or None (``transition_decision`` asks the one for the target status).


def arrival_refusal(appointment: Appointment, action: str, now: datetime) -> Decision | None:
    if appointment.status == Status.NO_SHOW:
        return no_show_revert_refusal(appointment, action, now)
    if now < appointment.start_at - ARRIVAL_OPENS_BEFORE_START:
        return Decision(
            action,
            Refusal.TOO_EARLY_TO_ARRIVE,
            "A client can be marked arrived from one hour before the start.",
        )
    return None


def no_show_refusal(appointment: Appointment, action: str, now: datetime) -> Decision | None:
    if now < appointment.start_at + NO_SHOW_AFTER_START:
        minutes = int(NO_SHOW_AFTER_START.total_seconds() // 60)
        return Decision(
            action,
            Refusal.NO_SHOW_TOO_SOON,
            f"A no-show can be recorded from {minutes} minutes after the start time.",
        )
    return None


def no_show_revert_refusal(appointment: Appointment, action: str, now: datetime) -> Decision | None:
    zone = appointment.location.zone
    if now.astimezone(zone).date() != appointment.start_at.astimezone(zone).date():
        return Decision(
            action,
            Refusal.NO_SHOW_DAY_OVER,
            "A no-show can be changed back to arrived only on the day of the visit.",
        )
    return None


def completion_refusal(appointment: Appointment, action: str, now: datetime) -> Decision | None:
    if now < appointment.start_at:
        return Decision(
            action, Refusal.NOT_STARTED, "A visit can be completed only after its start time."
        )
    if not treatment_consent_is_signed(appointment):
        return Decision(
            action,
            Refusal.CONSENT_NOT_SIGNED,
            "The client's consent has not been signed: record the signed consent on their "
            "consultation before completing the treatment.",
        )
    # What else a finished visit needs is known to the apps that registered a guard (records:
    # a treatment needs a signed record); bookings imports none of them.
    for blocker in completion_blockers(appointment):
        return Decision(action, blocker.code, blocker.message)
    return None


def treatment_consent_is_signed(appointment: Appointment) -> bool:
    """A treatment that needs a consultation is done only with the client's consent signed on
    a clearance for it that is valid on the day (one indexed query)."""
    service = appointment.service
    if service.is_consultation or not service.requires_consultation:
        return True
    if appointment.client_id is None:
        return False
    local_date = appointment.start_at.astimezone(appointment.location.zone).date()
    return Consultation.objects.filter(
        client_id=appointment.client_id,
        outcome=Consultation.Outcome.CLEARED,
        services_cleared=service,
        valid_until__gte=local_date,
        consent_signed_at__isnull=False,
    ).exists()


_TIME_RULES = {
    Status.ARRIVED: arrival_refusal,
    Status.COMPLETED: completion_refusal,
    Status.NO_SHOW: no_show_refusal,
}


def move_decision(*, appointment: Appointment, kind: str, now: datetime | None = None) -> Decision:
    """May ``appointment`` be moved now (clients: online, before the cutoff)?"""
    action = Action.CHANGE_ONLINE if kind == ActorKind.CLIENT else Action.MOVE
    if appointment.status not in UPCOMING_STATUSES:
        return Decision(action, Refusal.NOT_FROM_STATUS, _status_refusal(appointment, action, kind))
    if kind == ActorKind.CLIENT:
        return _online_cutoff(appointment, action, now or timezone.now())
    return Decision(action)


def _online_cutoff(appointment: Appointment, action: str, now: datetime) -> Decision:
    if now > online_change_deadline(appointment):
        return Decision(
            action,
            Refusal.ONLINE_CHANGES_CLOSED,
            online_changes_closed_message(appointment.location),
        )
    return Decision(action)


def decide(
    *,
    appointment: Appointment,
    action: str,
    actor: Actor = None,
    actor_label: str | None = None,
    now: datetime | None = None,
) -> Decision:
    """May this actor do ``action`` to ``appointment`` now, and if not, why not. Staff are
    also held to their column (``may_work_in_column``); ``change_online`` is always asked for
    the client."""
    kind = ActorKind.CLIENT if action == Action.CHANGE_ONLINE else actor_kind(actor, actor_label)
    if kind == ActorKind.STAFF:
        column = may_work_in_column(actor, practitioner_user_id=appointment.practitioner.user_id)
        if not column.allowed:
            return Decision(action, column.refusal, column.message)
    if action in {Action.MOVE, Action.CHANGE_ONLINE}:
        return move_decision(appointment=appointment, kind=kind, now=now)
    return transition_decision(
        appointment=appointment, to_status=STATUS_FOR_ACTION[action], kind=kind, now=now
    )


def allowed_actions(
    *,
    appointment: Appointment,
    actor: Actor = None,
    actor_label: str | None = None,
    now: datetime | None = None,
) -> list[str]:
    """The actions this actor may take on ``appointment`` now, in ``Action`` order."""
    now = now or timezone.now()
    return [
        action
        for action in Action.values
        if decide(
            appointment=appointment, action=action, actor=actor, actor_label=actor_label, now=now
        ).allowed
    ]
