"""Staff API: consultations to review, their screening (clinical roles only), outcomes, and
"may this client have this service then?".

Permissions and auditing live in the services/selectors called here, so the staff workspace
and the admin get the same answers.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from ninja import Field, Router, Schema

from bookings import access, eligibility
from bookings.auth import staff_auth
from bookings.models import Appointment, Client, ConsentFormVersion, Consultation, HealthRecheck
from bookings.selectors.consultations import consultations_for_review, health_rechecks_in_review
from bookings.services.consultations import (
    consultation_read,
    consultation_record_consent,
    consultation_record_outcome,
    health_recheck_review,
)
from clinic import roles
from clinic.api import error_responses
from clinic.errors import NotFound, ValidationFailed
from clinic.http import ApiRequest
from clinic.models import Service
from clinic.parsing import ApiBool, ApiDate, AwareApiDatetime, Id

router = Router(auth=staff_auth, tags=["staff"])


class ConsultationSummaryOut(Schema):
    id: int
    client_id: int
    client_name: str
    appointment_id: int
    start_at: datetime
    appointment_status: str
    practitioner: str
    outcome: str
    screening_submitted: bool
    valid_until: date | None
    assessed_at: datetime | None


class ConsultationOut(ConsultationSummaryOut):
    services_cleared: list[int]
    not_before: date | None
    consent_version: str | None
    consent_signed_at: datetime | None
    screened_in_person: bool


class ScreeningOut(Schema):
    consultation_id: int
    submitted_at: datetime | None
    answers: list[dict]
    screening_flags: list[dict]
    screening_not_before: date | None
    contraindications: list[str]
    notes: str


class OutcomeIn(Schema):
    outcome: Consultation.Outcome = Field(
        ..., description="cleared, not_suitable or needs_review", examples=["cleared"]
    )
    services: list[Id] = Field(
        default_factory=list, max_length=50, description="Treatment service ids cleared"
    )
    valid_until: ApiDate | None = None
    not_before: ApiDate | None = None
    contraindications: list[str] = Field(default_factory=list, max_length=50)
    notes: str = Field("", max_length=5000)
    consent_version: str | None = Field(
        None, max_length=40, description="Defaults to the current consent form"
    )
    consent_signed: ApiBool = Field(True, description="False: cleared, consent not signed yet")
    screened_in_person: ApiBool = Field(
        False, description="Needed to clear a client with no screening answers on file"
    )

    model_config = {
        "json_schema_extra": {
            "examples": [{"outcome": "cleared", "services": [2], "valid_until": "2027-06-01"}]
        }
    }


class EligibilityOut(Schema):
    allowed: bool
    reason: str | None
    message: str
    not_before: date | None


def _summary(consultation: Consultation) -> dict:
    appointment = consultation.appointment
    return {
        "id": consultation.pk,
        "client_id": consultation.client_id,
        "client_name": consultation.client.full_name,
        "appointment_id": appointment.pk,
        "start_at": appointment.local_start,
        "appointment_status": appointment.status,
        "practitioner": str(appointment.practitioner),
        "outcome": consultation.outcome,
        "screening_submitted": consultation.submitted_at is not None,
        "valid_until": consultation.valid_until,
        "assessed_at": consultation.assessed_at,
    }


def _get_consultation(consultation_id: int) -> Consultation:
    consultation = (
        Consultation.objects.select_related(
            "client", "appointment__location", "appointment__practitioner", "consent_version"
        )
        .filter(pk=consultation_id)
        .first()
    )
    if consultation is None:
        raise NotFound("No such consultation.")
    return consultation


def _detail(consultation: Consultation) -> dict:
    return {
        **_summary(consultation),
        "services_cleared": list(consultation.services_cleared.values_list("pk", flat=True)),
        "not_before": consultation.not_before,
        "consent_signed_at": consultation.consent_signed_at,
        "screened_in_person": consultation.screened_in_person,
        "consent_version": (
            consultation.consent_version.version if consultation.consent_version else None
        ),
    }


@router.get("/consultations", response=list[ConsultationSummaryOut])
def list_consultations(
    request: ApiRequest, status: Consultation.Outcome | None = None
) -> list[dict]:
    """Consultations to review (default: pending or needs review), or those with ``status``."""
    if status and status not in Consultation.Outcome.values:
        raise ValidationFailed(
            f"status must be one of {', '.join(Consultation.Outcome.values)}", field="status"
        )
    return [
        _summary(consultation)
        for consultation in consultations_for_review(actor=request.auth, outcome=status)
    ]


@router.get("/consultations/{consultation_id}", response=ConsultationOut)
def get_consultation(request: ApiRequest, consultation_id: Id) -> dict:
    """The outcome of a consultation (every staff role; no health data)."""
    consultation = _get_consultation(consultation_id)
    consultation_read(consultation=consultation, actor=request.auth, include_health_data=False)
    return _detail(consultation)


@router.get("/consultations/{consultation_id}/screening", response=ScreeningOut)
def get_screening(request: ApiRequest, consultation_id: Id) -> dict:
    """Screening answers, flags and notes: practitioners and managers only (audited)."""
    consultation = _get_consultation(consultation_id)
    record = consultation_read(consultation=consultation, actor=request.auth)
    return {
        "consultation_id": consultation.pk,
        "submitted_at": consultation.submitted_at,
        "answers": record.answers,
        "screening_flags": record.screening_flags,
        "screening_not_before": consultation.screening_not_before,
        "contraindications": record.contraindications,
        "notes": record.notes,
    }


@router.post(
    "/consultations/{consultation_id}/outcome",
    response={200: ConsultationOut, **error_responses(409)},
)
def post_outcome(request: ApiRequest, consultation_id: Id, payload: OutcomeIn) -> dict:
    """Record the outcome; a clearing outcome books the client's tentative treatments."""
    consultation = _get_consultation(consultation_id)
    services = list(Service.objects.filter(pk__in=payload.services))
    if len(services) != len(set(payload.services)):
        raise ValidationFailed("Unknown service.", field="services")
    consent_version = None
    if payload.consent_version:
        consent_version = ConsentFormVersion.objects.filter(version=payload.consent_version).first()
        if consent_version is None:
            raise ValidationFailed("Unknown consent form version.", field="consent_version")
    recorded = consultation_record_outcome(
        consultation=consultation,
        actor=request.auth,
        outcome=payload.outcome,
        services=services,
        valid_until=payload.valid_until,
        not_before=payload.not_before,
        contraindications=payload.contraindications,
        notes=payload.notes,
        consent_version=consent_version,
        consent_signed=payload.consent_signed,
        screened_in_person=payload.screened_in_person,
        via="api",
    )
    return _detail(_get_consultation(recorded.pk))


@router.post(
    "/consultations/{consultation_id}/consent",
    response={200: ConsultationOut, **error_responses(409)},
)
def post_consent(request: ApiRequest, consultation_id: Id) -> dict:
    """Record that the client signed the current consent form after a clearance recorded as
    not signed (a treatment cannot be completed before)."""
    consultation = _get_consultation(consultation_id)
    consultation_record_consent(consultation=consultation, actor=request.auth, via="api")
    return _detail(_get_consultation(consultation_id))


@router.get("/clients/{client_id}/eligibility", response=EligibilityOut)
def get_eligibility(
    request: ApiRequest,
    client_id: Id,
    service: Id,
    start: AwareApiDatetime | None = None,
) -> dict:
    """May this client have ``service`` at ``start`` (default: now)? Same rules as booking."""
    roles.require_role(request.auth, *roles.ALL_ROLES)
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        raise NotFound("No such client.")
    access.check_client_access(actor=request.auth, client=client)
    service_obj = Service.objects.filter(pk=service).first()
    if service_obj is None:
        raise ValidationFailed("Unknown service.", field="service")
    start_at = start or timezone.now()
    result = eligibility.check(client=client, service=service_obj, start_at=start_at)
    return {
        "allowed": result.allowed,
        "reason": result.reason,
        "message": result.message,
        "not_before": result.not_before,
    }


class RecheckOut(Schema):
    appointment_id: int
    client_id: int
    client_name: str
    start_at: datetime
    answered_at: datetime | None
    via: str
    needs_review: bool


def _recheck(recheck: HealthRecheck) -> dict:
    appointment = recheck.appointment
    return {
        "appointment_id": appointment.pk,
        "client_id": appointment.client_id,
        "client_name": appointment.client.full_name if appointment.client else "",
        "start_at": appointment.local_start,
        "answered_at": recheck.answered_at,
        "via": recheck.via,
        "needs_review": recheck.needs_review,
    }


@router.get("/health-rechecks", response=list[RecheckOut])
def list_rechecks_in_review(request: ApiRequest) -> list[dict]:
    """Upcoming sessions in review because the client said something changed."""
    return [_recheck(recheck) for recheck in health_rechecks_in_review(actor=request.auth)]


@router.post(
    "/health-rechecks/{appointment_id}/review",
    response={200: RecheckOut, **error_responses(409)},
)
def post_recheck_reviewed(request: ApiRequest, appointment_id: Id) -> dict:
    """A practitioner or manager has reviewed the change; the session leaves review."""
    appointment = (
        Appointment.objects.select_related("client", "location").filter(pk=appointment_id).first()
    )
    if appointment is None:
        raise NotFound("No such appointment.")
    recheck = health_recheck_review(appointment=appointment, actor=request.auth, via="api")
    recheck.appointment = appointment
    return _recheck(recheck)
