"""Data-protection rights: export everything held about a client, erase a client, and the
retention rule for what bookings keeps.

* **Export** (a manager, with a written reason): profile, consents, appointments with their
  history, consultations with the screening answers, health re-checks, the audit of who read
  their health data, and whatever other apps hold (messages and replies, through the
  ``client_data_collect`` signal). The export is itself audited.
* **Erase** (a manager, with a written reason): personal fields are anonymised, upcoming visits
  cancelled, codes deleted, and other apps blank their message bodies (``client_erasing``).
  The appointment skeleton, the consultations and the audit stay, because clinical records must
  be kept for ``CLINICAL_RECORD_RETENTION_DAYS``; after that the retention job purges the
  clinical content too.
* **A client's own export**: asked for from the manage page, it comes as a texted 24-hour link
  to a page that asks for a fresh code to the client's phone and then offers the download;
  every download is audited. No health data is ever in a text.
* **Retention** (nightly): verifications past their rate-limit window are deleted, and erased
  clients' clinical records past the retention period are purged (other apps purge theirs on
  ``client_clinical_purging``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from bookings import signals
from bookings.models import (
    ACTIVE_STATUSES,
    Appointment,
    Client,
    Consultation,
    DataProtectionAction,
    HealthDataAccess,
    HealthRecheck,
    PhoneVerification,
)
from bookings.services.health_data import health_data_access_record
from bookings.services.transitions import appointment_cancel
from bookings.services.verification import (
    verification_check,
    verification_start,
    verifications_delete_old,
)
from bookings.tokens import data_export_request_from_token, data_export_token_for
from clinic import roles
from clinic.errors import Gone, IllegalTransition, NotFound, ValidationFailed
from clinic.roles import Actor

logger = logging.getLogger(__name__)

Kind = DataProtectionAction.Kind

# A client pressing "ask for a copy" again within this time gets no second text.
EXPORT_REQUEST_RESEND_AFTER = timedelta(hours=1)


def _require_manager_with_reason(actor: Actor, reason: str) -> str:
    roles.require_role(actor, roles.MANAGER)
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ValidationFailed(
            "Please write why (for example the client's request and its date).", field="reason"
        )
    return reason


def _record(
    *,
    kind: str,
    client: Client,
    actor: Actor,
    reason: str,
    actor_label: str = "",
) -> DataProtectionAction:
    return DataProtectionAction.objects.create(
        kind=kind,
        client=client,
        client_ref=client.pk,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=actor_label or roles.actor_label(actor),
        reason=reason,
    )


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def client_data_export(*, actor: Actor, client: Client, reason: str) -> dict[str, Any]:
    """Everything held about ``client`` as JSON-ready data (also the source of the HTML
    summary). Raises PermissionDenied (managers only) and ValidationFailed(field="reason")."""
    reason = _require_manager_with_reason(actor, reason)
    with transaction.atomic():
        _record(kind=Kind.EXPORT, client=client, actor=actor, reason=reason)
        health_data_access_record(
            actor=actor,
            action=HealthDataAccess.Action.READ,
            record=f"client:{client.pk}",
            fields=("export",),
            client_id=client.pk,
            via="export",
        )
    return _client_data(client=client)


def _client_data(*, client: Client) -> dict[str, Any]:
    """The export itself; callers decide who may have it and audit the read."""
    appointments = (
        Appointment.objects.filter(client=client)
        .select_related("service", "practitioner", "location", "room")
        .prefetch_related("events")
        .order_by("start_at")
    )
    consultations = Consultation.objects.filter(client=client).prefetch_related("services_cleared")
    rechecks = HealthRecheck.objects.filter(appointment__client=client)
    export: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "client": {
            "id": client.pk,
            "first_name": client.first_name,
            "last_name": client.last_name,
            "phone": client.phone,
            "email": client.email,
            "date_of_birth": client.date_of_birth.isoformat() if client.date_of_birth else None,
            "desk_notes": client.notes,
            # The client's own health data: right of access covers it.
            "clinical_alert": client.alert,
            "phone_verified_at": _iso(client.phone_verified_at),
            "preferred_location": str(client.preferred_location or ""),
            "created_at": _iso(client.created_at),
            "erased_at": _iso(client.erased_at),
        },
        "consents": {
            "sms_consent_at": _iso(client.sms_consent_at),
            "sms_consent_method": client.sms_consent_method,
            "sms_consent_wording": client.sms_consent_wording,
            "sms_opted_out_at": _iso(client.sms_opted_out_at),
            "email_consent_at": _iso(client.email_consent_at),
            "email_consent_method": client.email_consent_method,
            "email_consent_wording": client.email_consent_wording,
            "email_opted_out_at": _iso(client.email_opted_out_at),
        },
        "appointments": [
            {
                "id": appointment.pk,
                "service": appointment.service.name,
                "location": appointment.location.name,
                "practitioner": appointment.practitioner.display_name,
                "room": appointment.room.name if appointment.room else None,
                "start": _iso(appointment.start_at),
                "end": _iso(appointment.end_at),
                "status": appointment.status,
                "channel": appointment.channel,
                "history": [
                    {
                        "at": _iso(event.created_at),
                        "kind": event.kind,
                        "from": event.from_status,
                        "to": event.to_status,
                        "by": event.actor_label,
                        "reason": event.reason,
                    }
                    for event in appointment.events.all()
                ],
            }
            for appointment in appointments
        ],
        "consultations": [
            {
                "id": consultation.pk,
                "appointment_id": consultation.appointment_id,
                "submitted_at": _iso(consultation.submitted_at),
                "answers": consultation.answers,
                "screening_flags": consultation.screening_flags,
                "contraindications": consultation.contraindications,
                "notes": consultation.notes,
                "outcome": consultation.outcome,
                "services_cleared": [s.name for s in consultation.services_cleared.all()],
                "valid_until": _iso(consultation.valid_until),
                "consent_signed_at": _iso(consultation.consent_signed_at),
                "assessed_at": _iso(consultation.assessed_at),
            }
            for consultation in consultations
        ],
        "health_rechecks": [
            {
                "appointment_id": recheck.appointment_id,
                "answered_at": _iso(recheck.answered_at),
                "changed": recheck.changed,
                "via": recheck.via,
            }
            for recheck in rechecks
        ],
        "audit": {
            "health_data_reads": [
                {
                    "at": _iso(access.created_at),
                    "by": access.actor_label,
                    "action": access.action,
                    "record": access.record,
                    "fields": access.fields,
                    "via": access.via,
                }
                for access in HealthDataAccess.objects.filter(client=client).order_by("created_at")
            ],
            "data_protection": [
                {"at": _iso(action.created_at), "kind": action.kind, "by": action.actor_label}
                for action in DataProtectionAction.objects.filter(client_ref=client.pk)
            ],
        },
    }
    for _receiver, sections in signals.client_data_collect.send(sender=Client, client=client):
        if isinstance(sections, dict):
            export.update(sections)
    logger.info("client data exported", extra={"client_id": client.pk})
    return export


def client_erase(
    *,
    actor: Actor,
    client: Client,
    reason: str,
    now: datetime | None = None,
) -> Client:
    """Anonymise ``client``: name, phone, email and consents go, upcoming visits are cancelled,
    verification codes deleted, message bodies blanked (``client_erasing``); the appointment
    skeleton, consultations and audit stay until the clinical retention period ends.

    Raises PermissionDenied (managers only), ValidationFailed(field="reason") and
    IllegalTransition when the client was already erased."""
    reason = _require_manager_with_reason(actor, reason)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        if locked.erased_at is not None:
            raise IllegalTransition("This client was already erased.", field="client")
        for appointment in Appointment.objects.filter(
            client=locked, status__in=ACTIVE_STATUSES, start_at__gt=now
        ):
            appointment_cancel(appointment=appointment, actor=actor, reason="Client erased")
        old_phone = locked.phone
        signals.client_erasing.send(sender=Client, client=locked, phone=old_phone)
        PhoneVerification.objects.filter(phone=old_phone).delete()
        locked.first_name = "Erased"
        locked.last_name = f"client {locked.pk}"
        locked.phone = f"erased:{locked.pk}"
        locked.email = ""
        locked.phone_verified_at = None
        locked.sms_consent_at = None
        locked.sms_consent_method = ""
        locked.sms_consent_wording = ""
        locked.sms_opted_out_at = now  # nothing may be sent to this record again
        locked.email_consent_at = None
        locked.email_consent_method = ""
        locked.email_consent_wording = ""
        locked.email_opted_out_at = now
        locked.preferred_location = None
        locked.erased_at = now
        locked.save()
        _record(kind=Kind.ERASE, client=locked, actor=actor, reason=reason)
    logger.info("client erased", extra={"client_id": locked.pk})
    return locked


def client_request_export(*, client: Client, now: datetime | None = None) -> DataProtectionAction:
    """The client asked for a copy of their data from their manage page: recorded, the managers
    alerted, and the client texted a 24-hour link (``client_data_requested`` with
    ``link_token=``) to a page that asks for a fresh code to their phone before it hands over
    the export. The export holds health data, so it never travels in a text. Asking again
    within an hour returns the earlier request and sends nothing (one text, however often the
    button is pressed).

    Raises IllegalTransition for an erased client (there is no phone to send the link to)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Client.objects.select_for_update().get(pk=client.pk)
        if locked.erased_at is not None:
            raise IllegalTransition("This client's details were erased.", field="client")
        earlier = (
            DataProtectionAction.objects.filter(
                kind=Kind.EXPORT_REQUESTED,
                client=locked,
                created_at__gt=now - EXPORT_REQUEST_RESEND_AFTER,
            )
            .order_by("-created_at")
            .first()
        )
        if earlier is not None:
            return earlier
        action = _record(
            kind=Kind.EXPORT_REQUESTED,
            client=locked,
            actor=None,
            reason="Requested online",
            actor_label="client",
        )
        signals.client_data_requested.send(
            sender=Client,
            client=locked,
            request_id=action.pk,
            link_token=data_export_token_for(request_id=action.pk, client_id=locked.pk),
        )
    logger.info("client data requested", extra={"request_id": action.pk})
    return action


@dataclass(frozen=True)
class ExportLink:
    """What the page behind a texted export link may show before the phone is proven."""

    request_id: int
    phone_ending: str


def _export_request(link_token: str) -> tuple[DataProtectionAction, Client]:
    request_id, client_id = data_export_request_from_token(link_token)
    action = (
        DataProtectionAction.objects.filter(
            pk=request_id, kind=Kind.EXPORT_REQUESTED, client_id=client_id
        )
        .select_related("client")
        .first()
    )
    if action is None or action.client is None:
        raise NotFound("This link is not valid. Please use the link from your latest text.")
    if action.client.erased_at is not None:
        raise Gone("This link no longer works: the details it was for were erased.")
    return action, action.client


def client_export_link_open(*, link_token: str) -> ExportLink:
    """Check a texted export link. Raises NotFound (tampered, made for another purpose, or its
    request is gone) and Gone (older than 24 hours, or the client was erased)."""
    action, client = _export_request(link_token)
    return ExportLink(request_id=action.pk, phone_ending=client.phone[-3:])


def client_export_code_send(
    *, link_token: str, ip: str | None, requester: str
) -> PhoneVerification:
    """Text a fresh code to the phone of the client the link is for (the phone is never taken
    from the visitor). Raises what ``client_export_link_open`` and ``verification_start``
    raise."""
    _action, client = _export_request(link_token)
    return verification_start(
        phone=client.phone, ip=ip, location=client.preferred_location, requester=requester
    )


def client_export_download(
    *, link_token: str, handle: str, code: str, requester: str
) -> dict[str, Any]:
    """The client's own export, once the code texted to their phone for this link is typed
    back; each download is audited like a manager's export. Raises what
    ``client_export_link_open`` raises, NotFound for a code request that is not for this
    client's phone, and what ``verification_check`` raises (wrong, expired or spent code)."""
    action, client = _export_request(link_token)
    if not PhoneVerification.objects.filter(handle=handle or "-", phone=client.phone).exists():
        raise NotFound("We could not find that code request. Please ask for a new code.")
    verification_check(handle=handle, code=code, requester=requester)
    with transaction.atomic():
        _record(
            kind=Kind.EXPORT,
            client=client,
            actor=None,
            actor_label="client",
            reason=f"Downloaded by the client with a code to their phone (request {action.pk})",
        )
        health_data_access_record(
            actor=None,
            actor_label="client",
            action=HealthDataAccess.Action.READ,
            record=f"client:{client.pk}",
            fields=("export",),
            client_id=client.pk,
            via="client_export",
        )
    logger.info("client data downloaded by the client", extra={"request_id": action.pk})
    return _client_data(client=client)


def retention_enforce(*, now: datetime | None = None) -> dict[str, int]:
    """The nightly retention job for bookings: delete verifications past their window, expired
    sessions (each visitor's booking in progress and phone proof; a hold flood leaves many),
    and purge the clinical content of clients erased more than
    ``CLINICAL_RECORD_RETENTION_DAYS`` ago: consultation answers here, and whatever other apps
    hold (treatment records and photos, through ``client_clinical_purging``). Returns counts.
    Idempotent."""
    now = now or timezone.now()
    sessions, _ = Session.objects.filter(expire_date__lt=now).delete()
    cutoff = now - timedelta(days=settings.CLINICAL_RECORD_RETENTION_DAYS)
    purged = records_purged = 0
    for client in Client.objects.filter(erased_at__lte=cutoff):
        with transaction.atomic():
            consultations = Consultation.objects.filter(client=client).exclude(
                answers=[], screening_flags=[], contraindications=[], notes=""
            )
            count = consultations.update(
                answers=[], screening_flags=[], contraindications=[], notes=""
            )
            HealthRecheck.objects.filter(appointment__client=client).delete()
            records = 0
            for _receiver, result in signals.client_clinical_purging.send(
                sender=Client, client=client
            ):
                if isinstance(result, int):
                    records += result
            if count or records:
                purged += count
                records_purged += records
                _record(
                    kind=Kind.CLINICAL_PURGED,
                    client=client,
                    actor=None,
                    actor_label="system",
                    reason=f"Retention: erased more than {settings.CLINICAL_RECORD_RETENTION_DAYS} days ago",
                )
    return {
        "verifications_deleted": verifications_delete_old(now=now),
        "sessions_deleted": sessions,
        "consultations_purged": purged,
        "treatment_records_purged": records_purged,
    }
