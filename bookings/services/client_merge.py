"""Merging a client who booked twice (two spellings, two numbers) into one record."""

from __future__ import annotations

import logging

from django.db import transaction

from bookings import signals
from bookings.models import Appointment, Client, ClientChange, Consultation, HealthDataAccess
from clinic import roles
from clinic.errors import ValidationFailed
from clinic.roles import Actor

logger = logging.getLogger(__name__)

FILLED_FROM_DUPLICATE = ("last_name", "email", "date_of_birth")


@transaction.atomic
def clients_merge(*, actor: Actor, keep: Client, duplicate: Client, reason: str) -> Client:
    """Move the duplicate's appointments, consultations (with their screening and access
    records), edit history, messages and replies (``clients_merged``: reminders moves its own)
    onto ``keep``, fill ``keep``'s empty details from it, carry its text consent when ``keep``
    has none and its opt-out always (a STOP is never undone by a merge), record the merge on
    ``keep`` with who and why, and delete the duplicate.

    Raises PermissionDenied unless ``actor`` is reception or a manager, and ValidationFailed
    (``duplicate`` the same client, or no ``reason``)."""
    roles.require_role(actor, roles.RECEPTION, roles.MANAGER)
    reason = reason.strip()
    if keep.pk == duplicate.pk:
        raise ValidationFailed("Choose another client to merge into this one.", field="duplicate")
    if not reason:
        raise ValidationFailed("Say why these are the same person.", field="reason")
    # Both rows locked in id order, so two desks merging the same pair queue, not deadlock.
    locked = {
        client.pk: client
        for client in Client.objects.select_for_update()
        .filter(pk__in=[keep.pk, duplicate.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise ValidationFailed("That client no longer exists.", field="duplicate")
    keep, duplicate = locked[keep.pk], locked[duplicate.pk]

    Appointment.objects.filter(client=duplicate).update(client=keep)
    Consultation.objects.filter(client=duplicate).update(client=keep)
    HealthDataAccess.objects.filter(client=duplicate).update(client=keep)
    ClientChange.objects.filter(client=duplicate).update(client=keep)
    signals.clients_merged.send(sender=Client, keep=keep, duplicate=duplicate)

    filled = []
    for name in FILLED_FROM_DUPLICATE:
        if not getattr(keep, name) and getattr(duplicate, name):
            setattr(keep, name, getattr(duplicate, name))
            filled.append(name)
    if duplicate.notes:
        keep.notes = f"{keep.notes}\n{duplicate.notes}".strip()
    # Both clinical alerts are kept (an allergy must not be lost in a merge); the history
    # records that the alert changed, not what it says.
    alert_changed = bool(duplicate.alert) and duplicate.alert != keep.alert
    if alert_changed:
        keep.alert = f"{keep.alert}\n{duplicate.alert}".strip()
    if keep.sms_consent_at is None and duplicate.sms_consent_at is not None:
        keep.sms_consent_at = duplicate.sms_consent_at
        keep.sms_consent_method = duplicate.sms_consent_method
        keep.sms_consent_wording = duplicate.sms_consent_wording
    if duplicate.sms_opted_out_at is not None and keep.sms_opted_out_at is None:
        keep.sms_opted_out_at = duplicate.sms_opted_out_at
    if (
        keep.email_consent_at is None
        and duplicate.email_consent_at is not None
        and keep.email == duplicate.email
    ):
        keep.email_consent_at = duplicate.email_consent_at
        keep.email_consent_method = duplicate.email_consent_method
        keep.email_consent_wording = duplicate.email_consent_wording
    if duplicate.email_opted_out_at is not None and keep.email_opted_out_at is None:
        keep.email_opted_out_at = duplicate.email_opted_out_at
    keep.save()
    ClientChange.objects.create(
        client=keep,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=roles.actor_label(actor),
        changes={
            "merged": [f"{duplicate.full_name} · {duplicate.phone} (#{duplicate.pk})", ""],
            "reason": ["", reason],
            **{name: ["", str(getattr(keep, name))] for name in filled},
            **({"alert": ["", ""]} if alert_changed else {}),
        },
    )
    duplicate_id = duplicate.pk
    duplicate.delete()
    logger.info("clients merged", extra={"client_id": keep.pk, "merged_client_id": duplicate_id})
    return keep
