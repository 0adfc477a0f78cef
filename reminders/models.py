"""The SMS side of Aftercare: protocols as data (ReminderRule), the outbox (Message) and replies
(InboundMessage).

Every SMS is a ``Message`` row before anything tries to send it (ARCHITECTURE invariant 3); the
dispatcher only ever sends rows it has claimed, and statuses only move forward (invariant 4).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from clinic.models import Location, Service
from reminders.channels import sms_unreachable_reason


class ReminderRule(models.Model):
    """One step of a protocol: when (anchor + offset, optionally at a fixed local time of day),
    for which services, and what to say."""

    class Category(models.TextChoices):
        CONFIRMATION = "confirmation", "Booking confirmation"
        CONSULTATION_PREP = "consultation_prep", "Consultation preparation"
        PRE_CARE = "pre_care", "Pre-care"
        DAY_BEFORE = "day_before", "Day-before reminder"
        AFTERCARE = "aftercare", "Aftercare"
        DOWNTIME_CHECK = "downtime_check", "Downtime check-in"
        REBOOK = "rebook", "Rebook nudge"
        CANCELLATION = "cancellation", "Cancellation confirmation"
        CLEARANCE = "clearance", "Cleared after consultation"
        HEALTH_RECHECK = "health_recheck", "Health re-check"
        VERIFICATION = "verification", "Phone verification code"
        DATA_EXPORT = "data_export", "Link to the client's copy of their data"
        ADHOC = "adhoc", "Message from staff"
        RECALL = "recall", "Product recall notice"
        OUTCOME_RATING = "outcome_rating", "Course outcome rating"
        WAITLIST_OFFER = "waitlist_offer", "Waitlist offer of a freed time"
        REPLY = "reply", "Reply"

    class Anchor(models.TextChoices):
        BOOKED = "booked", "When booked"
        START = "start", "Appointment start"
        END = "end", "Appointment end"

    class Trigger(models.TextChoices):
        BOOKED = "booked", "Booking (and reschedule)"
        PENDING_CLEARANCE = "pending_clearance", "Tentative booking awaiting clearance"
        RESCHEDULED = "rescheduled", "Appointment moved"
        COMPLETED = "completed", "Appointment completed"
        CANCELLED = "cancelled", "Appointment cancelled"
        RELEASED = "released", "Tentative booking released after the consultation"
        CLEARED = "cleared", "Client cleared at their consultation"

    name = models.CharField(max_length=120)
    category = models.CharField(max_length=20, choices=Category.choices)
    trigger = models.CharField(
        max_length=20,
        choices=Trigger.choices,
        default=Trigger.BOOKED,
        help_text="Which booking event plans this message",
    )
    services = models.ManyToManyField(
        Service,
        blank=True,
        related_name="reminder_rules",
        help_text="Empty = every service of the kinds below",
    )
    service_kinds = models.JSONField(
        default=list,
        blank=True,
        help_text='Service kinds this applies to when no services are chosen, e.g. ["treatment"]; '
        "empty = all kinds",
    )
    anchor = models.CharField(max_length=10, choices=Anchor.choices, default=Anchor.START)
    offset_minutes = models.IntegerField(
        default=0, help_text="Minutes after the anchor (negative = before)"
    )
    local_time = models.TimeField(
        null=True,
        blank=True,
        help_text="If set: send on the local date of anchor+offset at this local time of day",
    )
    template = models.TextField(
        help_text="Django template. Variables: first_name, clinic_name, date, time, manage_url, "
        "care_url, recheck_url, screening_url, book_url, clinic_phone, can_change_online "
        "(true until the online-change cutoff), previous_when (a moved visit's old time), "
        "treatment_names (after clearance, only where the location names treatments in texts)"
    )
    respects_quiet_hours = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    priority = models.IntegerField(
        default=50, help_text="Higher wins when the per-client daily cap is reached"
    )
    stale_after_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Skip instead of sending this late (empty = never stale)"
    )
    only_repeat_sessions = models.BooleanField(
        default=False, help_text="Only for sessions after the first of a course"
    )
    only_while_course_unfinished = models.BooleanField(
        default=False, help_text="Only while the client's course of this service is unfinished"
    )
    only_after_course_finished = models.BooleanField(
        default=False,
        help_text="Only after the session that finishes the client's course of this service",
    )
    catch_up = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replaces",
        limit_choices_to={"is_catch_up": True},
        help_text="If this step's time has passed when the booking is made, send this catch-up "
        "message instead (once per booking, at the next allowed time, if still before the visit)",
    )
    is_catch_up = models.BooleanField(
        default=False,
        help_text="Only sent in place of steps whose time had passed when the booking was made",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["trigger", "anchor", "offset_minutes", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_category_display()})"

    def clean(self) -> None:
        from reminders.rendering import sample_render

        super().clean()
        try:
            body = sample_render(self.template)
        except ValueError as exc:
            raise ValidationError({"template": str(exc)}) from None
        if not body.strip():
            raise ValidationError({"template": "The template renders to an empty message."})
        if not isinstance(self.service_kinds, list) or any(
            kind not in Service.Kind.values for kind in self.service_kinds
        ):
            raise ValidationError(
                {"service_kinds": f"Use a list of kinds from {', '.join(Service.Kind.values)}"}
            )
        if self.local_time is not None and self.anchor == self.Anchor.BOOKED:
            raise ValidationError(
                {"local_time": "A fixed time of day needs a start or end anchor."}
            )


# Categories that the per-client daily cap does not count or limit.
CAP_EXEMPT_CATEGORIES = frozenset(
    {
        ReminderRule.Category.CONFIRMATION,
        ReminderRule.Category.CANCELLATION,
        ReminderRule.Category.CLEARANCE,
        ReminderRule.Category.VERIFICATION,
        ReminderRule.Category.DATA_EXPORT,
        ReminderRule.Category.ADHOC,
        ReminderRule.Category.REPLY,
        ReminderRule.Category.RECALL,
    }
)


# Categories that only make sense before the visit: never sent once it has started.
BEFORE_VISIT_CATEGORIES = frozenset(
    {
        ReminderRule.Category.CONSULTATION_PREP,
        ReminderRule.Category.PRE_CARE,
        ReminderRule.Category.DAY_BEFORE,
        ReminderRule.Category.HEALTH_RECHECK,
    }
)


# Categories that also go by email, as well as by SMS, to a client who gave an address and
# agreed to email: the booking confirmation and the aftercare text carrying the care-page link.
EMAIL_ALSO_CATEGORIES = frozenset(
    {ReminderRule.Category.CONFIRMATION, ReminderRule.Category.AFTERCARE}
)

# Care messages that go by email instead when their SMS failed permanently (or the client opted
# out of SMS only). Not: verification codes and data-copy links (they prove the phone), texts
# that ask for an SMS reply (re-check, rating), the rebook nudge and staff replies.
EMAIL_FALLBACK_CATEGORIES = frozenset(
    {
        ReminderRule.Category.CONFIRMATION,
        ReminderRule.Category.CONSULTATION_PREP,
        ReminderRule.Category.PRE_CARE,
        ReminderRule.Category.DAY_BEFORE,
        ReminderRule.Category.AFTERCARE,
        ReminderRule.Category.DOWNTIME_CHECK,
        ReminderRule.Category.CANCELLATION,
        ReminderRule.Category.CLEARANCE,
        ReminderRule.Category.RECALL,
    }
)


class Message(models.Model):
    """The outbox: one row per SMS or email that should exist."""

    class Channel(models.TextChoices):
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        SKIPPED = "skipped", "Skipped"

    # Keys without an index of their own are the first column of one in Meta.indexes (the
    # cascades' WHERE appointment_id/client_id IN (…) use those), or, mostly empty, have a
    # partial one over the rows that have a value: every booking inserts about eight rows and
    # every claim rewrites a batch, and each index costs a write per row.
    appointment = models.ForeignKey(
        "bookings.Appointment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,
    )
    client = models.ForeignKey(
        "bookings.Client",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
        db_index=False,
        help_text="Empty only for a verification code to a phone that has no client yet",
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.ForeignKey(
        ReminderRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    category = models.CharField(max_length=20, choices=ReminderRule.Category.choices)
    channel = models.CharField(max_length=5, choices=Channel.choices, default=Channel.SMS)
    to = models.CharField(max_length=254, help_text="Phone number (E.164) or email address")
    subject = models.CharField(max_length=200, blank=True, help_text="Email only")
    body = models.TextField()
    due_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    status_reason = models.CharField(max_length=300, blank=True)
    # NULL until the provider accepts the message, unique among the rows that have one
    # (Meta.constraints): an empty string would not be.
    provider_sid = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    provider_status = models.CharField(max_length=20, blank=True)
    error_code = models.IntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    appointment_version = models.PositiveIntegerField(null=True, blank=True)
    retry_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="retries",
        db_index=False,
    )
    fallback_of = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="email_fallback",
        help_text="The SMS that could not reach the client, which this email replaces",
    )
    was_resent_after_reconciliation = models.BooleanField(default=False)
    recall_recipient = models.ForeignKey(
        "records.RecallRecipient",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        help_text="The recall notice this message carries",
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            # Re-planning the same appointment version is idempotent, per channel; a staff
            # retry is a new row that points at the failed one, and an email replacing a failed
            # text points at it (one per text: fallback_of is unique), so both are outside it.
            models.UniqueConstraint(
                fields=["appointment", "rule", "appointment_version", "channel"],
                condition=Q(rule__isnull=False, retry_of__isnull=True, fallback_of__isnull=True),
                name="message_unique_per_appointment_rule_version_channel",
            ),
            # Partial: a row has no SID until the provider accepts it, and NULLs are never
            # equal anyway. (A unique=True field would also add a LIKE index nothing uses.)
            models.UniqueConstraint(
                fields=["provider_sid"],
                condition=Q(provider_sid__isnull=False),
                name="message_provider_sid_unique",
            ),
        ]
        indexes = [
            # The dispatcher's claim query reads only due rows; a partial index keeps it as
            # fast with a million historical rows as with a thousand.
            # The claim's order (due_at, id): its LIMIT stops after a batch even when many
            # rows fall due at the same moment.
            models.Index(
                fields=["due_at", "id"], condition=Q(status="scheduled"), name="message_due_idx"
            ),
            models.Index(
                fields=["lease_expires_at"],
                condition=Q(status="sending"),
                name="message_sending_lease_idx",
            ),
            models.Index(fields=["client", "due_at"]),
            # "Has this client had a message yet?" and the daily cap count, per claimed row.
            models.Index(fields=["client", "status"]),
            models.Index(fields=["appointment", "status"]),
            # For the SET_NULL when a staff user, a retried row or a recall recipient goes, and
            # the workspace's "already retried?" and a recall's messages.
            models.Index(
                fields=["created_by"],
                condition=Q(created_by__isnull=False),
                name="message_created_by_idx",
            ),
            models.Index(
                fields=["retry_of"],
                condition=Q(retry_of__isnull=False),
                name="message_retry_of_idx",
            ),
            models.Index(
                fields=["recall_recipient"],
                condition=Q(recall_recipient__isnull=False),
                name="message_recall_recipient_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} ({self.channel}) to {self.to} due {self.due_at:%Y-%m-%d %H:%M} UTC ({self.status})"

    @property
    def is_email(self) -> bool:
        return self.channel == self.Channel.EMAIL

    @property
    def fallback_note(self) -> str:
        """For an email that replaces a text: why ("SMS failed: landline → sent by email")."""
        if self.fallback_of_id is None or self.fallback_of is None:
            return ""
        return f"SMS failed: {sms_unreachable_reason(self.fallback_of.error_code)} → sent by email"

    @property
    def is_unsent(self) -> bool:
        return self.status == self.Status.SCHEDULED

    @property
    def body_for_staff(self) -> str:
        """The text as staff may read it: a one-time code is the client's proof of their phone,
        so nobody at the clinic sees it (reception could otherwise book as the client); the link
        to a client's data copy is theirs alone too."""
        if self.category == ReminderRule.Category.VERIFICATION:
            return "Your verification code (hidden: only the client sees it)."
        if self.category == ReminderRule.Category.DATA_EXPORT:
            return "The link to your copy of your data (hidden: only the client sees it)."
        return self.body


class RedFlag(models.Model):
    """A phrase in a client's text that means "call them now" (DOMAIN.md, reply triage). Data a
    clinic edits: the defaults ship in a migration. ``pattern`` is a case-insensitive regular
    expression matched anywhere in the reply.

    A flag with ``needs_recent_treatment`` (plain "swelling", "pain") only counts within the
    recency window after a treatment, where it may be a reaction; the others count at any time.
    """

    class Category(models.TextChoices):
        INFECTION = "infection", "Signs of infection"
        ALLERGY = "allergy", "Allergic reaction"
        BLEEDING = "bleeding", "Bleeding that won't stop"
        BLISTERS = "blisters", "Blisters or open sores"
        PAIN = "pain", "Severe or increasing pain"
        VISION = "vision", "Change in vision"
        AFTER_TREATMENT = "after_treatment", "Worrying words soon after a treatment"

    category = models.CharField(max_length=20, choices=Category.choices)
    pattern = models.CharField(max_length=300, help_text="Regular expression, case-insensitive")
    needs_recent_treatment = models.BooleanField(
        default=False, help_text="Only urgent within 14 days after a treatment"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category", "id"]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.pattern}"

    def clean(self) -> None:
        super().clean()
        try:
            re.compile(self.pattern, re.IGNORECASE)
        except re.error as exc:
            raise ValidationError({"pattern": f"Not a valid pattern: {exc}"}) from None


class InboundMessage(models.Model):
    """An SMS a client sent us: keywords are acted on, everything else is surfaced to staff."""

    class Kind(models.TextChoices):
        STOP = "stop", "Opt-out"
        START = "start", "Opt-in"
        HELP = "help", "Help"
        CONFIRM = "confirm", "Confirmation"
        RECHECK = "recheck", "Health re-check answer"
        RATING = "rating", "Course rating"
        OTHER = "other", "Other"

    from_number = models.CharField(max_length=20)
    to_number = models.CharField(max_length=20, blank=True)
    body = models.TextField(blank=True)
    provider_sid = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(
        "bookings.Client",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_messages",
    )
    appointment = models.ForeignKey(
        "bookings.Appointment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_messages",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OTHER)
    is_urgent = models.BooleanField(default=False)
    red_flags = models.JSONField(
        default=list, blank=True, help_text="Red-flag categories the reply matched"
    )
    reply_body = models.TextField(blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["handled_at", "is_urgent", "created_at"])]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} from {self.from_number} at {self.created_at:%Y-%m-%d %H:%M}"
        )

    @property
    def red_flag_labels(self) -> list[str]:
        labels = dict(RedFlag.Category.choices)
        return [labels.get(category, category) for category in self.red_flags]


class StaffAlert(models.Model):
    """An email to a member of staff that something needs them now (an urgent aftercare reply,
    a client's health changed before a visit). An outbox like ``Message``: planned in the
    transaction that noticed it, sent by a task after commit, retried by a sweep until sent.

    The email names no client and carries no health detail or message text: it links to the
    workspace, where reading it is permission-checked and audited.
    """

    class Kind(models.TextChoices):
        URGENT_REPLY = "urgent_reply", "Urgent aftercare reply"
        HEALTH_CHANGED = "health_changed", "Health changed before a visit"
        SMS_BUDGET = "sms_budget", "Verification texts paused"
        DATA_REQUEST = "data_request", "A client asked for their data"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_alerts"
    )
    appointment = models.ForeignKey(
        "bookings.Appointment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="staff_alerts",
    )
    inbound = models.ForeignKey(
        InboundMessage,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="staff_alerts",
    )
    # One alert per recipient for one event, however often the event is announced.
    dedupe_key = models.CharField(max_length=120, unique=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["created_at"], name="staffalert_unsent", condition=Q(sent_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient} ({'sent' if self.sent_at else 'unsent'})"
