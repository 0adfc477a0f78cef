"""Busy tables: blocked time turned into *forbidden starts*, merged, ready for binary search.

For a service of duration ``D`` with buffers ``B`` (before) and ``A`` (after), a start ``s``
collides with a blocked interval ``[b0, b1)`` exactly when ``b0 - D - A < s < b1 + B``. Each
blocked interval becomes that open interval of forbidden starts once; a candidate start is then
one bisection in the merged table, and a walk can jump to the end of a forbidden stretch.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

from bookings.availability.loading import Calendar, Interval


class ForbiddenStarts:
    """Merged open intervals of start times (epoch seconds) that would collide."""

    __slots__ = ("highs", "lows")

    def __init__(self, lows: list[float], highs: list[float]):
        self.lows = lows
        self.highs = highs

    @classmethod
    def from_intervals(cls, intervals: list[Interval]) -> ForbiddenStarts:
        """Merge ``intervals`` (sorted in place)."""
        intervals.sort()
        lows: list[float] = []
        highs: list[float] = []
        high_so_far = None
        for low, high in intervals:
            # Open intervals: two that only touch leave their shared end point allowed.
            if high_so_far is not None and low < high_so_far:
                if high > high_so_far:
                    highs[-1] = high_so_far = high
            else:
                lows.append(low)
                highs.append(high)
                high_so_far = high
        return cls(lows, highs)

    @classmethod
    def intersection(cls, tables: list[ForbiddenStarts]) -> ForbiddenStarts:
        """Starts forbidden in every one of ``tables``."""
        lows, highs = tables[0].lows, tables[0].highs
        for table in tables[1:]:
            merged_lows, merged_highs = [], []
            i = j = 0
            while i < len(lows) and j < len(table.lows):
                low, high = max(lows[i], table.lows[j]), min(highs[i], table.highs[j])
                if low < high:
                    merged_lows.append(low)
                    merged_highs.append(high)
                if highs[i] < table.highs[j]:
                    i += 1
                else:
                    j += 1
            lows, highs = merged_lows, merged_highs
        return cls(lows, highs)

    def union(self, other: ForbiddenStarts) -> ForbiddenStarts:
        """Starts forbidden in either table."""
        # Both tables are already sorted and merged: one merge pass, without the tuples and
        # the sort of from_intervals (the walk takes this union once per practitioner).
        self_lows, self_highs, other_lows, other_highs = (
            self.lows,
            self.highs,
            other.lows,
            other.highs,
        )
        self_count, other_count = len(self_lows), len(other_lows)
        lows: list[float] = []
        highs: list[float] = []
        i = j = 0
        while i < self_count or j < other_count:
            if j == other_count or (i < self_count and self_lows[i] <= other_lows[j]):
                low, high = self_lows[i], self_highs[i]
                i += 1
            else:
                low, high = other_lows[j], other_highs[j]
                j += 1
            # Open intervals, as in from_intervals: touching ones stay apart.
            if highs and low < highs[-1]:
                if high > highs[-1]:
                    highs[-1] = high
            else:
                lows.append(low)
                highs.append(high)
        return ForbiddenStarts(lows, highs)

    def blocked_until(self, start: float) -> float | None:
        """The end of the forbidden stretch containing ``start`` (None when it is allowed)."""
        index = bisect_left(self.lows, start) - 1
        if index >= 0 and start < self.highs[index]:
            return self.highs[index]
        return None

    def forbids(self, start: float) -> bool:
        return self.blocked_until(start) is not None


@dataclass(frozen=True)
class BusyTables:
    by_practitioner: dict[int, ForbiddenStarts]
    by_room: dict[int, ForbiddenStarts]
    # Starts at which every suitable room is busy (None when the service needs no room): one
    # search instead of one per room; which rooms are free is worked out per slot, later.
    every_room: ForbiddenStarts | None

    def free_rooms(self, start: float) -> tuple[int, ...]:
        return tuple(room for room, table in self.by_room.items() if not table.forbids(start))


def busy_tables(*, calendar: Calendar, length: float, before: float, after: float) -> BusyTables:
    """Forbidden-start tables for a visit of ``length`` seconds with buffers ``before`` and
    ``after``, per practitioner and per room; closures count for everyone and every room. The
    asking client's own visits forbid, for every practitioner, the starts of a visit that would
    overlap them (buffers excluded, as the booking service checks)."""
    reach_back, reach_on = length + after, before
    closures = [(start - reach_back, end + reach_on) for start, end in calendar.closures]
    client_busy = [(start - length, end) for start, end in calendar.client_busy]

    def forbidden(blocks: list[Interval], also: list[Interval]) -> ForbiddenStarts:
        return ForbiddenStarts.from_intervals(
            [(start - reach_back, end + reach_on) for start, end in blocks] + also
        )

    by_room = {
        room: forbidden(calendar.busy_by_room.get(room, []), closures) for room in calendar.room_ids
    }
    with_client = closures + client_busy
    return BusyTables(
        by_practitioner={
            practitioner: forbidden(
                calendar.busy_by_practitioner.get(practitioner, []), with_client
            )
            for practitioner in calendar.practitioner_ids
        },
        by_room=by_room,
        every_room=ForbiddenStarts.intersection(list(by_room.values())) if by_room else None,
    )
