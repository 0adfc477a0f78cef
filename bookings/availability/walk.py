"""Walking the grid: which wall-clock starts of each shift are free, for whom.

Candidate starts are wall-clock times in the location's zone on a grid from local midnight
(09:00, 09:15, …), so 09:00 stays 09:00 across DST changes. On a day whose UTC offset does not
change (all but two a year) a wall-clock step is a plain number of seconds, so the walk is
arithmetic on epoch seconds and jumps over forbidden stretches; on a day with a clock change
every wall-clock start is localised on its own.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

from bookings.availability.busy import BusyTables, ForbiddenStarts
from bookings.availability.loading import Shift

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
DAY = 86400


def localize(day: date, wall: time, zone: ZoneInfo) -> datetime | None:
    """The aware datetime for a wall-clock time on a day, or None if that time does not exist
    (skipped by a spring-forward change). Ambiguous times (autumn) take the first occurrence."""
    local = datetime.combine(day, wall, tzinfo=zone)
    round_trip = local.astimezone(UTC).astimezone(zone)
    if (round_trip.hour, round_trip.minute) != (wall.hour, wall.minute):
        return None
    return local


# Every search asks for the same few windows (this month, from today), and a zone's rules do
# not change while the process runs: two datetimes and two utcoffset() calls a day were a tenth
# of a one-practitioner month's CPU. Read-only, since callers share the answer.
@lru_cache(maxsize=256)
def steady_offsets(*, start_date: date, end_date: date, zone: ZoneInfo) -> Mapping[int, int | None]:
    """Per day (ordinal): its UTC offset in seconds, or None when the clocks change that day."""
    offsets: dict[int, int | None] = {}
    day = start_date
    while day <= end_date:
        first = datetime.combine(day, time.min, tzinfo=zone).utcoffset()
        last = datetime.combine(day, time(23, 59, 59), tzinfo=zone).utcoffset()
        steady = first is not None and first == last
        offsets[day.toordinal()] = (
            int(first.total_seconds()) if steady and first is not None else None
        )
        day += timedelta(days=1)
    return MappingProxyType(offsets)


def _wall_epoch(day: date, seconds: int, zone: ZoneInfo) -> float:
    """Epoch of a wall-clock time; a time skipped by the clocks counts with the old offset."""
    return datetime.combine(
        day, time(seconds // 3600, seconds // 60 % 60, seconds % 60), tzinfo=zone
    ).timestamp()


def walk(
    *,
    shifts_by_practitioner: dict[int, list[Shift]],
    tables: BusyTables,
    start_date: date,
    end_date: date,
    zone: ZoneInfo,
    earliest: float,
    length: float,
    step: int,
) -> dict[float, list[int]]:
    """Free starts (epoch seconds) of a visit of ``length`` seconds on a ``step``-second grid,
    not before ``earliest``, each with the practitioners (ascending) who could take it."""
    offsets = steady_offsets(start_date=start_date, end_date=end_date, zone=zone)
    every_room = tables.every_room
    practitioners_at: dict[float, list[int]] = {}
    offered_at = practitioners_at.get

    def offer(practitioner_id: int, start: float) -> None:
        offered = practitioners_at.get(start)
        if offered is None:
            practitioners_at[start] = [practitioner_id]
        elif offered[-1] != practitioner_id:  # overlapping shifts of one practitioner
            offered.append(practitioner_id)

    for practitioner_id in sorted(shifts_by_practitioner):
        busy = tables.by_practitioner[practitioner_id]
        if every_room is not None:
            # A start is free for this practitioner when they and some suitable room are.
            busy = busy.union(every_room)
        busy_lows, busy_highs = busy.lows, busy.highs
        stretches = len(busy_lows)
        by_weekday: dict[int, list[Shift]] = {}
        for shift in shifts_by_practitioner[practitioner_id]:
            by_weekday.setdefault(shift[0], []).append(shift)
        for ordinal, offset in offsets.items():
            day_shifts = by_weekday.get((ordinal + 6) % 7)  # date.weekday() from an ordinal
            if not day_shifts:
                continue
            for _, first_second, last_second, valid_from, valid_until in day_shifts:
                if (valid_from is not None and ordinal < valid_from) or (
                    valid_until is not None and ordinal > valid_until
                ):
                    continue
                first_second += -first_second % step
                if offset is None:
                    _walk_changing_day(
                        date.fromordinal(ordinal),
                        first_second,
                        last_second,
                        zone=zone,
                        practitioner_id=practitioner_id,
                        busy=busy,
                        earliest=earliest,
                        length=length,
                        step=step,
                        offer=offer,
                    )
                    continue
                midnight = (ordinal - EPOCH_ORDINAL) * DAY - offset
                start: float = midnight + first_second
                latest = midnight + last_second - length
                if start < earliest:
                    start += -((start - earliest) // step) * step
                # The hot loop of a month's search: one bisection per free stretch, not per
                # start (a forbidden stretch is open, so its low end is still free), and the
                # dict's get bound once (callgrind: 32.3 -> 30.7 million instructions for a
                # ten-practitioner month on SQLite).
                while start <= latest:
                    index = bisect_left(busy_lows, start) - 1
                    if index >= 0 and start < busy_highs[index]:
                        start += -((start - busy_highs[index]) // step) * step
                        continue
                    free_until = busy_lows[index + 1] if index + 1 < stretches else latest
                    if free_until > latest:
                        free_until = latest
                    while start <= free_until:
                        offered = offered_at(start)
                        if offered is None:
                            practitioners_at[start] = [practitioner_id]
                        elif offered[-1] != practitioner_id:
                            offered.append(practitioner_id)
                        start += step
    return practitioners_at


def _walk_changing_day(
    day: date,
    first_second: int,
    last_second: int,
    *,
    zone: ZoneInfo,
    practitioner_id: int,
    busy: ForbiddenStarts,
    earliest: float,
    length: float,
    step: int,
    offer,  # noqa: ANN001 - the walk's offer(practitioner_id, start)
) -> None:
    """A shift on a day with a clock change: localise every wall-clock start; skipped times do
    not exist and ambiguous ones take their first occurrence."""
    latest = _wall_epoch(day, last_second, zone) - length
    for seconds in range(first_second, DAY, step):
        local = localize(day, time(seconds // 3600, seconds // 60 % 60, seconds % 60), zone)
        if local is None:
            continue
        start = local.timestamp()
        if start > latest:
            break
        if start < earliest or busy.forbids(start):
            continue
        offer(practitioner_id, start)
