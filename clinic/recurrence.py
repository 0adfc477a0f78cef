"""Repeating time off: "every Monday", "25 December every year".

A repeating ``TimeOff`` row is its first occurrence plus a rule. Later occurrences keep the
first one's wall-clock times in the location's time zone (a 09:00–17:00 Monday closure stays
09:00–17:00 across the clock change), shifted by whole weeks or whole years, and stop after
``repeat_until`` (a local date, inclusive). A yearly rule first set on 29 February only falls
in leap years.

Expansion is for one asked window only, so a closure set "every Monday" for ever costs a
week's search a single occurrence, not years of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

NEVER = ""
WEEKLY = "weekly"
YEARLY = "yearly"
WEEK = timedelta(days=7)


def _aware(wall: datetime, zone: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=zone)


def occurrences(
    *,
    start_at: datetime,
    end_at: datetime,
    repeats: str,
    repeat_until: date | None,
    zone: ZoneInfo,
    window_start_at: datetime,
    window_end_at: datetime,
) -> Iterator[tuple[datetime, datetime]]:
    """The occurrences of one (possibly repeating) block that overlap
    ``window_start_at..window_end_at``, as aware datetimes in ``zone``, in order."""
    if not repeats:
        if start_at < window_end_at and end_at > window_start_at:
            yield start_at.astimezone(zone), end_at.astimezone(zone)
        return
    first_start = start_at.astimezone(zone).replace(tzinfo=None)
    first_end = end_at.astimezone(zone).replace(tzinfo=None)
    span = first_end - first_start
    # Wall clocks a day either side of the window cover any UTC offset.
    earliest = window_start_at.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    latest = window_end_at.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    if repeats == WEEKLY:
        skip = max(0, (earliest - first_end) // WEEK)
        walls: Iterator[datetime] = (
            first_start + WEEK * step
            for step in range(skip, skip + (latest - earliest) // WEEK + 3)
        )
    elif repeats == YEARLY:
        years = range(max(first_start.year, earliest.year - 1), latest.year + 1)
        walls = (wall for wall in (_same_day_in(first_start, year) for year in years) if wall)
    else:
        raise ValueError(f"unknown repetition {repeats!r}")
    for wall_start in walls:
        if repeat_until is not None and wall_start.date() > repeat_until:
            return
        occurrence_start = _aware(wall_start, zone)
        occurrence_end = _aware(wall_start + span, zone)
        # In UTC: aware datetimes sharing a tzinfo compare as wall clocks.
        if occurrence_start.astimezone(UTC) < window_end_at.astimezone(
            UTC
        ) and occurrence_end.astimezone(UTC) > window_start_at.astimezone(UTC):
            yield occurrence_start, occurrence_end


def _same_day_in(wall: datetime, year: int) -> datetime | None:
    try:
        return wall.replace(year=year)
    except ValueError:  # 29 February in a common year
        return None
