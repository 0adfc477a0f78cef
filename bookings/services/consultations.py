"""Consultations: open the record when a consultation is booked, take the client's screening
answers, record the practitioner's outcome (which settles tentative treatments), release
tentative treatments whose consultation will not clear them in time. The pre-session health
re-check lives in ``bookings.services.health_rechecks`` (re-exported here).

Health data (screening answers, flags, notes, contraindications) is read only through
``consultation_read`` and changed only here; every read and change writes a
``HealthDataAccess`` row. Nothing here logs answers or notes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bookings import access, eligibility, policy, signals
from bookings.models import (
    Appointment,
    ConsentFormVersion,
    Consultation,
    HealthDataAccess,
    ScreeningAnswerRule,
    ScreeningQuestion,
)
from bookings.selectors.consultations import (
    screening_questions_active,
    screening_questions_that_apply,
)
from bookings.services.health_data import health_data_access_record as _audit
from bookings.services.health_rechecks import (  # noqa: F401 - re-exported for callers
    health_recheck_answer,
    health_recheck_request,
    health_recheck_review,
)
from bookings.services.transitions import appointment_transition
from clinic import roles
from clinic.errors import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from clinic.models import Service
from clinic.parsing import input_locale, local_date_or_none
from clinic.roles import Actor

logger = logging.getLogger(__name__)

Status = Appointment.Status
Outcome = Consultation.Outcome
Flag = ScreeningAnswerRule.Flag

HEALTH_FIELDS = ("answers", "screening_flags", "contraindications", "notes")
MAX_TEXT_ANSWER = 2000
# Neutral on purpose: cancellation reasons can reach the client, health reasons must not.
RELEASED_REASON = "Tentative treatment released after the consultation"


def consultation_open_for_appointment(*, appointment: Appointment) -> Consultation | None:
    """Create the (empty) consultation record for a booked consultation appointment.

    Idempotent; returns None for appointments that are not consultations or have no client.
    """
    if not appointment.service.is_consultation or appointment.client_id is None:
        return None
    consultation, _ = Consultation.objects.get_or_create(
        appointment=appointment, defaults={"client_id": appointment.client_id}
    )
    return consultation


@dataclass(frozen=True)
class _Flagged:
    key: str
    flag: str
    note: str
    not_before: date | None
    service_ids: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "flag": self.flag,
            "note": self.note,
            "not_before": self.not_before.isoformat() if self.not_before else None,
            "service_ids": list(self.service_ids),
        }


def _parse_answer(question: ScreeningQuestion, raw: Any, *, region: str) -> str:
    value = "" if raw is None else str(raw).strip()
    if not value:
        if question.is_required:
            raise ValidationFailed("Please answer this question.", field=question.key)
        return ""
    kind = question.answer_type
    if kind == question.AnswerType.YES_NO:
        value = value.lower()
        if value not in {"yes", "no"}:
            raise ValidationFailed("Please answer yes or no.", field=question.key)
    elif kind == question.AnswerType.CHOICE:
        if value not in [str(choice) for choice in question.choices]:
            raise ValidationFailed("Please choose one of the options.", field=question.key)
    elif kind == question.AnswerType.DATE:
        answered_on = local_date_or_none(value, region=region)
        if answered_on is None:
            hint = input_locale(region).date_hint
            raise ValidationFailed(f"Please enter a date as {hint}.", field=question.key)
        if answered_on > timezone.localdate():
            raise ValidationFailed("Please enter a date in the past.", field=question.key)
        value = answered_on.isoformat()
    elif len(value) > MAX_TEXT_ANSWER:
        raise ValidationFailed(
            f"Please keep this under {MAX_TEXT_ANSWER} characters.", field=question.key
        )
    return value


def _flag_for(question: ScreeningQuestion, value: str, *, today: date) -> _Flagged | None:
    if not value:
        return None
    is_date = question.answer_type == question.AnswerType.DATE
    wanted = ScreeningAnswerRule.ANY_DATE if is_date else value
    rule = next((rule for rule in question.rules.all() if rule.answer == wanted), None)
    if rule is None or rule.flag == Flag.NONE:
        return None
    not_before = None
    if rule.wait_days:
        counted_from = date.fromisoformat(value) if is_date else today
        not_before = counted_from + timedelta(days=rule.wait_days)
        if not_before <= today:
            # The wait is already over (isotretinoin stopped long ago): nothing to flag.
            return None
    return _Flagged(
        key=question.key,
        flag=rule.flag,
        note=rule.note,
        not_before=not_before,
        service_ids=tuple(service.pk for service in rule.services.all()),
    )


@dataclass(frozen=True)
class ScreeningResult:
    """What the client's page may say after submitting: never which answer mattered."""

    consultation: Consultation
    has_absolute_flag: bool


def consultation_submit_screening(
    *,
    consultation: Consultation,
    answers: Mapping[str, Any],
    actor: Actor = None,
    via: str = "site",
) -> ScreeningResult:
    """Validate the client's answers against the active questionnaire, store them with the
    wording each question had, and compute the flagged contraindications and the earliest
    treatment date they suggest. Answers can be replaced until the consultation is assessed.

    Only the questions the answers make relevant count (``screening_questions_that_apply``): a
    follow-up hidden by an earlier answer is not required, and whatever was typed into it is
    discarded, not stored (the form without its script shows every question).

    Raises ValidationFailed (``field`` = the question key), IllegalTransition when the
    consultation is already assessed or its appointment is cancelled.
    """
    questions = screening_questions_active()
    # A question retired while the client had the form open is ignored, not an error.
    known = set(ScreeningQuestion.objects.values_list("key", flat=True))
    unknown = sorted(set(answers) - known)
    if unknown:
        raise ValidationFailed("This question is not part of the form.", field=unknown[0])
    today = timezone.localtime(timezone.now(), consultation.appointment.location.zone).date()
    snapshot: list[dict[str, Any]] = []
    flagged: list[_Flagged] = []
    for question in screening_questions_that_apply(questions=questions, answers=answers):
        value = _parse_answer(
            question, answers.get(question.key), region=consultation.appointment.location.country
        )
        flag = _flag_for(question, value, today=today)
        if flag:
            flagged.append(flag)
        snapshot.append(
            {
                "key": question.key,
                "version": question.version,
                "text": question.text,
                "answer_type": question.answer_type,
                "answer": value,
                "flag": flag.flag if flag else Flag.NONE,
            }
        )
    with transaction.atomic():
        locked = (
            Consultation.objects.select_for_update(of=("self",))
            .select_related("appointment")
            .get(pk=consultation.pk)
        )
        if locked.outcome not in {Outcome.PENDING, Outcome.NEEDS_REVIEW}:
            raise IllegalTransition(
                "This consultation has been completed; please speak to the clinic about changes.",
                field="answers",
            )
        if locked.appointment.status in policy.DID_NOT_HAPPEN_STATUSES:
            raise IllegalTransition("This consultation was cancelled.", field="answers")
        locked.answers = snapshot
        locked.screening_flags = [flag.as_dict() for flag in flagged]
        waits = [flag.not_before for flag in flagged if flag.not_before]
        locked.screening_not_before = max(waits) if waits else None
        locked.submitted_at = timezone.now()
        locked.save(
            update_fields=[
                "answers",
                "screening_flags",
                "screening_not_before",
                "submitted_at",
                "updated_at",
            ]
        )
        _audit(
            actor=actor,
            action=HealthDataAccess.Action.CHANGE,
            record=f"consultation:{locked.pk}",
            fields=["answers", "screening_flags", "screening_not_before"],
            consultation=locked,
            via=via,
        )
        signals.consultation_screening_submitted.send(
            sender=Consultation, appointment=locked.appointment, actor_label="client"
        )
    # Only the id: even the number of flags says something about the client's health.
    logger.info("screening submitted", extra={"consultation_id": locked.pk})
    return ScreeningResult(
        consultation=locked,
        has_absolute_flag=any(flag.flag == Flag.ABSOLUTE for flag in flagged),
    )


def consultation_record_outcome(
    *,
    consultation: Consultation,
    actor: Actor,
    outcome: str,
    services: Iterable[Service] = (),
    valid_until: date | None = None,
    not_before: date | None = None,
    contraindications: Iterable[str] = (),
    notes: str = "",
    consent_version: ConsentFormVersion | None = None,
    consent_signed_at: datetime | None = None,
    consent_signed: bool = True,
    screened_in_person: bool = False,
    via: str = "staff",
) -> Consultation:
    """Record the practitioner's assessment and settle the tentative treatments waiting for it.

    ``cleared`` needs the treatment services it covers; ``valid_until`` defaults to the
    consultation service's validity (180 days) from today, ``not_before`` to the earliest date
    the screening answers suggest, the consent version to the current one. Then every
    ``pending_clearance`` treatment waiting for this consultation becomes ``booked`` when
    eligible (cleared service, within validity, after ``not_before``, course spacing) and is
    cancelled otherwise. ``not_suitable`` cancels them (the slot is freed, the client is told);
    ``needs_review`` leaves them waiting. An outcome is final once cleared or not suitable.

    Clinical order: an outcome is recorded from the consultation's start, not before;
    ``cleared`` without screening answers on file needs ``screened_in_person`` (recorded);
    ``consent_signed=False`` clears without signed consent (a treatment cannot be completed
    until ``consultation_record_consent``).

    Raises PermissionDenied (practitioners and managers only, and a practitioner only for a
    client they may see: ``bookings.access``), ValidationFailed, IllegalTransition.
    """
    access.check_clinical_access(actor=actor, client=consultation.client)
    if outcome not in {Outcome.CLEARED, Outcome.NOT_SUITABLE, Outcome.NEEDS_REVIEW}:
        raise ValidationFailed(
            "Outcome must be cleared, not_suitable or needs_review.", field="outcome"
        )
    services = list(services)
    label = roles.actor_label(actor)
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Consultation.objects.select_for_update(of=("self",))
            .select_related("appointment__service", "appointment__location")
            .get(pk=consultation.pk)
        )
        if locked.outcome in {Outcome.CLEARED, Outcome.NOT_SUITABLE}:
            raise IllegalTransition(
                "This consultation already has an outcome; book a new consultation to reassess.",
                field="outcome",
            )
        if locked.appointment.status in policy.DID_NOT_HAPPEN_STATUSES:
            raise IllegalTransition(
                "A cancelled or missed consultation cannot have an outcome.", field="outcome"
            )
        if now < locked.appointment.start_at:
            raise IllegalTransition(
                "An outcome can be recorded from the consultation's start time.", field="outcome"
            )
        today = timezone.localtime(now, locked.appointment.location.zone).date()
        if outcome == Outcome.CLEARED:
            if not services:
                raise ValidationFailed(
                    "Choose the treatments the client is cleared for.", field="services"
                )
            if any(service.kind != Service.Kind.TREATMENT for service in services):
                raise ValidationFailed("Only treatments can be cleared.", field="services")
            if locked.submitted_at is None and not screened_in_person:
                raise ValidationFailed(
                    "There are no screening answers on file. Tick “screened in person” once "
                    "you have asked the health questions yourself.",
                    field="screened_in_person",
                )
            valid_until = valid_until or today + timedelta(
                days=locked.appointment.service.consultation_validity_days
            )
            if valid_until < today:
                raise ValidationFailed("Validity must end today or later.", field="valid_until")
            consent_version = (
                consent_version or ConsentFormVersion.objects.filter(is_current=True).first()
            )
            if consent_version is None:
                raise ValidationFailed(
                    "No consent form version is set up; add one in the admin.",
                    field="consent_version",
                )
            if consent_signed:
                locked.consent_version = consent_version
                locked.consent_signed_at = consent_signed_at or now
            else:
                locked.consent_version, locked.consent_signed_at = None, None
            locked.screened_in_person = locked.submitted_at is None and screened_in_person
        else:
            valid_until = None
        if not_before is None:
            not_before = locked.screening_not_before
        locked.outcome = outcome
        locked.valid_until = valid_until
        locked.not_before = not_before
        locked.contraindications = [str(item).strip() for item in contraindications if item]
        locked.notes = notes
        locked.assessed_by = roles.user_of(actor)
        locked.assessed_at = now
        locked.save()
        locked.services_cleared.set(services if outcome == Outcome.CLEARED else [])
        _audit(
            actor=actor,
            action=HealthDataAccess.Action.CHANGE,
            record=f"consultation:{locked.pk}",
            fields=[
                "outcome",
                "services_cleared",
                "valid_until",
                "not_before",
                "contraindications",
                "notes",
                "consent_version",
                "screened_in_person",
            ],
            consultation=locked,
            via=via,
        )
        if outcome != Outcome.NEEDS_REVIEW:
            _settle_tentative_treatments(consultation=locked, actor=actor, label=label)
        signals.consultation_outcome_recorded.send(
            sender=Consultation,
            appointment=locked.appointment,
            actor_label=label,
            outcome=outcome,
            service_names=[service.name for service in services]
            if outcome == Outcome.CLEARED
            else [],
        )
    logger.info(
        "consultation outcome recorded",
        extra={"consultation_id": locked.pk, "outcome": outcome, "actor": label},
    )
    return locked


def consultation_record_consent(
    *,
    consultation: Consultation,
    actor: Actor,
    consent_version: ConsentFormVersion | None = None,
    via: str = "staff",
) -> Consultation:
    """Record that the client signed the consent form (the current version unless given) on a
    clearance recorded as "not signed". Raises PermissionDenied, ValidationFailed,
    IllegalTransition."""
    access.check_clinical_access(actor=actor, client=consultation.client)
    with transaction.atomic():
        locked = Consultation.objects.select_for_update().get(pk=consultation.pk)
        if locked.outcome != Outcome.CLEARED:
            raise IllegalTransition("Consent is recorded on a clearance.", field="consent")
        if locked.consent_signed_at is not None:
            raise IllegalTransition("Consent is already signed.", field="consent")
        consent_version = (
            consent_version or ConsentFormVersion.objects.filter(is_current=True).first()
        )
        if consent_version is None:
            raise ValidationFailed(
                "No consent form version is set up; add one in the admin.",
                field="consent_version",
            )
        locked.consent_version = consent_version
        locked.consent_signed_at = timezone.now()
        locked.save(update_fields=["consent_version", "consent_signed_at", "updated_at"])
        _audit(
            actor=actor,
            action=HealthDataAccess.Action.CHANGE,
            record=f"consultation:{locked.pk}",
            fields=["consent_version", "consent_signed_at"],
            consultation=locked,
            via=via,
        )
    return locked


def _settle_tentative_treatments(*, consultation: Consultation, actor: Actor, label: str) -> None:
    tentative = Appointment.objects.select_for_update(of=("self",)).filter(
        awaiting_consultation_id=consultation.appointment_id,
        status=Status.PENDING_CLEARANCE,
    )
    for treatment in tentative.select_related("service", "client"):
        if consultation.outcome == Outcome.CLEARED:
            result = eligibility.check(
                client=treatment.client,
                service=treatment.service,
                start_at=treatment.start_at,
                exclude_appointment_id=treatment.pk,
            )
            if result.allowed:
                appointment_transition(
                    appointment=treatment,
                    to_status=Status.BOOKED,
                    actor=actor,
                    actor_label=label,
                    reason="consultation cleared",
                )
                continue
        appointment_transition(
            appointment=treatment,
            to_status=Status.CANCELLED,
            actor=actor,
            actor_label=label,
            reason=RELEASED_REASON,
        )


def tentative_treatments_release_for_consultation(
    *,
    consultation_appointment: Appointment,
    actor_label: str = "system",
    only_too_early: bool = False,
) -> int:
    """Cancel the tentative treatments waiting for a consultation that was cancelled or missed;
    with ``only_too_early`` (the consultation moved), just those now starting less than
    ``policy.FIRST_TREATMENT_GAP`` after it. Returns how many were released."""
    released = 0
    with transaction.atomic():
        tentative = Appointment.objects.select_for_update().filter(
            awaiting_consultation_id=consultation_appointment.pk,
            status=Status.PENDING_CLEARANCE,
        )
        if only_too_early:
            tentative = tentative.filter(
                start_at__lt=policy.first_treatment_earliest(consultation_appointment)
            )
        for treatment in tentative:
            appointment_transition(
                appointment=treatment,
                to_status=Status.CANCELLED,
                actor_label=actor_label,
                reason=RELEASED_REASON,
            )
            released += 1
    return released


def tentative_holds_release_due(*, now: datetime | None = None) -> int:
    """Periodic: cancel ``pending_clearance`` treatments that cannot be cleared in time — their
    consultation was cancelled, missed or deleted, or it still has no clearing outcome by the
    treatment's start minus ``CLEARANCE_MARGIN_HOURS``. Returns how many were released."""
    now = now or timezone.now()
    margin = timedelta(hours=settings.CLEARANCE_MARGIN_HOURS)
    released = 0
    with transaction.atomic():
        candidates = (
            Appointment.objects.select_for_update(of=("self",))
            .filter(status=Status.PENDING_CLEARANCE)
            .select_related("awaiting_consultation")
        )
        for treatment in candidates:
            consultation_appointment = treatment.awaiting_consultation
            gone = (
                consultation_appointment is None
                or consultation_appointment.status in policy.DID_NOT_HAPPEN_STATUSES
            )
            if not gone and treatment.start_at - margin > now:
                continue
            appointment_transition(
                appointment=treatment,
                to_status=Status.CANCELLED,
                actor_label="system",
                reason=RELEASED_REASON,
            )
            released += 1
    if released:
        logger.info("tentative treatments released", extra={"count": released})
    return released


@dataclass(frozen=True)
class ConsultationRecord:
    """A consultation as one actor may see it. Health fields are None for reception."""

    consultation: Consultation
    includes_health_data: bool
    answers: list[dict[str, Any]] | None
    screening_flags: list[dict[str, Any]] | None
    contraindications: list[str] | None
    notes: str | None


def consultation_read(
    *,
    consultation: Consultation,
    actor: Actor,
    include_health_data: bool = True,
    via: str = "api",
) -> ConsultationRecord:
    """Return the consultation for ``actor``, writing a ``HealthDataAccess`` row.

    Practitioners and managers get the screening answers, flags, contraindications and notes;
    reception gets the outcome only (``include_health_data=False``); asking for health data
    without a clinical role raises PermissionDenied, as does any non-staff actor.
    """
    is_clinical = roles.has_role(actor, *roles.CLINICAL_ROLES)
    if not roles.is_staff_member(actor):
        raise PermissionDenied("Only clinic staff can see consultations.")
    try:
        access.check_client_access(actor=actor, client=consultation.client)
    except PermissionDenied:
        _audit(
            actor=actor,
            action=HealthDataAccess.Action.DENIED,
            record=f"consultation:{consultation.pk}",
            fields=HEALTH_FIELDS if include_health_data else ("outcome",),
            consultation=consultation,
            via=via,
        )
        raise
    if include_health_data and not is_clinical:
        _audit(
            actor=actor,
            action=HealthDataAccess.Action.DENIED,
            record=f"consultation:{consultation.pk}",
            fields=HEALTH_FIELDS,
            consultation=consultation,
            via=via,
        )
        raise PermissionDenied("Only practitioners and managers can read screening answers.")
    fields = HEALTH_FIELDS if include_health_data else ("outcome",)
    _audit(
        actor=actor,
        action=HealthDataAccess.Action.READ,
        record=f"consultation:{consultation.pk}",
        fields=fields,
        consultation=consultation,
        via=via,
    )
    if not include_health_data:
        return ConsultationRecord(consultation, False, None, None, None, None)
    return ConsultationRecord(
        consultation=consultation,
        includes_health_data=True,
        answers=list(consultation.answers),
        screening_flags=list(consultation.screening_flags),
        contraindications=list(consultation.contraindications),
        notes=consultation.notes,
    )


def consultation_for_screening(*, appointment_id: int) -> Consultation:
    """The consultation record a client's screening link names, opened if it does not exist yet.

    Raises NotFound when the appointment is not a consultation with a client.
    """
    appointment = (
        Appointment.objects.select_related("service", "location", "client")
        .filter(pk=appointment_id)
        .first()
    )
    consultation = (
        consultation_open_for_appointment(appointment=appointment) if appointment else None
    )
    if consultation is None or appointment is None:
        raise NotFound("This booking has no health questionnaire.")
    consultation.appointment = appointment
    return consultation


KIND_ABSOLUTE_MESSAGE = (
    "Thank you. From your answers, micro-needling may not be the right treatment for you just "
    "now. Please still come to your consultation: your practitioner will talk it through with "
    "you and suggest alternatives that suit your skin."
)
THANK_YOU_MESSAGE = (
    "Thank you — your answers are with your practitioner, who will go through them with you at "
    "your consultation."
)


WORDING_FIELDS = {"text", "help_text", "answer_type", "choices"}


def screening_question_record_change(
    *, question: ScreeningQuestion, changed_fields: Iterable[str]
) -> ScreeningQuestion:
    """Bump a question's version when its wording or answer type changes (before saving), so
    answers given earlier are recognisably to an older version."""
    if WORDING_FIELDS & set(changed_fields):
        question.version += 1
    return question
