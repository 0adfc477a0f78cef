"""Consultations: the screening questionnaire (as data), the consultation record and its outcome,
the consent form versions, the health-data access log, the pre-session health re-check and the
staff API tokens.

Screening answers and practitioner notes are health data: only clinical staff may read them,
every read and change is written to ``HealthDataAccess`` (see ``bookings.services.consultations``)
and none of it ever goes into an SMS or a log line.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from bookings.models.appointments import Appointment
from bookings.models.clients import Client
from clinic.models import Service


class ScreeningQuestion(models.Model):
    """One question of the screening questionnaire. What an answer means clinically lives in
    ``ScreeningAnswerRule`` rows, so a clinic changes its screening policy in the admin, not in
    code. ``version`` increases whenever the wording changes; answers keep the wording they saw."""

    class AnswerType(models.TextChoices):
        YES_NO = "yes_no", "Yes / no"
        CHOICE = "choice", "One of a list"
        DATE = "date", "Date"
        TEXT = "text", "Free text"

    key = models.SlugField(max_length=60, unique=True)
    text = models.TextField()
    help_text = models.TextField(blank=True)
    answer_type = models.CharField(
        max_length=10, choices=AnswerType.choices, default=AnswerType.YES_NO
    )
    choices = models.JSONField(
        default=list, blank=True, help_text='For "one of a list": the allowed answers, in order'
    )
    is_required = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    applies_to_kinds = models.JSONField(
        default=list,
        blank=True,
        help_text='Service kinds whose booking asks this question (empty = all), e.g. ["consultation"]',
    )
    shown_when_question = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups",
        help_text="Ask this only when the client gave the answer below to that (earlier) question; "
        "empty = always ask",
    )
    shown_when_answer = models.CharField(
        max_length=60,
        blank=True,
        help_text='The answer that shows this question ("yes", "no" or one of the choices)',
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(shown_when_question__isnull=True) & Q(shown_when_answer=""))
                | (Q(shown_when_question__isnull=False) & ~Q(shown_when_answer="")),
                name="screening_question_condition_complete",
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} (v{self.version})"

    def answers_offered(self) -> list[str]:
        """The answers a client can pick (empty for dates and free text)."""
        if self.answer_type == self.AnswerType.YES_NO:
            return ["yes", "no"]
        if self.answer_type == self.AnswerType.CHOICE:
            return [str(choice) for choice in self.choices]
        return []

    def clean(self) -> None:
        """A condition names an earlier yes/no or choice question and one of its answers, and
        never leads back to this question (so the form can always be walked top to bottom)."""
        super().clean()
        parent = self.shown_when_question
        if parent is None:
            if self.shown_when_answer:
                raise ValidationError(
                    {"shown_when_question": "Choose the question this answer belongs to."}
                )
            return
        if not parent.answers_offered():
            raise ValidationError(
                {"shown_when_question": "Only a yes/no or one-of-a-list question can show another."}
            )
        if self.shown_when_answer not in parent.answers_offered():
            offered = ", ".join(parent.answers_offered())
            raise ValidationError({"shown_when_answer": f"Use one of: {offered}."})
        seen = {self.pk} if self.pk else set()
        ancestor: ScreeningQuestion | None = parent
        while ancestor is not None:
            if ancestor.pk in seen:
                raise ValidationError(
                    {"shown_when_question": "A question cannot depend on itself."}
                )
            seen.add(ancestor.pk)
            ancestor = ancestor.shown_when_question
        if (parent.order, parent.pk or 0) >= (self.order, self.pk or 2**63):
            raise ValidationError(
                {"shown_when_question": "The question it depends on must come earlier."}
            )


class ScreeningAnswerRule(models.Model):
    """What an answer to a question means. ``answer`` is matched exactly (``yes``/``no`` for
    yes/no questions, a choice value, or ``*`` for "any date given" on date questions).

    ``wait_days`` makes the client eligible again later: counted from the date answered on a
    date question (isotretinoin stopped on … + 180 days), otherwise from the day the screening
    was submitted (sunburn in the last two weeks → 14 days)."""

    class Flag(models.TextChoices):
        NONE = "none", "No concern"
        RELATIVE = "relative", "Relative contraindication (practitioner review)"
        ABSOLUTE = "absolute", "Absolute contraindication (not suitable)"

    ANY_DATE = "*"

    question = models.ForeignKey(ScreeningQuestion, on_delete=models.CASCADE, related_name="rules")
    answer = models.CharField(max_length=60)
    flag = models.CharField(max_length=10, choices=Flag.choices, default=Flag.NONE)
    wait_days = models.PositiveIntegerField(null=True, blank=True)
    services = models.ManyToManyField(
        Service,
        blank=True,
        related_name="+",
        help_text="Services this concerns (empty = every service that requires a consultation)",
    )
    note = models.CharField(
        max_length=200, blank=True, help_text="Shown to the practitioner, never to the client"
    )

    class Meta:
        ordering = ["question", "answer"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "answer"], name="screening_rule_unique_answer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.question.key}={self.answer}: {self.flag}"


class ConsentFormVersion(models.Model):
    """The consent form a client signs at the consultation; the signed version is recorded."""

    version = models.CharField(max_length=20, unique=True)
    text = models.TextField()
    is_current = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=Q(is_current=True),
                name="consent_form_one_current",
            )
        ]

    def __str__(self) -> str:
        return f"Consent form {self.version}"


class Consultation(models.Model):
    """The record of one consultation appointment: the client's screening answers (a snapshot
    of the questions as they were worded), the practitioner's assessment and its outcome."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Not assessed yet"
        CLEARED = "cleared", "Cleared"
        NEEDS_REVIEW = "needs_review", "Needs review"
        NOT_SUITABLE = "not_suitable", "Not suitable"

    appointment = models.OneToOneField(
        Appointment, on_delete=models.CASCADE, related_name="consultation"
    )
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="consultations")
    answers = models.JSONField(
        default=list,
        blank=True,
        help_text="Snapshot: one entry per question with key, version, wording, answer and flag",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    screening_flags = models.JSONField(
        default=list, blank=True, help_text="Contraindications flagged by the screening answers"
    )
    screening_not_before = models.DateField(
        null=True, blank=True, help_text="Earliest treatment date suggested by the answers"
    )
    contraindications = models.JSONField(
        default=list, blank=True, help_text="Contraindications the practitioner recorded"
    )
    notes = models.TextField(blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.PENDING)
    services_cleared = models.ManyToManyField(Service, blank=True, related_name="+")
    valid_until = models.DateField(
        null=True, blank=True, help_text="Clearance holds for treatments starting on or before"
    )
    not_before = models.DateField(
        null=True, blank=True, help_text="No treatment before this date (local)"
    )
    consent_version = models.ForeignKey(
        ConsentFormVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    consent_signed_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty = the consent form has not been signed"
    )
    screened_in_person = models.BooleanField(
        default=False,
        help_text="Cleared without online screening answers: the practitioner asked the health "
        "questions in person",
    )
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    assessed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client", "outcome", "valid_until"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome="cleared") | Q(valid_until__isnull=False),
                name="consultation_cleared_has_validity",
            )
        ]

    def __str__(self) -> str:
        return f"Consultation {self.pk} ({self.outcome})"

    @property
    def is_cleared(self) -> bool:
        return self.outcome == self.Outcome.CLEARED


class HealthDataAccess(models.Model):
    """Audit log: who read or changed which health record, when, and which fields."""

    class Action(models.TextChoices):
        READ = "read", "Read"
        CHANGE = "change", "Change"
        DENIED = "denied", "Denied"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=60)
    action = models.CharField(max_length=10, choices=Action.choices)
    consultation = models.ForeignKey(
        Consultation, null=True, blank=True, on_delete=models.SET_NULL, related_name="accesses"
    )
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.SET_NULL)
    record = models.CharField(max_length=60, help_text="e.g. consultation:12, recheck:4")
    fields = models.JSONField(default=list, blank=True)
    via = models.CharField(max_length=20, blank=True, help_text="api, staff, admin, site, sms")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "health data access log"
        indexes = [models.Index(fields=["record", "created_at"])]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.record} at {self.created_at:%Y-%m-%d %H:%M}"


class HealthRecheck(models.Model):
    """Before each later session of a course the client confirms nothing has changed
    (pregnancy, new medication, cold sore, recent sun or injectables)."""

    class Via(models.TextChoices):
        LINK = "link", "Web link"
        SMS = "sms", "SMS reply"
        STAFF = "staff", "Staff"

    appointment = models.OneToOneField(
        Appointment, on_delete=models.CASCADE, related_name="health_recheck"
    )
    asked_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    changed = models.BooleanField(null=True, blank=True)
    via = models.CharField(max_length=10, choices=Via.choices, blank=True)
    needs_review = models.BooleanField(default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["needs_review", "answered_at"])]

    def __str__(self) -> str:
        return f"Re-check for appointment {self.appointment_id}: {self.changed}"


class ApiToken(models.Model):
    """A personal API token for scripts and integrations. Only its SHA-256 is stored; the token
    itself is shown once, when created."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=80, blank=True)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise a token")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # A leaked token stops working on its own (API_TOKEN_LIFETIME_DAYS after creation).
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )
