"""Quiet hours (settings.QUIET_HOURS): when a message that respects them may go out. Shared by
planning (is a catch-up still useful before the visit?) and the dispatcher (defer until then)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


def quiet_hours_end_after(*, moment: datetime, zone: ZoneInfo) -> datetime | None:
    """If ``moment`` falls in quiet hours (settings.QUIET_HOURS, local to ``zone``), the UTC
    time they end; else None. The wall-clock end is localised on its own date, so it is right
    on both sides of a DST change."""
    start, end = settings.QUIET_HOURS
    local = moment.astimezone(zone)
    wall = local.time()
    if start > end:  # wraps midnight, e.g. 21:00–08:00
        if wall >= start:
            end_date = local.date() + timedelta(days=1)
        elif wall < end:
            end_date = local.date()
        else:
            return None
    elif start <= wall < end:
        end_date = local.date()
    else:
        return None
    return datetime.combine(end_date, end, tzinfo=zone).astimezone(UTC)
