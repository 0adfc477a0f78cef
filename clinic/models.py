"""The clinic catalogue: where, who, with what, and when they work."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, time, timedelta
from decimal import Decimal

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from clinic import recurrence


def phone_to_e164(raw: str, *, region: str) -> str:
    """``raw`` (national or international format) as E.164; ValueError saying why not."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValueError(
            "That doesn't look like a phone number. Use digits, e.g. 020 7946 0000."
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("That isn't a valid phone number for its country.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


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
    opening_time = models.TimeField(
        default=time(9),
        help_text="Front desk opens (local time), every day until weekly hours are set",
    )
    closing_time = models.TimeField(
        default=time(19),
        help_text="Front desk closes (local time), every day until weekly hours are set",
    )
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

    def clean(self) -> None:
        """Phone numbers are stored in E.164, read in this location's country; the front desk
        closes after it opens; the emergency number is a short number. Shared by the admin
        (``full_clean``) and the settings pages."""
        errors: dict[str, str] = {}
        for name in ("phone", "urgent_phone"):
            raw = getattr(self, name).strip()
            if not raw:
                setattr(self, name, "")
                continue
            try:
                setattr(self, name, phone_to_e164(raw, region=self.country or "GB"))
            except ValueError as problem:
                errors[name] = str(problem)
        sender = self.sms_sender_name.strip()
        if sender and not re.fullmatch(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}", sender):
            errors["sms_sender_name"] = (
                "Use up to 11 letters, digits and spaces, with at least one letter."
            )
        if not re.fullmatch(r"[0-9]{2,6}", self.emergency_number.strip()):
            errors["emergency_number"] = "Give the emergency number as digits, e.g. 999 or 112."
        opening, closing = self.opening_time, self.closing_time
        if isinstance(opening, time) and isinstance(closing, time) and opening >= closing:
            errors["closing_time"] = "The front desk must close after it opens."
        if errors:
            raise ValidationError(errors)

    def desk_week(self) -> dict[int, tuple[time, time] | None]:
        """The front desk's hours per weekday (0 = Monday; None = closed). A location whose
        weekly hours were never set keeps ``opening_time``–``closing_time`` every day."""
        rows = list(self.opening_hours.all())
        if not rows:
            return dict.fromkeys(range(7), (self.opening_time, self.closing_time))
        week: dict[int, tuple[time, time] | None] = dict.fromkeys(range(7))
        for row in rows:
            if row.opens_at is not None and row.closes_at is not None:
                week[row.weekday] = (row.opens_at, row.closes_at)
        return week

    def desk_hours_on(self, day: date) -> tuple[time, time] | None:
        """When the front desk is open on ``day`` (local), or None when it is closed."""
        return self.desk_week()[day.weekday()]

    @property
    def sms_country_codes(self) -> frozenset[str]:
        codes = {code.strip() for code in self.sms_countries.split(",") if code.strip()}
        return frozenset(codes or {self.country})


class OpeningHours(models.Model):
    """The front desk's hours on one weekday (both times empty: closed that day). Once a
    location has these rows, they replace its single opening and closing time."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(
        choices=[
            (0, "Monday"),
            (1, "Tuesday"),
            (2, "Wednesday"),
            (3, "Thursday"),
            (4, "Friday"),
            (5, "Saturday"),
            (6, "Sunday"),
        ]
    )
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["location", "weekday"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.UniqueConstraint(
                fields=["location", "weekday"], name="opening_hours_one_row_per_weekday"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="opening_hours_weekday_range"
            ),
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True, closes_at__isnull=True)
                | Q(opens_at__lt=models.F("closes_at")),
                name="opening_hours_open_before_close_or_closed",
            ),
        ]

    def __str__(self) -> str:
        day = self.get_weekday_display()
        if self.opens_at is None or self.closes_at is None:
            return f"{day}: closed"
        return f"{day} {self.opens_at:%H:%M}–{self.closes_at:%H:%M}"

    def clean(self) -> None:
        if (self.opens_at is None) != (self.closes_at is None):
            raise ValidationError({"closes_at": "Give both times, or neither for a closed day."})
        if self.opens_at and self.closes_at and self.opens_at >= self.closes_at:
            raise ValidationError({"closes_at": "The desk must close after it opens."})


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

    def clean(self) -> None:
        """Rules a service must meet wherever it is edited (admin and settings pages)."""
        errors: dict[str, str] = {}
        if self.duration_minutes is not None and self.duration_minutes > 8 * 60:
            errors["duration_minutes"] = "A visit can last at most 8 hours."
        for name in ("buffer_before_minutes", "buffer_after_minutes"):
            value = getattr(self, name)
            if value is not None and value > 4 * 60:
                errors[name] = "Keep a buffer under 4 hours."
        if self.price is not None and self.price < 0:
            errors["price"] = "The price cannot be negative."
        if self.kind == self.Kind.CONSULTATION and self.requires_consultation:
            errors["requires_consultation"] = "A consultation cannot require a consultation."
        if self.course_size is not None and not 1 <= self.course_size <= 20:
            errors["course_size"] = "A course has 1 to 20 sessions."
        if self.course_size == 1 and self.min_interval_days:
            errors["min_interval_days"] = (
                "Only a course (more than one session) has a gap between sessions."
            )
        if self.horizon_days is not None and not 1 <= self.horizon_days <= 730:
            errors["horizon_days"] = "Clients can book from 1 to 730 days ahead."
        if self.min_lead_minutes is not None and self.min_lead_minutes > 60 * 24 * 30:
            errors["min_lead_minutes"] = "Keep the notice under 30 days."
        if self.slot_step_minutes is not None and self.slot_step_minutes > 240:
            errors["slot_step_minutes"] = "Offer start times at least every 4 hours."
        if errors:
            raise ValidationError(errors)


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

    def overlaps(self, other: WorkingHours) -> bool:
        """Both rows can apply on one day and their times overlap."""
        if self.weekday != other.weekday:
            return False
        if not (self.start_time < other.end_time and other.start_time < self.end_time):
            return False
        starts_before_other_ends = (
            self.valid_from is None
            or other.valid_until is None
            or self.valid_from <= other.valid_until
        )
        other_starts_before_this_ends = (
            other.valid_from is None
            or self.valid_until is None
            or other.valid_from <= self.valid_until
        )
        return starts_before_other_ends and other_starts_before_this_ends

    def clean(self) -> None:
        """A practitioner is in one place at a time: hours on one weekday never overlap
        hours of theirs (at any location) that can apply on the same dates."""
        errors: dict[str, str] = {}
        if self.start_time and self.end_time and self.start_time >= self.end_time:
            errors["end_time"] = "The end must be after the start."
        if self.valid_from and self.valid_until and self.valid_from > self.valid_until:
            errors["valid_until"] = "The last day must be on or after the first."
        if not errors and self.practitioner_id is not None:
            others = WorkingHours.objects.filter(
                practitioner_id=self.practitioner_id, weekday=self.weekday
            ).exclude(pk=self.pk)
            clash = next((other for other in others if self.overlaps(other)), None)
            if clash is not None:
                errors["start_time"] = f"These hours overlap {clash} at {clash.location}."
        if errors:
            raise ValidationError(errors)


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

    class Repeats(models.TextChoices):
        NEVER = recurrence.NEVER, "Once"
        WEEKLY = recurrence.WEEKLY, "Every week"
        YEARLY = recurrence.YEARLY, "Every year"

    start_at = models.DateTimeField(help_text="Start (of the first time, when it repeats)")
    end_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    repeats = models.CharField(
        max_length=10,
        choices=Repeats.choices,
        default=Repeats.NEVER,
        blank=True,
        help_text="Repeat at the same local times every week or every year "
        "(e.g. closed every Monday, closed on 25 December)",
    )
    repeat_until = models.DateField(
        null=True, blank=True, help_text="Last day it repeats (empty: for ever)"
    )

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
            models.CheckConstraint(
                condition=Q(repeats="") | Q(repeats="weekly") | Q(repeats="yearly"),
                name="time_off_repeats_known",
            ),
        ]
        indexes = [models.Index(fields=["start_at", "end_at"])]

    def __str__(self) -> str:
        target = self.practitioner or self.room or self.location
        return f"{target}: {self.start_at:%Y-%m-%d %H:%M} → {self.end_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        """The rules every interface shares (the admin through ``full_clean``, the settings
        pages through ``bookings.services.clinic_settings``)."""
        errors: dict[str, str] = {}
        if not (self.practitioner_id or self.room_id or self.location_id):
            errors["location"] = "Say who or what is away: a practitioner, a room or the clinic."
        if self.start_at and self.end_at and self.start_at >= self.end_at:
            errors["end_at"] = "The end must be after the start."
        if self.repeats and self.start_at and self.end_at:
            period = (
                timedelta(days=7) if self.repeats == self.Repeats.WEEKLY else timedelta(days=365)
            )
            if self.end_at - self.start_at > period:
                errors["end_at"] = "A repeating block must be shorter than how often it repeats."
            if self.repeat_until and self.repeat_until < self.start_at.date():
                errors["repeat_until"] = "The last day it repeats must be after the first."
        if not self.repeats and self.repeat_until:
            errors["repeat_until"] = "Only a repeating block has a last day it repeats."
        if errors:
            raise ValidationError(errors)


class SettingsChange(models.Model):
    """Who changed a clinic setting, when, and from what to what (one row per save): the
    audit trail of the settings pages and the admin alike."""

    entity = models.CharField(max_length=40, help_text="location, service, working_hours, …")
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    summary = models.CharField(max_length=200, help_text="What was changed, for people")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(max_length=40, help_text="staff:<username>")
    changes = models.JSONField(default=dict, help_text="{field: [before, after]}")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["entity", "object_id"])]

    def __str__(self) -> str:
        return f"{self.entity} {self.object_id}: {self.summary} by {self.actor_label}"
