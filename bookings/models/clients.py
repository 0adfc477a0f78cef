from __future__ import annotations

from django.conf import settings
from django.db import models

from clinic.models import Location


class Client(models.Model):
    """A person who books. No password: they prove their phone with a one-time code and manage
    bookings through signed links."""

    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80, blank=True)
    phone = models.CharField(max_length=20, unique=True, help_text="E.164, e.g. +447700900123")
    email = models.EmailField(blank=True)
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    sms_consent_at = models.DateTimeField(null=True, blank=True)

    class ConsentMethod(models.TextChoices):
        ONLINE_FORM = "online_form", "on the booking site"
        STAFF_PHONE = "staff_phone", "by phone, to staff"
        SMS_START = "sms_start", "by texting START"
        SMS_UNSTOP = "sms_unstop", "by texting UNSTOP"
        SMS_YES = "sms_yes", "by texting YES"

    # No choices= on the field: older rows may hold other methods, which are shown as stored.
    sms_consent_method = models.CharField(
        max_length=40,
        blank=True,
        help_text="How consent was given: online_form, staff_phone, sms_start…",
    )
    sms_consent_wording = models.TextField(
        blank=True, help_text="The exact wording the client agreed to"
    )
    sms_opted_out_at = models.DateTimeField(null=True, blank=True)
    # Email is a second channel, agreed to separately: confirmations and the care-page link also
    # go by email, and care messages whose SMS could not reach the client go by email instead.
    email_consent_at = models.DateTimeField(null=True, blank=True)
    email_consent_method = models.CharField(
        max_length=40, blank=True, help_text="How email consent was given: online_form, staff…"
    )
    email_consent_wording = models.TextField(
        blank=True, help_text="The exact wording the client agreed to for email"
    )
    email_opted_out_at = models.DateTimeField(null=True, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    notes = models.TextField(
        blank=True,
        help_text="Desk notes, not clinical (preferences, access needs); every member of staff "
        "who sees the client reads them",
    )
    # Health data: read and changed only through bookings.access (clinical roles, audited).
    alert = models.CharField(
        max_length=500,
        blank=True,
        help_text='Clinical alert, e.g. "allergic to lidocaine": practitioners and managers read '
        "it on every appointment panel; reception sees only that there is one",
    )
    preferred_location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Erased on request: personal fields anonymised, the appointment skeleton and clinical
    # records kept for CLINICAL_RECORD_RETENTION_DAYS, then purged by the retention job.
    erased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["last_name", "first_name"])]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def sms_consent_method_label(self) -> str:
        """How consent was given, in words ("by phone, to staff")."""
        try:
            return self.ConsentMethod(self.sms_consent_method).label
        except ValueError:
            return self.sms_consent_method.replace("_", " ")

    @property
    def can_receive_email(self) -> bool:
        return (
            bool(self.email)
            and self.email_consent_at is not None
            and (self.email_opted_out_at is None)
        )

    @property
    def can_receive_sms(self) -> bool:
        return self.sms_consent_at is not None and self.sms_opted_out_at is None


class ClientChange(models.Model):
    """Who changed a client's details, when, and from what to what (one row per edit)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(max_length=40, help_text="staff:<username>")
    changes = models.JSONField(default=dict, help_text="{field: [before, after]}")
    created_at = models.DateTimeField(auto_now_add=True)

    # The order the services write the fields in (a merge, then the edit form's order).
    # PostgreSQL's jsonb keeps an object's keys sorted by length, not as written, so the
    # history is shown in this order rather than the stored one.
    FIELD_ORDER = (
        "merged",
        "reason",
        "first_name",
        "last_name",
        "email",
        "date_of_birth",
        "notes",
        "alert",
        "email_consent",
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        fields = ", ".join(name for name, _ in self.changes_in_order())
        return f"{self.client_id}: {fields} by {self.actor_label}"

    def changes_in_order(self) -> list[tuple[str, list[str]]]:
        """``changes`` as (field, [before, after]) pairs in FIELD_ORDER, any other field after
        them by name."""
        rank = {name: index for index, name in enumerate(self.FIELD_ORDER)}
        return sorted(
            self.changes.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])
        )
