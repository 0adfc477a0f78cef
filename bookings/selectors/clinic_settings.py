"""Reads for the clinic settings pages: hours as weekly patterns, time off still to come, and
the settings audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from bookings.services.clinic_settings import MAX_RANGES_PER_DAY
from clinic.models import Location, Practitioner, SettingsChange, TimeOff, WorkingHours


@dataclass
class HoursDay:
    weekday: int
    name: str
    ranges: list[WorkingHours] = field(default_factory=list)

    @property
    def slots(self) -> list[tuple[int, WorkingHours | None]]:
        """The grid's range slots for this day: (index, row or None)."""
        return [
            (index, self.ranges[index] if index < len(self.ranges) else None)
            for index in range(MAX_RANGES_PER_DAY)
        ]


@dataclass
class HoursPattern:
    """The weekly hours of one practitioner at one location for one date range."""

    location: Location
    valid_from: date | None
    valid_until: date | None
    days: list[HoursDay]

    @property
    def is_current(self) -> bool:
        today = timezone.localdate()
        return (self.valid_from is None or self.valid_from <= today) and (
            self.valid_until is None or today <= self.valid_until
        )

    @property
    def has_ended(self) -> bool:
        return self.valid_until is not None and self.valid_until < timezone.localdate()


def empty_week() -> list[HoursDay]:
    return [HoursDay(weekday, name) for weekday, name in WorkingHours.Weekday.choices]


def hours_patterns(*, practitioner: Practitioner) -> list[HoursPattern]:
    """Every date-bounded weekly pattern of ``practitioner``, by location then start date."""
    patterns: dict[tuple[int, date | None, date | None], HoursPattern] = {}
    rows = WorkingHours.objects.filter(practitioner=practitioner).select_related("location")
    for row in rows.order_by("location__name", "weekday", "start_time"):
        key = (row.location_id, row.valid_from, row.valid_until)
        if key not in patterns:
            patterns[key] = HoursPattern(
                row.location, row.valid_from, row.valid_until, empty_week()
            )
        patterns[key].days[row.weekday].ranges.append(row)
    return sorted(
        patterns.values(),
        key=lambda pattern: (pattern.location.name, pattern.valid_from or date.min),
    )


def hours_pattern(
    *,
    practitioner: Practitioner,
    location: Location,
    valid_from: date | None,
    valid_until: date | None,
) -> HoursPattern:
    """One pattern (empty when there is none with these dates)."""
    pattern = HoursPattern(location, valid_from, valid_until, empty_week())
    rows = WorkingHours.objects.filter(
        practitioner=practitioner,
        location=location,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    for row in rows.order_by("weekday", "start_time"):
        pattern.days[row.weekday].ranges.append(row)
    return pattern


def time_off_to_come(
    *, practitioner: Practitioner | None = None, location: Location | None = None
) -> QuerySet[TimeOff]:
    """Time off that has not ended (a repeating block until its last day): a practitioner's,
    or with ``location`` only, the location's closures."""
    now = timezone.now()
    still_on = Q(end_at__gt=now) | (
        ~Q(repeats=TimeOff.Repeats.NEVER)
        & (Q(repeat_until__isnull=True) | Q(repeat_until__gte=now.date()))
    )
    blocks = TimeOff.objects.filter(still_on)
    if practitioner is not None:
        blocks = blocks.filter(practitioner=practitioner)
    else:
        blocks = blocks.filter(location=location, practitioner__isnull=True, room__isnull=True)
    return blocks.order_by("start_at")


def settings_changes(*, limit: int = 25) -> QuerySet[SettingsChange]:
    return SettingsChange.objects.select_related("actor")[:limit]
