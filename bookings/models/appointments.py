from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from bookings.models.clients import Client
from clinic.models import Location, Practitioner, Room, Service


class Appointment(models.Model):
    """One booked (or held) visit. ``blocked_start_at``/``blocked_end_at`` include the service's
    buffers and are what the no-overlap constraints compare.

    No double booking is enforced by the database: on PostgreSQL by the exclusion constraints
    ``appointment_no_practitioner_overlap`` / ``appointment_no_room_overlap`` (migration 0002,
    btree_gist over tstzrange of the blocked interval, restricted to ACTIVE_STATUSES); on SQLite
    by the overlap check that ``bookings.services`` runs inside a ``BEGIN IMMEDIATE``
    transaction, which serialises writers.
    """

    class Status(models.TextChoices):
        HELD = "held", "Held"
        PENDING_CLEARANCE = "pending_clearance", "Pending clearance"
        BOOKED = "booked", "Booked"
        CONFIRMED = "confirmed", "Confirmed"
        ARRIVED = "arrived", "Arrived"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    class Channel(models.TextChoices):
        ONLINE = "online", "Online"
        STAFF = "staff", "Staff"
        API = "api", "API"

    # Client, practitioner, room and location have no index of their own: the composite
    # indexes in Meta lead with them, so they serve every lookup by the key alone (the
    # PROTECT checks on delete included), and each index is one more write per booking.
    # Empty only while a slot is held before the client has given their details.
    client = models.ForeignKey(
        Client,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
        db_index=False,
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="appointments", db_index=False
    )
    room = models.ForeignKey(
        Room,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="appointments",
        db_index=False,
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="appointments", db_index=False
    )
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    blocked_start_at = models.DateTimeField(help_text="start minus the service's buffer before")
    blocked_end_at = models.DateTimeField(help_text="end plus the service's buffer after")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.BOOKED)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    # Who asked for an online hold, for the per-address and per-browser hold budgets: the
    # address, and a keyed hash of the browser's session key (never the key itself).
    held_from_ip = models.GenericIPAddressField(null=True, blank=True)
    held_by_browser = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Increments on every reschedule")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.ONLINE)
    # A treatment held tentatively until this consultation is cleared (status pending_clearance).
    awaiting_consultation = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tentative_treatments",
    )
    cancellation_reason = models.CharField(max_length=300, blank=True)
    override_reason = models.TextField(
        blank=True,
        help_text="A manager's written reason for booking despite an eligibility refusal",
    )
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_at__lt=models.F("end_at")), name="appointment_start_before_end"
            ),
            models.CheckConstraint(
                condition=Q(blocked_start_at__lte=models.F("start_at"))
                & Q(blocked_end_at__gte=models.F("end_at")),
                name="appointment_blocked_covers_visit",
            ),
            models.CheckConstraint(
                condition=~Q(status="held") | Q(hold_expires_at__isnull=False),
                name="appointment_hold_has_expiry",
            ),
            models.CheckConstraint(
                # A hold that lapses before the client gave details is cancelled without one.
                condition=Q(status__in=["held", "cancelled"]) | Q(client__isnull=False),
                name="appointment_has_client_unless_held",
            ),
        ]
        indexes = [
            # free_slots reads a window of blocked_start_at per asked practitioner and room
            # (bookings.availability.loading): these bound its scan to their rows, whatever the
            # table's size. No index on blocked_start_at alone: PostgreSQL's generic plan for
            # the prepared statement chose it and read every practitioner's visits in the window.
            models.Index(fields=["practitioner", "blocked_start_at"]),
            models.Index(fields=["room", "blocked_start_at"]),
            models.Index(fields=["location", "start_at"]),
            models.Index(fields=["client", "start_at"]),
            models.Index(fields=["status", "hold_expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.service} for {self.client} at {self.start_at:%Y-%m-%d %H:%M} UTC ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def local_start(self) -> datetime:
        """The start as an aware datetime in the location's zone."""
        return self.start_at.astimezone(self.location.zone)

    @property
    def local_end(self) -> datetime:
        return self.end_at.astimezone(self.location.zone)


# Statuses that occupy time on a practitioner's and room's calendar.
ACTIVE_STATUSES = (
    Appointment.Status.HELD,
    Appointment.Status.PENDING_CLEARANCE,
    Appointment.Status.BOOKED,
    Appointment.Status.CONFIRMED,
    Appointment.Status.ARRIVED,
    Appointment.Status.COMPLETED,
)


class AppointmentEvent(models.Model):
    """Who changed an appointment, how and why: one row per transition, reschedule or override."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, help_text="transition, rescheduled, override, …")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(max_length=40, help_text="staff:<username>, client, system")
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.appointment_id}: {self.kind} {self.from_status}→{self.to_status} by {self.actor_label}"
