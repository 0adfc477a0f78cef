"""Waitlist entries, the freed times they may be offered, and the offers themselves.

The database holds what it can: one live offer per client (a partial unique index), one offer
per position in a freed time's sequence, one freed time per event that freed it. The limit of
offers per freed time is checked by ``waitlist.services.offers`` under the freed time's row lock.
"""

from __future__ import annotations

import secrets
from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinic.models import Location, Practitioner, Service


def _entry_token() -> str:
    return secrets.token_urlsafe(12)


class PartOfDay(models.TextChoices):
    """Parts of a local day a client may ask for (start times: before 12:00, 12:00–17:00,
    from 17:00)."""

    MORNING = "morning", "Morning"
    AFTERNOON = "afternoon", "Afternoon"
    EVENING = "evening", "Evening"

    @classmethod
    def of(cls, moment: time) -> PartOfDay:
        if moment < time(12):
            return cls.MORNING
        if moment < time(17):
            return cls.AFTERNOON
        return cls.EVENING


class WaitlistSettings(models.Model):
    """A location's waitlist limits (DOMAIN.md "Waitlist (defaults)"). A location without a row
    uses the defaults below."""

    location = models.OneToOneField(
        Location, on_delete=models.CASCADE, related_name="waitlist_settings"
    )
    is_enabled = models.BooleanField(default=True)
    hold_minutes = models.PositiveSmallIntegerField(
        default=15, help_text="How long an offered time is held for the client"
    )
    max_offers_per_freed_time = models.PositiveSmallIntegerField(default=3)
    min_notice_minutes = models.PositiveIntegerField(
        default=120, help_text="No offers for a time starting sooner than this"
    )
    max_offers_per_day = models.PositiveIntegerField(
        default=20, help_text="Offers a day at this location (local day)"
    )
    course_sessions_first = models.BooleanField(
        default=False,
        help_text="Offer to clients whose course is under way before those who joined earlier",
    )

    class Meta:
        verbose_name_plural = "waitlist settings"

    def __str__(self) -> str:
        return f"Waitlist settings for {self.location}"


class WaitlistEntry(models.Model):
    """A client waiting for a service at a location, on some dates and parts of day."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offer sent"
        BOOKED = "booked", "Booked from the waitlist"
        LEFT = "left", "Left the waitlist"
        EXPIRED = "expired", "Expired"

    class Channel(models.TextChoices):
        ONLINE = "online", "Booking site"
        API = "api", "API"
        STAFF = "staff", "Staff"

    client = models.ForeignKey(
        "bookings.Client", on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(
        Practitioner, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    expires_on = models.DateField(help_text="The last local date the client wants to be offered")
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)
    token = models.CharField(max_length=32, unique=True, default=_entry_token)
    booked_appointment = models.ForeignKey(
        "bookings.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["joined_at", "id"]
        verbose_name_plural = "waitlist entries"
        indexes = [models.Index(fields=["location", "status", "joined_at"])]

    def __str__(self) -> str:
        return f"{self.client} waiting for {self.service} ({self.status})"


class WaitlistWindow(models.Model):
    """One local date and part of day an entry would take."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="windows")
    on = models.DateField()
    part = models.CharField(max_length=10, choices=PartOfDay.choices)

    class Meta:
        ordering = ["on", "part"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "on", "part"], name="waitlist_window_unique")
        ]
        # Matching a freed time asks "who waits for this date and part of day?"
        indexes = [models.Index(fields=["on", "part"])]

    def __str__(self) -> str:
        return f"{self.on} {self.part}"


class FreedTime(models.Model):
    """A time that became free (a cancellation, a move, a no-show, a lapsed hold, a released
    tentative treatment, hours added). Offered in sequence to eligible waiting clients."""

    class Source(models.TextChoices):
        CANCELLED = "cancelled", "Cancellation"
        RESCHEDULED = "rescheduled", "Moved to another time"
        NO_SHOW = "no_show", "No-show"
        HOLD_LAPSED = "hold_lapsed", "Hold lapsed"
        RELEASED = "released", "Tentative treatment released"
        HOURS_ADDED = "hours_added", "Practitioner's hours added"

    class Status(models.TextChoices):
        OPEN = "open", "Looking for a client"
        OFFERING = "offering", "Offered"
        CLAIMED = "claimed", "Claimed"
        EXHAUSTED = "exhausted", "No (more) eligible clients"
        TOO_LATE = "too_late", "Too close to the start"
        TAKEN = "taken", "Booked by someone else"

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="+")
    start_at = models.DateTimeField()
    source = models.CharField(max_length=12, choices=Source.choices)
    source_appointment = models.ForeignKey(
        "bookings.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What freed it, once: "appointment:<id>:<start iso>" or "hours:<practitioner>:<start iso>".
    source_key = models.CharField(max_length=120, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    status_reason = models.CharField(max_length=200, blank=True)
    hold = models.ForeignKey(
        "bookings.Appointment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The hold that keeps the time for the client currently offered it",
    )
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When to look for a client again (after quiet hours)"
    )
    claimed_appointment = models.ForeignKey(
        "bookings.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recovered_minor = models.PositiveIntegerField(
        default=0, help_text="Price of the booking made from it, in minor units"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="open"),
                name="freedtime_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Freed {self.start_at:%Y-%m-%d %H:%M} UTC with {self.practitioner} ({self.status})"


class WaitlistOffer(models.Model):
    """One offer of a freed time to one entry, held for ``hold_minutes``."""

    class Status(models.TextChoices):
        OFFERED = "offered", "Offered"
        CLAIMED = "claimed", "Claimed"
        EXPIRED = "expired", "Expired"
        DECLINED = "declined", "Declined"
        SUPERSEDED = "superseded", "Withdrawn (the time went elsewhere)"

    freed_time = models.ForeignKey(FreedTime, on_delete=models.CASCADE, related_name="offers")
    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    client = models.ForeignKey("bookings.Client", on_delete=models.CASCADE, related_name="+")
    sequence = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OFFERED)
    hold = models.ForeignKey(
        "bookings.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.ForeignKey(
        "reminders.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    appointment = models.ForeignKey(
        "bookings.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    offered_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    # The client claimed it and was sent to a step first (the deposit): the hold is theirs
    # until it is paid for or runs out, and is never handed to the next client.
    checkout_started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["freed_time", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["freed_time", "sequence"], name="waitlist_offer_sequence_unique"
            ),
            models.UniqueConstraint(
                fields=["freed_time", "entry"], name="waitlist_offer_once_per_entry"
            ),
            # At most one live offer per client, whatever the freed time.
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(status="offered"),
                name="waitlist_one_live_offer_per_client",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(status="offered"), name="waitlistoffer_live_idx"
            ),
            models.Index(fields=["offered_at"]),
        ]

    def __str__(self) -> str:
        return f"Offer {self.sequence} of {self.freed_time_id} to {self.client_id} ({self.status})"
