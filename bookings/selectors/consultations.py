"""Reads about consultations: is a client cleared for a service at a time, which consultations
wait for review, the active screening questionnaire, and which appointment an SMS re-check
reply is about.

These selectors never return screening answers or notes to a caller that has not been
permission-checked; ``bookings.services.consultations.consultation_read`` is the audited way in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from bookings import access, courses, policy
from bookings.models import (
    Appointment,
    Client,
    Consultation,
    HealthRecheck,
    ScreeningAnswerRule,
    ScreeningQuestion,
)
from clinic import roles
from clinic.models import Service
from clinic.roles import Actor

Status = Appointment.Status
Outcome = Consultation.Outcome

RECHECK_WINDOW = timedelta(hours=72)


@dataclass(frozen=True)
class ClearanceRefusal:
    """Why a client may not (yet) have a service that needs a consultation."""

    reason: str
    message: str
    not_before: date | None = None


def _local_date(*, moment: datetime, consultation: Consultation) -> date:
    # Clearance dates are the clinic's calendar days, not UTC days.
    return timezone.localtime(moment, consultation.appointment.location.zone).date()


def clearance_refusal(
    *, client: Client | None, service: Service, start_at: datetime
) -> ClearanceRefusal | None:
    """Return why ``client`` is not cleared for ``service`` at ``start_at``, or None if they are.

    The latest assessment wins: a ``not_suitable`` outcome voids earlier clearances; after it,
    a ``cleared`` consultation covering the service with ``valid_until`` on or after the
    treatment's (local) date and no later ``not_before`` clears the client. A consultation that
    is booked (or done) but not yet assessed, or assessed as ``needs_review``, is
    ``consultation_pending``.
    """
    required = ClearanceRefusal(
        reason=policy.EligibilityRefusal.CONSULTATION_REQUIRED,
        message="Please book a consultation first: we need to see your skin before treatment.",
    )
    if client is None:
        return required
    assessed = list(
        Consultation.objects.filter(
            client=client, outcome__in=[Outcome.CLEARED, Outcome.NOT_SUITABLE]
        )
        .select_related("appointment__location")
        .prefetch_related("services_cleared")
        .order_by("-assessed_at", "-pk")
    )
    latest_refusal = next((c for c in assessed if c.outcome == Outcome.NOT_SUITABLE), None)
    clearances = [
        c
        for c in assessed
        if c.outcome == Outcome.CLEARED
        and (
            latest_refusal is None
            or (c.assessed_at, c.pk) > (latest_refusal.assessed_at, latest_refusal.pk)
        )
        and any(s.pk == service.pk for s in c.services_cleared.all())
    ]
    in_validity = [
        c
        for c in clearances
        if c.valid_until is not None
        and _local_date(moment=start_at, consultation=c) <= c.valid_until
    ]
    if in_validity:
        if any(
            c.not_before is None or _local_date(moment=start_at, consultation=c) >= c.not_before
            for c in in_validity
        ):
            return None
        earliest = min(c.not_before for c in in_validity if c.not_before is not None)
        return ClearanceRefusal(
            reason=policy.EligibilityRefusal.NOT_BEFORE,
            message=(
                "Your practitioner has advised waiting before treatment. "
                f"You can book from {earliest:%-d %B %Y}."
            ),
            not_before=earliest,
        )
    if consultation_pending_for(client=client).exists():
        return ClearanceRefusal(
            reason=policy.EligibilityRefusal.CONSULTATION_PENDING,
            message=(
                "Your consultation hasn't been completed yet. Once your practitioner has seen "
                "you, you'll be able to book treatment."
            ),
        )
    if latest_refusal is not None:
        return ClearanceRefusal(
            reason=policy.EligibilityRefusal.NOT_SUITABLE,
            message=(
                "After your consultation, this treatment isn't the right choice for you at the "
                "moment. Please talk to the clinic about alternatives."
            ),
            # No date here even if the practitioner noted one: it is when to re-assess, not
            # when treatment may be booked, and the site would offer times from it.
        )
    if clearances:
        return ClearanceRefusal(
            reason=policy.EligibilityRefusal.CLEARANCE_EXPIRED,
            message=(
                "Your consultation clearance has expired for that date. Please book a short "
                "consultation so we can check your skin again."
            ),
        )
    return required


def consultation_pending_for(*, client: Client) -> QuerySet[Appointment]:
    """The client's consultation appointments that are still to be assessed: upcoming or done,
    with no outcome yet (or ``needs_review``)."""
    assessed = Consultation.objects.filter(
        appointment=OuterRef("pk"), outcome__in=[Outcome.CLEARED, Outcome.NOT_SUITABLE]
    )
    return Appointment.objects.filter(
        client=client,
        service__kind=Service.Kind.CONSULTATION,
        status__in=policy.ASSESSABLE_CONSULTATION_STATUSES,
    ).exclude(Exists(assessed))


def consultations_for_review(*, actor: Actor, outcome: str | None = None) -> QuerySet[Consultation]:
    """Consultations for the staff review list (no health data is loaded here).

    Without ``outcome``: those still to assess (pending or needs review) whose appointment was
    not cancelled. Raises PermissionDenied unless ``actor`` is staff.
    """
    roles.require_role(actor, *roles.ALL_ROLES)
    consultations = Consultation.objects.select_related(
        "client", "appointment__location", "appointment__service", "appointment__practitioner"
    ).only(
        "id",
        "outcome",
        "submitted_at",
        "valid_until",
        "assessed_at",
        "client__first_name",
        "client__last_name",
        "appointment__start_at",
        "appointment__status",
        "appointment__location__timezone",
        "appointment__service__name",
        "appointment__practitioner__display_name",
    )
    consultations = access.filter_by_client(consultations, actor=actor)
    if outcome:
        consultations = consultations.filter(outcome=outcome)
    else:
        consultations = consultations.filter(
            outcome__in=[Outcome.PENDING, Outcome.NEEDS_REVIEW]
        ).exclude(appointment__status__in=policy.DID_NOT_HAPPEN_STATUSES)
    return consultations.order_by("appointment__start_at")


def screening_questions_active(*, service_kind: str | None = None) -> list[ScreeningQuestion]:
    """The questionnaire as shown to clients now, in order (rules prefetched)."""
    questions = (
        ScreeningQuestion.objects.filter(is_active=True)
        .select_related("shown_when_question")
        .prefetch_related("rules__services")
    )
    return [
        question
        for question in questions.order_by("order", "id")
        if not question.applies_to_kinds
        or service_kind is None
        or service_kind in question.applies_to_kinds
    ]


def _given_answer(question: ScreeningQuestion, raw: Any) -> str:
    value = "" if raw is None else str(raw).strip()
    return value.lower() if question.answer_type == question.AnswerType.YES_NO else value


def screening_questions_that_apply(
    *, questions: Sequence[ScreeningQuestion], answers: Mapping[str, Any]
) -> list[ScreeningQuestion]:
    """The questions of ``questions`` that the client's ``answers`` make relevant, in order:
    a question with a condition ("shown when") applies only when the question it depends on
    applies and was given that answer. The one place this rule lives: the site form, the
    screening API and the stored snapshot all go through it (the page's script only mirrors it
    so a phone hides what will not count).

    A condition on a question that is no longer in the questionnaire (retired) no longer hides
    anything: asking one question too many is safer than losing one."""
    by_id = {question.pk: question for question in questions}
    decided: dict[int, bool] = {}

    def applies(question: ScreeningQuestion, path: frozenset[int]) -> bool:
        if question.pk in decided:
            return decided[question.pk]
        parent = by_id.get(question.shown_when_question_id or 0)
        if parent is None or parent.pk in path:
            result = True
        else:
            result = applies(parent, path | {question.pk}) and (
                _given_answer(parent, answers.get(parent.key)) == question.shown_when_answer
            )
        decided[question.pk] = result
        return result

    return [question for question in questions if applies(question, frozenset())]


def appointments_needing_recheck(*, now: datetime | None = None) -> QuerySet[Appointment]:
    """Booked later sessions starting within the re-check window with no answer yet."""
    now = now or timezone.now()
    answered = HealthRecheck.objects.filter(appointment=OuterRef("pk"), answered_at__isnull=False)
    return (
        Appointment.objects.filter(
            status__in=policy.EXPECTED_STATUSES,
            service__requires_consultation=True,
            start_at__gt=now,
            start_at__lte=now + RECHECK_WINDOW,
        )
        .filter(courses.earlier_session_exists())
        .exclude(Exists(answered))
        .select_related("client", "service", "location")
        .order_by("start_at")
    )


def appointment_awaiting_recheck(
    *, client: Client, now: datetime | None = None
) -> Appointment | None:
    """The appointment a client's SMS reply 1/2 answers: their soonest later session within the
    re-check window that has no answer yet, or None."""
    return appointments_needing_recheck(now=now).filter(client=client).first()


RECHECK_CHANGED = "changed"
RECHECK_UNCHANGED = "unchanged"
RECHECK_UNANSWERED = "unanswered"


def health_recheck_states(*, appointments: Iterable[Appointment]) -> dict[int, str]:
    """For the calendar: the re-check state of each later session among ``appointments``
    (``changed`` = in review, ``unchanged``, ``unanswered``). Appointments that need no re-check
    (consultations, first sessions, cancelled visits) are left out. Two queries in all."""
    candidates = [
        appointment
        for appointment in appointments
        if appointment.client_id
        and appointment.status in policy.RECHECK_SHOWN_STATUSES
        and appointment.service.requires_consultation
    ]
    if not candidates:
        return {}
    later = courses.later_session_ids(appointments=candidates)
    answers = {
        recheck.appointment_id: recheck
        for recheck in HealthRecheck.objects.filter(appointment_id__in=later)
    }
    states: dict[int, str] = {}
    for appointment in candidates:
        if appointment.pk not in later:
            continue
        recheck = answers.get(appointment.pk)
        if recheck is None or recheck.answered_at is None:
            states[appointment.pk] = RECHECK_UNANSWERED
        else:
            states[appointment.pk] = RECHECK_CHANGED if recheck.changed else RECHECK_UNCHANGED
    return states


def treatment_not_before(
    *, client: Client, service: Service, now: datetime | None = None
) -> date | None:
    """The earliest date a client's clearance allows ``service`` (its ``not_before``), for the
    booking site's calendar to start from; None when there is no such wait (or no clearance,
    which ``bookings.eligibility.check`` explains). The course interval is separate."""
    refusal = clearance_refusal(client=client, service=service, start_at=now or timezone.now())
    if refusal is not None and refusal.reason == policy.EligibilityRefusal.NOT_BEFORE:
        return refusal.not_before
    return None


def health_rechecks_in_review(
    *, actor: Actor, now: datetime | None = None
) -> QuerySet[HealthRecheck]:
    """Upcoming sessions whose client said something changed, soonest first (staff only)."""
    roles.require_role(actor, *roles.ALL_ROLES)
    in_review = access.filter_by_client(
        HealthRecheck.objects.all(), actor=actor, client_field="appointment__client"
    )
    return (
        in_review.filter(
            needs_review=True,
            appointment__status__in=policy.EXPECTED_STATUSES,
            appointment__start_at__gt=now or timezone.now(),
        )
        .select_related("appointment__client", "appointment__service", "appointment__location")
        .order_by("appointment__start_at")
    )


def screening_advises_against_treatment(*, appointment: Appointment) -> bool:
    """Whether the client's own screening answers for this consultation flagged an absolute
    contraindication, until a practitioner records an outcome. The booking site then stops
    offering a first treatment (the client was told it may not be right for them); it never
    says which answer mattered."""
    consultation = Consultation.objects.filter(appointment=appointment).first()
    if consultation is None or consultation.outcome not in {
        Consultation.Outcome.PENDING,
        Consultation.Outcome.NEEDS_REVIEW,
    }:
        return False
    return any(
        flag.get("flag") == ScreeningAnswerRule.Flag.ABSOLUTE
        for flag in consultation.screening_flags
    )
