"""The clinic catalogue: where, who, with what, and when they work."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone name (e.g. Europe/London)")


class Location(models.Model):
    class PractitionersSee(models.TextChoices):
        OWN_CLIENTS = "own_clients", "Their own clients (anyone they have an appointment with)"
        WHOLE_CLINIC = "whole_clinic", "Every client of this location"

    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    address = models.TextField(blank=True)
    maps_url = models.URLField(
        blank=True, help_text="Link to the location on a map, shown to clients"
    )
    timezone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_timezone]
    )
    country = models.CharField(
        max_length=2,
        default="GB",
        validators=[RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166 two-letter country code")],
        help_text="Default region for phone numbers entered without a country code",
    )
    phone = models.CharField(max_length=32, blank=True, help_text="Clinic phone shown to clients")
    urgent_phone = models.CharField(
        max_length=32,
        blank=True,
        help_text="Out-of-hours number given to clients with urgent concerns",
    )
    emergency_number = models.CharField(
        max_length=8,
        default="999",
        help_text="Emergency services number given to clients with signs of a severe reaction "
        "(999 UK, 911 US, 112 EU)",
    )
    texts_name_treatments = models.BooleanField(
        default=False,
        help_text='Name treatments in texts (e.g. "you\'re cleared for micro-needling"). Off by '
        "default: lock screens are public",
    )
    email = models.EmailField(blank=True)
    sms_sender_name = models.CharField(
        max_length=11,
        blank=True,
        help_text="Alphanumeric sender ID where supported (max 11 characters)",
    )
    opening_time = models.TimeField(default="09:00", help_text="Front desk opens (local time)")
    closing_time = models.TimeField(default="19:00", help_text="Front desk closes (local time)")
    online_change_cutoff_hours = models.PositiveIntegerField(
        default=24, help_text="Clients can reschedule or cancel online until this many hours before"
    )
    cancellation_policy = models.TextField(
        blank=True,
        default=(
            "You can change or cancel online up to 24 hours before your appointment. "
            "After that, please call us."
        ),
    )
    brand_colour = models.CharField(
        max_length=7,
        default="#2f5d50",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use #rrggbb")],
    )
    logo_url = models.URLField(blank=True)
    sms_countries = models.CharField(
        max_length=200,
        blank=True,
        validators=[
            RegexValidator(
                r"^([A-Z]{2})(,[A-Z]{2})*$",
                "Use ISO 3166 two-letter country codes separated by commas, e.g. GB,IE",
            )
        ],
        help_text=(
            "Countries whose mobiles may be sent a verification code (comma separated). "
            "Empty: only this location's own country. Each code abroad is a paid text, and "
            "fraudsters request them to premium numbers."
        ),
    )
    online_upcoming_treatments_limit = models.PositiveIntegerField(
        default=2,
        help_text="Most upcoming online bookings one client may hold for one treatment",
    )
    online_upcoming_consultations_limit = models.PositiveIntegerField(
        default=1,
        help_text="Most upcoming online bookings one client may hold for one consultation",
    )
    practitioners_see = models.CharField(
        max_length=20,
        choices=PractitionersSee.choices,
        default=PractitionersSee.OWN_CLIENTS,
        help_text=(
            "Whose records practitioners working here may open: health data, timelines, "
            "consultations (reception and managers always see every client)"
        ),
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def sms_country_codes(self) -> frozenset[str]:
        codes = {code.strip() for code in self.sms_countries.split(",") if code.strip()}
        return frozenset(codes or {self.country})


class Room(models.Model):
    """A treatment room or device a service needs; holds one appointment at a time."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="rooms")
    name = models.CharField(max_length=80)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["location", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "name"], name="room_unique_name_per_location"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.location})"


class Service(models.Model):
    class Kind(models.TextChoices):
        CONSULTATION = "consultation", "Consultation"
        TREATMENT = "treatment", "Treatment"

    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TREATMENT)
    summary = models.CharField(
        max_length=200, blank=True, help_text="One line shown in the service list"
    )
    description = models.TextField(
        blank=True, help_text="What to expect; shown on the booking site"
    )
    duration_minutes = models.PositiveIntegerField(validators=[MinValueValidator(5)])
    buffer_before_minutes = models.PositiveIntegerField(default=0)
    buffer_after_minutes = models.PositiveIntegerField(default=0)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    deposit = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    requires_consultation = models.BooleanField(default=False)
    consultation_validity_days = models.PositiveIntegerField(
        default=180, help_text="For consultations: how long a clearance stays valid"
    )
    course_size = models.PositiveIntegerField(
        default=1, help_text="Sessions in a course (1 = single)"
    )
    min_interval_days = models.PositiveIntegerField(
        default=0, help_text="Minimum days between sessions of a course"
    )
    rooms = models.ManyToManyField(
        Room,
        blank=True,
        related_name="services",
        help_text="Any one of these rooms is needed; none = no room",
    )
    is_online_bookable = models.BooleanField(default=True)
    min_lead_minutes = models.PositiveIntegerField(
        default=120, help_text="Earliest booking: now + this"
    )
    horizon_days = models.PositiveIntegerField(default=90, help_text="Latest booking: today + this")
    slot_step_minutes = models.PositiveIntegerField(default=15, validators=[MinValueValidator(5)])
    display_order = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["display_order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="treatment") | Q(requires_consultation=False),
                name="service_consultation_never_requires_consultation",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def buffer_before(self) -> timedelta:
        return timedelta(minutes=self.buffer_before_minutes)

    @property
    def buffer_after(self) -> timedelta:
        return timedelta(minutes=self.buffer_after_minutes)

    @property
    def is_consultation(self) -> bool:
        return self.kind == self.Kind.CONSULTATION


class Practitioner(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="practitioner",
    )
    display_name = models.CharField(max_length=120)
    title = models.CharField(
        max_length=120, blank=True, help_text="e.g. Aesthetic nurse practitioner"
    )
    locations = models.ManyToManyField(Location, related_name="practitioners")
    services = models.ManyToManyField(Service, related_name="practitioners")
    calendar_colour = models.CharField(max_length=7, default="#5b8def")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class WorkingHours(models.Model):
    """A weekly pattern: this practitioner works here on this weekday between these local times,
    for dates in [valid_from, valid_until] (either end open)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.CASCADE, related_name="working_hours"
    )
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["practitioner", "weekday", "start_time"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(start_time__lt=models.F("end_time")),
                name="working_hours_start_before_end",
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="working_hours_weekday_range"
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_from__lte=models.F("valid_until")),
                name="working_hours_valid_range",
            ),
        ]
        indexes = [models.Index(fields=["location", "weekday"])]

    def __str__(self) -> str:
        return f"{self.practitioner} {self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class TimeOff(models.Model):
    """A one-off block (may span days): a practitioner's leave, a room's maintenance, or, with
    only a location set, a whole-clinic closure or holiday."""

    practitioner = models.ForeignKey(
        Practitioner, null=True, blank=True, on_delete=models.CASCADE, related_name="time_off"
    )
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.CASCADE, related_name="time_off"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="closures"
    )
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start_at"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(
                condition=Q(start_at__lt=models.F("end_at")), name="time_off_start_before_end"
            ),
            models.CheckConstraint(
                condition=Q(practitioner__isnull=False)
                | Q(room__isnull=False)
                | Q(location__isnull=False),
                name="time_off_has_target",
            ),
        ]
        indexes = [models.Index(fields=["start_at", "end_at"])]

    def __str__(self) -> str:
        target = self.practitioner or self.room or self.location
        return f"{target}: {self.start_at:%Y-%m-%d %H:%M} → {self.end_at:%Y-%m-%d %H:%M}"
