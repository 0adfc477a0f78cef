"""Appointments: hold, book and reschedule (status changes are in ``transitions``).

Every write goes through here so that every interface obeys the same rules:

* **No double booking.** The slot is re-checked inside the writing transaction. On SQLite that
  transaction starts with ``BEGIN IMMEDIATE`` (settings), so writers are serialised and the
  check cannot race. On PostgreSQL two transactions may both see the slot free; their writes
  queue on a lock per hour of the practitioner's and the room's time, and the exclusion
  constraints (migration 0002) let exactly one win while the other gets ``SlotTaken``.
* **Eligibility** (consultation first, course spacing…) is ``bookings.eligibility.check``.
* Each change records an ``AppointmentEvent`` and sends its domain signal inside the
  transaction (see ``bookings.services.transitions``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from bookings import eligibility, policy, signals
from bookings.availability import Slot, nearest_free_slots, slot_at
from bookings.metrics import counts_booking_outcomes
from bookings.models import ACTIVE_STATUSES, Appointment, Client
from bookings.services.clients import client_note_visit, client_registered_here_with_no_visits
from bookings.services.transitions import (
    SIGNAL_FOR_STATUS,
    Status,
    actor_label_for,
    record_event,
    set_status,
)
from clinic import roles
from clinic.db import lock_for_transaction, placeholders, save_new
from clinic.errors import (
    ApplicationError,
    ClientBusy,
    ConsultationAlreadyBooked,
    HoldExpired,
    NotEligible,
    SlotTaken,
    SlotUnavailable,
    ValidationFailed,
)
from clinic.models import Location, Practitioner, Room, Service
from clinic.roles import Actor

logger = logging.getLogger(__name__)


EXCLUSION_CONSTRAINTS = ("appointment_no_practitioner_overlap", "appointment_no_room_overlap")
CLIENT_OVERLAP_CONSTRAINT = "appointment_no_client_overlap"


def _alternatives(
    *, service: Service, location: Location, around: datetime, practitioner: Practitioner | None
) -> list[str]:
    return [
        slot.start_at.isoformat()
        for slot in nearest_free_slots(
            service=service, location=location, around=around, practitioner=practitioner
        )
    ]


class _ClientOverlap(ClientBusy):
    """The client-overlap constraint refused ``appointment``. The statement failed, so its
    transaction can run nothing more until it rolls back; the visit in the way is named after
    that (``refusals_completed_after_rollback``), which spares a savepoint around every write."""

    def __init__(self, appointment: Appointment) -> None:
        super().__init__(
            "There is already an appointment for this client at that time.", field="start"
        )
        self.appointment = appointment


@contextmanager
def refusals_completed_after_rollback(
    *,
    service: Service,
    location: Location,
    around: datetime,
    practitioner: Practitioner | None,
    alternatives: bool = True,
) -> Iterator[None]:
    """Wrap a booking transaction: a SlotTaken raised inside it (slot full, or a lost race)
    gets the nearest free times as ``alternatives`` (unless ``alternatives`` is False), and a
    client-overlap violation becomes the ClientBusy naming the visit in the way, only once the
    transaction has rolled back, so a loser searches without holding the calendar lock the
    next writer is queueing on.

    A transaction nested without a savepoint (``appointment_book(savepoint=False)``) cannot run
    the search when it fails: the caller's transaction is doomed, and the caller's own wrapper
    around it completes the refusal after it has rolled back."""
    try:
        yield
    except _ClientOverlap as error:
        if _transaction_is_doomed():
            raise
        raise _client_busy(error.appointment) or _client_busy_error(None) from None
    except SlotTaken as error:
        if alternatives and "alternatives" not in error.extra and not _transaction_is_doomed():
            error.extra["alternatives"] = _alternatives(
                service=service, location=location, around=around, practitioner=practitioner
            )
        raise


def _transaction_is_doomed() -> bool:
    """Whether the current transaction must roll back before it may run another statement."""
    return connection.in_atomic_block and connection.needs_rollback


def _require_aware(start_at: datetime) -> None:
    if timezone.is_naive(start_at):
        raise ValidationFailed(
            "start must include a UTC offset, e.g. 2026-12-01T10:00:00+00:00", field="start"
        )


def _find_slot(
    *,
    service: Service,
    location: Location,
    start_at: datetime,
    practitioner: Practitioner | None,
    ignore_appointment_id: int | None,
    enforce_booking_window: bool,
) -> Slot:
    """The free slot at ``start_at``; SlotTaken if the calendar is full there, SlotUnavailable if
    it would not be a slot even on an empty calendar (closed, past, outside the booking window)."""
    if start_at <= timezone.now():
        raise SlotUnavailable("That time is in the past.", field="start")
    slot = slot_at(
        service=service,
        location=location,
        start_at=start_at,
        practitioner=practitioner,
        ignore_appointment_id=ignore_appointment_id,
        enforce_booking_window=enforce_booking_window,
    )
    if slot is not None:
        return slot
    exists_when_empty = slot_at(
        service=service,
        location=location,
        start_at=start_at,
        practitioner=practitioner,
        enforce_booking_window=enforce_booking_window,
        include_appointments=False,
    )
    if exists_when_empty is None:
        local_day = start_at.astimezone(location.zone).date()
        horizon = timezone.localdate(timezone.now(), location.zone) + timedelta(
            days=service.horizon_days
        )
        if enforce_booking_window and local_day > horizon:
            raise SlotUnavailable(
                f"Bookings open {service.horizon_days} days ahead; please choose a date up to {horizon:%-d %B %Y}.",
                field="start",
            )
        if enforce_booking_window and start_at < timezone.now() + timedelta(
            minutes=service.min_lead_minutes
        ):
            raise SlotUnavailable(
                "That time is too soon to book online; please choose a later time.", field="start"
            )
        raise SlotUnavailable("That time is not a bookable slot for this treatment.", field="start")
    # The caller's refusals_completed_after_rollback adds the nearest free times.
    raise SlotTaken("That time was just booked. Here are the nearest free times.", field="start")


@cache
def _expired_hold_probe_sql(*, with_room: bool, excludes_one: bool) -> str:
    resource = "(practitioner_id = %s OR room_id = %s)" if with_room else "practitioner_id = %s"
    return (
        f"SELECT 1 FROM {Appointment._meta.db_table} WHERE {resource}"  # noqa: S608 - fixed text
        " AND status = %s AND hold_expires_at <= %s"
        " AND blocked_start_at < %s AND blocked_end_at > %s"
        f"{' AND id <> %s' if excludes_one else ''} LIMIT 1"
    )


def _expired_hold_probe(appointment: Appointment, *, now: datetime) -> tuple[str, list[Any]]:
    """Whether any expired hold overlaps ``appointment``, as one small fixed statement (asked
    in the round trip that takes the calendar locks): almost every booking finds none, and the
    ORM query that releases them is built only then."""
    as_db = connection.ops.adapt_datetimefield_value
    params: list[Any] = [appointment.practitioner_id]
    if appointment.room_id is not None:
        params.append(appointment.room_id)
    params += [
        Status.HELD,
        as_db(now),
        as_db(appointment.blocked_end_at),
        as_db(appointment.blocked_start_at),
    ]
    if appointment.pk is not None:
        params.append(appointment.pk)
    sql = _expired_hold_probe_sql(
        with_room=appointment.room_id is not None, excludes_one=appointment.pk is not None
    )
    return sql, params


def _release_expired_holds_in_the_way(appointment: Appointment, *, now: datetime) -> None:
    """Expired holds still count for the database constraint (it cannot see the clock), so the
    booking transaction releases those in its way before writing."""
    overlapping = Q(practitioner_id=appointment.practitioner_id)
    if appointment.room_id is not None:
        overlapping |= Q(room_id=appointment.room_id)
    expired = Appointment.objects.filter(
        overlapping,
        status=Status.HELD,
        hold_expires_at__lte=now,
        blocked_start_at__lt=appointment.blocked_end_at,
        blocked_end_at__gt=appointment.blocked_start_at,
    ).exclude(pk=appointment.pk)
    for hold in expired.select_for_update():
        set_status(hold, Status.CANCELLED, actor=None, label="system", reason="hold expired")


def _occupy(
    *,
    service: Service,
    location: Location,
    start_at: datetime,
    practitioner: Practitioner | None,
    enforce_booking_window: bool,
    ignore_appointment_id: int | None = None,
    room: Room | None = None,
) -> dict[str, Any]:
    """Pick a practitioner and room for ``start_at`` (``room`` when one is asked for) and return
    the fields that place a visit."""
    if room is not None and not service.rooms.filter(pk=room.pk, location=location).exists():
        raise ValidationFailed(f"{service.name} is not done in {room.name}.", field="room")
    slot = _find_slot(
        service=service,
        location=location,
        start_at=start_at,
        practitioner=practitioner,
        ignore_appointment_id=ignore_appointment_id,
        enforce_booking_window=enforce_booking_window,
    )
    if room is not None and room.pk not in slot.room_ids:
        raise SlotTaken(
            f"{room.name} is busy then; another room is free at that time.",
            field="room",
            extra={"alternatives": []},
        )
    start_utc = slot.start_at.astimezone(UTC)
    end_utc = start_utc + service.duration
    fields = {
        "practitioner_id": practitioner.pk if practitioner else slot.practitioner_ids[0],
        "room_id": room.pk if room is not None else (slot.room_ids[0] if slot.room_ids else None),
        "start_at": start_utc,
        "end_at": end_utc,
        "blocked_start_at": start_utc - service.buffer_before,
        "blocked_end_at": end_utc + service.buffer_after,
    }
    return fields


def _client_busy(appointment: Appointment) -> ClientBusy | None:
    """One client, one place: the client's other active appointment overlapping this visit
    (buffers excluded: a client may leave one room as the next one is being prepared), as the
    error to raise. One indexed query (client, start_at); on PostgreSQL the exclusion
    constraint ``appointment_no_client_overlap`` (migration 0008) is the backstop."""
    if appointment.client_id is None:
        return None
    other = (
        Appointment.objects.filter(
            client_id=appointment.client_id,
            status__in=ACTIVE_STATUSES,
            start_at__lt=appointment.end_at,
            end_at__gt=appointment.start_at,
        )
        .exclude(pk=appointment.pk)
        .select_related("service", "location", "client")
        .order_by("start_at")
        .first()
    )
    return _client_busy_error(other) if other is not None else None


def client_is_busy(*, client: Client, start_at: datetime, end_at: datetime) -> bool:
    """Whether ``client`` has an active appointment overlapping ``start_at``–``end_at``: the
    rule booking applies (``_client_busy``), for callers that ask before they book (the
    waitlist's matching)."""
    probe = Appointment(client_id=client.pk, start_at=start_at, end_at=end_at)
    return _client_busy(probe) is not None


def alternatives_near(
    *, service: Service, location: Location, around: datetime, practitioner: Practitioner | None
) -> list[str]:
    """The nearest free starts (ISO 8601) around ``around``, as a refused booking offers."""
    return _alternatives(
        service=service, location=location, around=around, practitioner=practitioner
    )


def _client_busy_error(other: Appointment | None) -> ClientBusy:
    if other is None:
        return ClientBusy(
            "There is already an appointment for this client at that time.", field="start"
        )
    local = other.start_at.astimezone(other.location.zone)
    return ClientBusy(
        f"There is already an appointment for {other.client.first_name if other.client else 'this client'} at {local:%H:%M} on "
        f"{local:%a %-d %b} ({other.service.name}), which overlaps that time.",
        field="start",
        extra={"appointment_id": other.pk, "appointment_start": other.start_at.isoformat()},
    )


def _is_overlap_violation(error: IntegrityError) -> bool:
    text = str(error)
    return any(name in text for name in EXCLUSION_CONSTRAINTS)


# Calendar locks cover an hour of one practitioner's or room's time each.
CALENDAR_LOCK_SECONDS = 3600


def _calendar_locks(appointment: Appointment) -> list[str]:
    """The locks a write of ``appointment`` takes: one per hour that its blocked time touches,
    for its practitioner and its room, and its client's. Two visits that overlap share the hour
    where they overlap, so writers that could collide still queue; one lock per practitioner
    queued every booking of that practitioner behind the others' commits, whatever the time
    (in the booking race a backend waited on it about as often as it waited for the disk).
    The client's lock stays whole: the online limit counts all of their upcoming visits.
    A reschedule locks only the hours it moves to: nobody else writes into its old time, which
    every slot check sees as taken until the move commits."""
    first = int(appointment.blocked_start_at.timestamp() // CALENDAR_LOCK_SECONDS)
    # The blocked time is half-open: a visit ending on the hour does not touch the next one.
    after_last = -int(-appointment.blocked_end_at.timestamp() // CALENDAR_LOCK_SECONDS)
    hours = range(first, max(after_last, first + 1))
    locks = [f"calendar:practitioner:{appointment.practitioner_id}:{hour}" for hour in hours]
    if appointment.room_id is not None:
        locks += [f"calendar:room:{appointment.room_id}:{hour}" for hour in hours]
    if appointment.client_id is not None:
        locks.append(f"calendar:client:{appointment.client_id}")
    return locks


def _save_placement(
    appointment: Appointment,
    *,
    service: Service,
    location: Location,
    start_at: datetime,
    practitioner: Practitioner | None,
) -> None:
    """Insert/update so that a lost race becomes SlotTaken (or, for the client's own overlap,
    ClientBusy), not a 500. The transaction that raises them here must roll back."""
    # Two uncommitted rows that collide under an exclusion constraint make each transaction wait
    # for the other, and PostgreSQL answers with "deadlock detected" instead of a violation.
    # Calendar locks, taken last before the write, queue such writers: the next one then sees
    # the winner's committed row and gets a clean constraint violation.
    calendar_locks = _calendar_locks(appointment)
    now = timezone.now()
    if lock_for_transaction(*calendar_locks, then_exists=_expired_hold_probe(appointment, now=now)):
        _release_expired_holds_in_the_way(appointment, now=now)
    # On PostgreSQL the client exclusion constraint refuses the overlap in the INSERT below (and
    # the handler then names the visit in the way): asking first would be a query per booking.
    busy = None if connection.vendor == "postgresql" else _client_busy(appointment)
    if busy is not None:
        raise busy
    # No savepoint: a failed INSERT/UPDATE leaves this transaction unusable, and nothing here
    # needs it again. The caller's refusals_completed_after_rollback names the visit in the
    # way (or adds the nearest free times) once the transaction has rolled back.
    try:
        if appointment.pk is None:
            # What save() would write and signal, from a statement built once per process:
            # Django's INSERT compiler was about a tenth of a booking's CPU.
            save_new(appointment)
        else:
            appointment.save()
    except IntegrityError as error:
        if CLIENT_OVERLAP_CONSTRAINT in str(error):
            raise _ClientOverlap(appointment) from None
        if not _is_overlap_violation(error):
            raise
        raise SlotTaken(
            "That time was just booked. Here are the nearest free times.", field="start"
        ) from None
    client_note_visit(
        Appointment.client.field.get_cached_value(appointment, default=None),
        appointment_id=appointment.pk,
    )


def upcoming_consultation(*, client: Client, now: datetime | None = None) -> Appointment | None:
    """The client's next consultation that is still to happen and has no outcome yet."""
    return (
        Appointment.objects.filter(
            Q(consultation__isnull=True) | Q(consultation__outcome="pending"),
            client=client,
            service__kind=Service.Kind.CONSULTATION,
            status__in=policy.OPEN_VISIT_STATUSES,
            end_at__gt=now or timezone.now(),
        )
        .select_related("service", "location")
        .order_by("start_at")
        .first()
    )


def _check_one_consultation_online(*, client: Client, service: Service, actor: Actor) -> None:
    """A client booking online who already has a consultation coming up is shown that one
    instead of booking a second; staff may book a second deliberately."""
    if (
        not service.is_consultation
        or roles.is_staff_member(actor)
        or client_registered_here_with_no_visits(client)
    ):
        return
    existing = upcoming_consultation(client=client)
    if existing is None:
        return
    local = existing.start_at.astimezone(existing.location.zone)
    raise ConsultationAlreadyBooked(
        f"You already have a consultation booked on {local:%A %-d %B} at {local:%H:%M}. "
        "You can change its time instead of booking another.",
        field="service",
        extra={"appointment_id": existing.pk},
    )


def _check_offered(*, service: Service, location: Location, actor: Actor) -> None:
    if not service.is_active:
        raise ValidationFailed("This service is not offered any more.", field="service")
    if not location.is_active:
        raise ValidationFailed("This location is not taking bookings.", field="location")
    if not service.is_online_bookable and not roles.is_staff_member(actor):
        raise ValidationFailed(
            "This service can only be booked by phone with the clinic.", field="service"
        )


def _eligibility_or_override(
    *,
    client: Client | None,
    service: Service,
    start_at: datetime,
    actor: Actor,
    override_reason: str,
    exclude_appointment_id: int | None = None,
    result: eligibility.EligibilityResult | None = None,
) -> eligibility.EligibilityResult:
    """Return the eligibility result (``result`` when the caller has already checked); raise
    NotEligible unless a manager overrides with a reason."""
    if result is None:
        result = eligibility.check(
            client=client,
            service=service,
            start_at=start_at,
            exclude_appointment_id=exclude_appointment_id,
        )
    if result.allowed:
        return result
    if override_reason.strip():
        if not roles.has_role(actor, roles.MANAGER):
            raise NotEligible(
                "Only a manager can override an eligibility refusal.",
                reason=result.reason or "not_eligible",
            )
        return result
    extra = {"not_before": result.not_before.isoformat()} if result.not_before else {}
    raise NotEligible(result.message, reason=result.reason or "not_eligible", extra=extra)


class HoldLimitReached(ApplicationError):
    """This address or browser already holds (or has held this hour) as many times as a visitor
    who has not proven a phone may."""

    code = "hold_limit"
    status = 429


def _check_hold_budget(*, ip: str | None, browser: str, now: datetime) -> None:
    """Without a proven phone, an address or browser may hold ``HOLD_LIVE_LIMIT`` slots at once
    and start ``HOLD_HOURLY_LIMIT`` holds an hour: one visitor cannot empty the calendar.

    Holds are their own ledger (``held_from_ip``/``held_by_browser`` on the appointment), so
    holds that were booked or released still count for the hour."""
    hour_ago = now - timedelta(hours=1)
    for field, value in (("held_from_ip", ip), ("held_by_browser", browser)):
        if not value:
            continue
        # Concurrent holds from one address must not all pass the count: the lock per address
        # (and per browser) queues them; SQLite's BEGIN IMMEDIATE already serialises writers.
        lock_for_transaction(f"holds:{field}:{value}")
        mine = Appointment.objects.filter(**{field: value})
        live = mine.filter(status=Status.HELD, hold_expires_at__gt=now).count()
        if live >= settings.HOLD_LIVE_LIMIT:
            raise HoldLimitReached(
                "You are already holding other times. Finish or leave those bookings first, "
                "or verify your phone to hold more.",
                field="start",
                extra={"retry_after": settings.SLOT_HOLD_MINUTES * 60},
            )
        if mine.filter(created_at__gt=hour_ago).count() >= settings.HOLD_HOURLY_LIMIT:
            raise HoldLimitReached(
                "Too many times have been held from this connection in the last hour. Please "
                "try again later, or call the clinic.",
                field="start",
                extra={"retry_after": 3600},
            )


def appointment_hold(
    *,
    service: Service,
    location: Location,
    start_at: datetime,
    practitioner: Practitioner | None = None,
    actor: Actor = None,
    ip: str | None = None,
    browser: str = "",
    phone_proven: bool = False,
    now: datetime | None = None,
) -> Appointment:
    """Hold a free slot for ``SLOT_HOLD_MINUTES`` while the client finishes booking.

    ``ip`` and ``browser`` (a keyed hash of the session key) say who asked: unless the
    browser has ``phone_proven`` in the last hour, or ``actor`` is staff, they must stay
    within the hold budget (``HOLD_LIVE_LIMIT`` at once, ``HOLD_HOURLY_LIMIT`` an hour).

    Raises SlotTaken (with alternatives), SlotUnavailable or HoldLimitReached (429).
    """
    _require_aware(start_at)
    _check_offered(service=service, location=location, actor=actor)
    now = now or timezone.now()
    with (
        refusals_completed_after_rollback(
            service=service, location=location, around=start_at, practitioner=practitioner
        ),
        transaction.atomic(),
    ):
        if not phone_proven and not roles.is_staff_member(actor):
            _check_hold_budget(ip=ip, browser=browser, now=now)
        placement = _occupy(
            service=service,
            location=location,
            start_at=start_at,
            practitioner=practitioner,
            enforce_booking_window=True,
        )
        hold = Appointment(
            service=service,
            location=location,
            status=Status.HELD,
            hold_expires_at=now + timedelta(minutes=settings.SLOT_HOLD_MINUTES),
            channel=Appointment.Channel.ONLINE,
            held_from_ip=ip or None,
            held_by_browser=browser,
            **placement,
        )
        _save_placement(
            hold, service=service, location=location, start_at=start_at, practitioner=practitioner
        )
        label = actor_label_for(actor, None)
        record_event(hold, kind="held", to_status=Status.HELD, actor=actor, label=label)
        signals.appointment_held.send(sender=Appointment, appointment=hold, actor_label=label)
    return hold


@counts_booking_outcomes
def appointment_book(
    *,
    client: Client,
    service: Service,
    location: Location,
    start_at: datetime,
    practitioner: Practitioner | None = None,
    actor: Actor = None,
    channel: str = Appointment.Channel.ONLINE,
    hold: Appointment | None = None,
    awaiting_consultation: Appointment | None = None,
    override_reason: str = "",
    enforce_booking_window: bool = True,
    room: Room | None = None,
    savepoint: bool = True,
) -> Appointment:
    """Book ``service`` for ``client`` at ``start_at`` (or turn their ``hold`` into a booking),
    with ``practitioner`` and in ``room`` when given, else whoever and whichever room is free.

    With ``awaiting_consultation`` a treatment the client is not yet cleared for is held
    tentatively (``pending_clearance``) until that consultation's outcome. A manager may book
    despite an eligibility refusal with a written ``override_reason`` (audited).

    Raises ValidationFailed, SlotUnavailable, SlotTaken (409, with ``alternatives``),
    HoldExpired, NotEligible (reason code such as ``consultation_required``), ClientBusy
    (409: the client has another appointment then), ConsultationAlreadyBooked (online only).

    Called inside a transaction, the booking is a savepoint of it, so the caller may go on
    after a refusal. ``savepoint=False`` books in the caller's transaction itself (two
    statements fewer): a refusal then dooms that transaction, so the caller must let the error
    out of it, and wrap it in ``refusals_completed_after_rollback``, which adds the
    alternatives and names the client's visit in the way once it has rolled back.
    """
    _require_aware(start_at)
    _check_offered(service=service, location=location, actor=actor)
    _check_one_consultation_online(client=client, service=service, actor=actor)
    is_self_service = not roles.is_staff_member(actor)
    label = actor_label_for(actor, None)
    status = Status.BOOKED
    result = eligibility.check(client=client, service=service, start_at=start_at)
    if (
        not result.allowed
        and awaiting_consultation is not None
        and result.reason in policy.REFUSALS_A_TENTATIVE_HOLD_WAITS_OUT
    ):
        _check_tentative(client=client, consultation=awaiting_consultation, start_at=start_at)
        status = Status.PENDING_CLEARANCE
    else:
        awaiting_consultation = None
        result = _eligibility_or_override(
            client=client,
            service=service,
            start_at=start_at,
            actor=actor,
            override_reason=override_reason,
            result=result,
        )
    is_override = not result.allowed and status == Status.BOOKED

    with (
        refusals_completed_after_rollback(
            service=service, location=location, around=start_at, practitioner=practitioner
        ),
        transaction.atomic(savepoint=savepoint),
    ):
        if is_self_service:
            _check_online_limit(client=client, service=service, location=location)
        if hold is not None:
            appointment = _claim_hold(
                hold=hold, client=client, service=service, location=location, start_at=start_at
            )
            from_status: str = Status.HELD
        else:
            placement = _occupy(
                service=service,
                location=location,
                start_at=start_at,
                practitioner=practitioner,
                enforce_booking_window=enforce_booking_window,
                room=room,
            )
            appointment = Appointment(
                service=service, location=location, client=client, **placement
            )
            if practitioner is not None:
                appointment.practitioner = practitioner  # the answer names them: no query
            from_status = ""
        appointment.status = status
        appointment.channel = channel
        appointment.awaiting_consultation = awaiting_consultation
        if is_override:
            appointment.override_reason = override_reason.strip()
            appointment.override_by = roles.user_of(actor)
        _save_placement(
            appointment,
            service=service,
            location=location,
            start_at=start_at,
            practitioner=practitioner,
        )
        record_event(
            appointment,
            kind="booked",
            from_status=from_status,
            to_status=status,
            actor=actor,
            label=label,
        )
        if is_override:
            _record_override(appointment, actor=actor, label=label, refusal=result)
        SIGNAL_FOR_STATUS[status].send(
            sender=Appointment, appointment=appointment, actor_label=label, created=hold is None
        )
    return appointment


PAST_VISIT_MAX_AGE = timedelta(days=90)


def appointment_record_past_visit(
    *,
    actor: Actor,
    client: Client,
    service: Service,
    location: Location,
    start_at: datetime,
    practitioner: Practitioner,
    reason: str,
    room: Room | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Record a visit that already took place (a walk-in nobody entered) as completed, with
    who recorded it and why (an audited ``recorded_past_visit`` event). No booking texts go
    out: only ``appointment_completed`` is announced, so reminders plans just what follows a
    visit, and any step whose time has passed is skipped, never sent late.

    Raises PermissionDenied unless ``actor`` is staff, ValidationFailed naming the field (a
    time not yet over or over 90 days ago, no reason, a practitioner or room that does not do
    the service), and SlotTaken when the practitioner or room already had a visit then."""
    roles.require_role(actor, *roles.ALL_ROLES)
    _require_aware(start_at)
    now = now or timezone.now()
    reason = reason.strip()
    start_utc = start_at.astimezone(UTC)
    end_utc = start_utc + service.duration
    if end_utc > now:
        raise ValidationFailed(
            "A past visit must have ended already; book a visit that is still to come instead.",
            field="start",
        )
    if start_utc < now - PAST_VISIT_MAX_AGE:
        raise ValidationFailed("Visits more than 90 days ago cannot be added here.", field="start")
    if not reason:
        raise ValidationFailed("Say why the visit is recorded afterwards.", field="reason")
    if not practitioner.services.filter(pk=service.pk).exists():
        raise ValidationFailed(
            f"{practitioner.display_name} does not do {service.name}.", field="practitioner"
        )
    if room is not None and not service.rooms.filter(pk=room.pk, location=location).exists():
        raise ValidationFailed(f"{service.name} is not done in {room.name}.", field="room")
    label = actor_label_for(actor, None)
    with (
        refusals_completed_after_rollback(
            service=service,
            location=location,
            around=start_utc,
            practitioner=practitioner,
            alternatives=False,
        ),
        transaction.atomic(),
    ):
        appointment = Appointment(
            service=service,
            location=location,
            client=client,
            practitioner=practitioner,
            room=room,
            start_at=start_utc,
            end_at=end_utc,
            blocked_start_at=start_utc - service.buffer_before,
            blocked_end_at=end_utc + service.buffer_after,
            status=Status.COMPLETED,
            channel=Appointment.Channel.STAFF,
        )
        # PostgreSQL's exclusion constraint would refuse an overlap too; SQLite has only this.
        same_resource = Q(practitioner=practitioner) | (
            Q(room=room) if room is not None else Q(pk__in=[])
        )
        if Appointment.objects.filter(
            same_resource,
            status__in=ACTIVE_STATUSES,
            blocked_start_at__lt=appointment.blocked_end_at,
            blocked_end_at__gt=appointment.blocked_start_at,
        ).exists():
            raise SlotTaken(
                f"{practitioner.display_name} or the room already had a visit then.",
                field="start",
                extra={"alternatives": []},
            )
        _save_placement(
            appointment,
            service=service,
            location=location,
            start_at=start_utc,
            practitioner=practitioner,
        )
        record_event(
            appointment,
            kind="recorded_past_visit",
            to_status=Status.COMPLETED,
            actor=actor,
            label=label,
            reason=reason,
        )
        signals.appointment_completed.send(
            sender=Appointment, appointment=appointment, actor_label=label
        )
    logger.info("past visit recorded", extra={"appointment_id": appointment.pk})
    return appointment


@cache
def _upcoming_count_sql() -> str:
    statuses = placeholders(len(ACTIVE_STATUSES))
    return (
        f"SELECT COUNT(*) FROM {Appointment._meta.db_table}"  # noqa: S608 - fixed text
        f" WHERE client_id = %s AND service_id = %s AND status IN ({statuses}) AND end_at > %s"
    )


def _check_online_limit(*, client: Client, service: Service, location: Location) -> None:
    """A client booking for themselves may have at most the location's limit of upcoming
    bookings for one service (default 2 of a treatment, 1 of a consultation): one proven phone
    cannot block out a calendar. Staff may book beyond it."""
    limit = (
        location.online_upcoming_consultations_limit
        if service.is_consultation
        else location.online_upcoming_treatments_limit
    )
    if client.pk is None or client_registered_here_with_no_visits(client):
        return
    # Two bookings for one client at once must not both pass the count: the client's calendar
    # lock (the one the placement takes again, re-entrantly) queues them. Taken first, it keeps
    # the sorted client < practitioner < room order that every writer follows.
    lock_for_transaction(f"calendar:client:{client.pk}")
    # The count as one small fixed statement (every online booking asks; building the ORM
    # query cost several times what running it does).
    with connection.cursor() as cursor:
        cursor.execute(
            _upcoming_count_sql(),
            [
                client.pk,
                service.pk,
                *ACTIVE_STATUSES,
                connection.ops.adapt_datetimefield_value(timezone.now()),
            ],
        )
        (upcoming,) = cursor.fetchone()
    if upcoming >= limit:
        booking_word = "booking" if limit == 1 else "bookings"
        raise NotEligible(
            f"You already have {upcoming} upcoming {booking_word} for {service.name}, the most "
            "we take online. Please call the clinic to book more.",
            reason=policy.EligibilityRefusal.UPCOMING_LIMIT,
            extra={"limit": limit},
        )


def _record_override(
    appointment: Appointment,
    *,
    actor: Actor,
    label: str,
    refusal: eligibility.EligibilityResult,
) -> None:
    record_event(
        appointment,
        kind="override",
        actor=actor,
        label=label,
        reason=appointment.override_reason,
        details={"refusal": refusal.reason, "message": refusal.message},
    )
    logger.info(
        "eligibility overridden",
        extra={"appointment_id": appointment.pk, "refusal": refusal.reason, "actor": label},
    )


def _check_tentative(*, client: Client, consultation: Appointment, start_at: datetime) -> None:
    if consultation.client_id != client.pk or not consultation.service.is_consultation:
        raise ValidationFailed(
            "The consultation to wait for must be this client's consultation.", field="consultation"
        )
    if consultation.status not in ACTIVE_STATUSES or consultation.status == Status.COMPLETED:
        raise ValidationFailed("That consultation is not upcoming.", field="consultation")
    if start_at < policy.first_treatment_earliest(consultation):
        raise ValidationFailed(policy.FIRST_TREATMENT_TOO_SOON, field="start")


def _claim_hold(
    *, hold: Appointment, client: Client, service: Service, location: Location, start_at: datetime
) -> Appointment:
    locked = Appointment.objects.select_for_update().get(pk=hold.pk)
    if locked.status != Status.HELD or (
        locked.hold_expires_at and locked.hold_expires_at <= timezone.now()
    ):
        raise HoldExpired(
            f"Your {settings.SLOT_HOLD_MINUTES}-minute hold on this time has ended. "
            "Please choose a time again.",
            field="hold",
            extra={
                "alternatives": _alternatives(
                    service=service, location=location, around=start_at, practitioner=None
                )
            },
        )
    if (
        locked.service_id != service.pk
        or locked.location_id != location.pk
        or locked.start_at != start_at
    ):
        raise ValidationFailed("The held slot does not match this booking.", field="hold")
    locked.client = client
    locked.hold_expires_at = None
    return locked


def appointment_reschedule(
    *,
    appointment: Appointment,
    start_at: datetime,
    practitioner: Practitioner | None = None,
    actor: Actor = None,
    reason: str = "",
    actor_label: str | None = None,
    enforce_booking_window: bool = True,
    override_reason: str = "",
    room: Room | None = None,
) -> Appointment:
    """Move an appointment to a new free start (and optionally to another practitioner or
    room; without one, the same practitioner and room are kept when they are free then).

    Bumps ``version`` so reminders re-plan; a confirmed visit needs confirming again. Clients
    are held to the location's online-change cutoff (``bookings.policy.move_decision``).
    Raises IllegalTransition, PolicyViolation, SlotTaken, SlotUnavailable, NotEligible.
    """
    _require_aware(start_at)
    label = actor_label_for(actor, actor_label)
    with (
        refusals_completed_after_rollback(
            service=appointment.service,
            location=appointment.location,
            around=start_at,
            practitioner=practitioner,
        ),
        transaction.atomic(),
    ):
        locked = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("service", "location", "client")
            .get(pk=appointment.pk)
        )
        policy.move_decision(
            appointment=locked, kind=policy.actor_kind(actor, label)
        ).raise_if_refused()
        refusal = None
        if locked.status != Status.PENDING_CLEARANCE and locked.client is not None:
            result = _eligibility_or_override(
                client=locked.client,
                service=locked.service,
                start_at=start_at,
                actor=actor,
                override_reason=override_reason,
                exclude_appointment_id=locked.pk,
            )
            refusal = None if result.allowed else result
        elif (
            locked.status == Status.PENDING_CLEARANCE
            and locked.awaiting_consultation is not None
            and locked.client is not None
        ):
            # A tentative treatment keeps its 24-hour distance from the consultation it awaits.
            _check_tentative(
                client=locked.client, consultation=locked.awaiting_consultation, start_at=start_at
            )
        previous_start_at, previous_version = locked.start_at, locked.version
        previous_practitioner_id = locked.practitioner_id
        placement = _occupy(
            service=locked.service,
            location=locked.location,
            start_at=start_at,
            practitioner=practitioner,
            enforce_booking_window=enforce_booking_window,
            ignore_appointment_id=locked.pk,
            room=room,
        )
        keep_practitioner = (
            practitioner is None and locked.practitioner_id != placement["practitioner_id"]
        )
        keep_room = room is None and locked.room_id and locked.room_id != placement["room_id"]
        if keep_practitioner or keep_room:
            # Keep the client with the same practitioner, and the visit in the same room, when
            # they are free at the new time.
            same = slot_at(
                service=locked.service,
                location=locked.location,
                start_at=start_at,
                ignore_appointment_id=locked.pk,
                enforce_booking_window=enforce_booking_window,
            )
            if keep_practitioner and same and locked.practitioner_id in same.practitioner_ids:
                placement["practitioner_id"] = locked.practitioner_id
            if keep_room and same and locked.room_id in same.room_ids:
                placement["room_id"] = locked.room_id
        for field, value in placement.items():
            setattr(locked, field, value)
        locked.version += 1
        from_status = locked.status
        if locked.status == Status.CONFIRMED:
            locked.status = Status.BOOKED
        if refusal is not None:
            locked.override_reason = override_reason.strip()
            locked.override_by = roles.user_of(actor)
        _save_placement(
            locked,
            service=locked.service,
            location=locked.location,
            start_at=start_at,
            practitioner=practitioner,
        )
        record_event(
            locked,
            kind="rescheduled",
            from_status=from_status,
            to_status=locked.status,
            actor=actor,
            label=label,
            reason=reason,
            details={"previous_start_at": previous_start_at.isoformat(), "version": locked.version},
        )
        if refusal is not None:
            _record_override(locked, actor=actor, label=label, refusal=refusal)
        signals.appointment_rescheduled.send(
            sender=Appointment,
            appointment=locked,
            actor_label=label,
            previous_start_at=previous_start_at,
            previous_version=previous_version,
            previous_practitioner_id=previous_practitioner_id,
        )
    return locked
