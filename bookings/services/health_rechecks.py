"""The health re-check before each later session of a course: the client confirms nothing has
changed since the consultation (link or SMS reply 1/2); "changed" puts the appointment into
review until a practitioner or manager has looked at it."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from bookings import access, policy, signals
from bookings.models import Appointment, AppointmentEvent, HealthDataAccess, HealthRecheck
from bookings.services.health_data import health_data_access_record as _audit
from clinic import roles
from clinic.errors import IllegalTransition, NotFound, ValidationFailed
from clinic.roles import Actor

logger = logging.getLogger(__name__)

Status = Appointment.Status


def health_recheck_request(
    *, appointment: Appointment, now: datetime | None = None
) -> HealthRecheck:
    """Record that the client was asked to confirm nothing has changed (idempotent)."""
    now = now or timezone.now()
    recheck, created = HealthRecheck.objects.get_or_create(
        appointment=appointment, defaults={"asked_at": now}
    )
    if not created and recheck.asked_at is None:
        recheck.asked_at = now
        recheck.save(update_fields=["asked_at"])
    return recheck


def health_recheck_answer(
    *,
    appointment: Appointment,
    changed: bool,
    via: str,
    actor: Actor = None,
    now: datetime | None = None,
) -> HealthRecheck:
    """Store the client's answer to "has anything changed since your consultation?".

    "Changed" puts the appointment into review (``needs_review``), records an
    ``AppointmentEvent`` of kind ``health_recheck_changed`` and sends
    ``signals.health_recheck_changed`` so the practitioner is alerted. The answer can be
    changed until the start. Raises ValidationFailed, IllegalTransition.
    """
    if via not in HealthRecheck.Via.values:
        raise ValidationFailed("Unknown channel.", field="via")
    now = now or timezone.now()
    label = roles.actor_label(actor)
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if locked.status not in policy.EXPECTED_STATUSES or locked.start_at <= now:
            raise IllegalTransition(
                "This appointment is not coming up any more.", field="appointment"
            )
        recheck, _ = HealthRecheck.objects.select_for_update().get_or_create(
            appointment=locked, defaults={"asked_at": now}
        )
        recheck.answered_at = now
        recheck.changed = changed
        recheck.via = via
        recheck.needs_review = changed
        recheck.save()
        AppointmentEvent.objects.create(
            appointment=locked,
            kind="health_recheck_changed" if changed else "health_recheck_unchanged",
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_label=label,
            details={"via": via},
        )
        _audit(
            actor=actor,
            action=HealthDataAccess.Action.CHANGE,
            record=f"recheck:{recheck.pk}",
            fields=["changed"],
            client_id=locked.client_id,
            via=via,
        )
        if changed:
            signals.health_recheck_changed.send(
                sender=Appointment, appointment=locked, actor_label=label
            )
    if changed:
        logger.info("health re-check needs review", extra={"appointment_id": locked.pk})
    return recheck


def health_recheck_review(
    *, appointment: Appointment, actor: Actor, via: str = "staff"
) -> HealthRecheck:
    """A practitioner or manager has looked at a "something changed" answer (and spoken to the
    client): the appointment leaves review. Raises PermissionDenied, NotFound,
    IllegalTransition (nothing to review)."""
    access.check_clinical_access(actor=actor, client=appointment.client)
    with transaction.atomic():
        recheck = (
            HealthRecheck.objects.select_for_update().filter(appointment_id=appointment.pk).first()
        )
        if recheck is None:
            raise NotFound("This appointment has no health re-check.")
        if not recheck.needs_review:
            raise IllegalTransition("This re-check is not waiting for review.", field="recheck")
        recheck.needs_review = False
        recheck.reviewed_by = roles.user_of(actor)
        recheck.reviewed_at = timezone.now()
        recheck.save(update_fields=["needs_review", "reviewed_by", "reviewed_at"])
        AppointmentEvent.objects.create(
            appointment_id=appointment.pk,
            kind="health_recheck_reviewed",
            actor=roles.user_of(actor),
            actor_label=roles.actor_label(actor),
        )
        _audit(
            actor=actor,
            action=HealthDataAccess.Action.CHANGE,
            record=f"recheck:{recheck.pk}",
            fields=["needs_review"],
            client_id=appointment.client_id,
            via=via,
        )
    return recheck
