"""Epoch seconds as the clinic's local dates and ISO 8601 times, without a datetime per slot.

A month of availability is thousands of starts; converting each through ``datetime`` and
``ZoneInfo`` cost more than finding them. On a day whose UTC offset does not change, local time
is epoch + offset, so the text is arithmetic and a few cached strings; days with a clock change
go through ``datetime`` as usual.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bookings.availability.walk import DAY, EPOCH_ORDINAL, steady_offsets


def _offset_text(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


class LocalClock:
    """Local dates and ISO texts for epochs from ``start_date`` to ``end_date`` (plus a day
    either side) in ``zone``; the text is what ``datetime.isoformat()`` gives."""

    def __init__(self, *, zone: ZoneInfo, start_date: date, end_date: date):
        self.zone = zone
        first, last = start_date - timedelta(days=1), end_date + timedelta(days=1)
        offsets = steady_offsets(start_date=first, end_date=last, zone=zone)
        self._ordinals = sorted(offsets)
        # Where each local day begins, as epoch seconds (a change day's midnight included).
        self._day_starts = [
            datetime.combine(date.fromordinal(ordinal), time.min, tzinfo=zone).timestamp()
            for ordinal in self._ordinals
        ]
        self._offsets = [offsets[ordinal] for ordinal in self._ordinals]
        self._suffix = [None if o is None else _offset_text(o) for o in self._offsets]
        self._date_text = [date.fromordinal(ordinal).isoformat() for ordinal in self._ordinals]

    def local(self, epoch: float) -> tuple[int, str]:
        """(local date ordinal, ISO 8601 local time with offset) of an epoch in the range."""
        index = bisect_right(self._day_starts, epoch) - 1
        if not 0 <= index < len(self._ordinals):
            raise ValueError("epoch outside the clock's dates")
        offset = self._offsets[index]
        if offset is None or epoch != int(epoch):
            moment = datetime.fromtimestamp(epoch, tz=UTC).astimezone(self.zone)
            return moment.toordinal(), moment.isoformat()
        ordinal = self._ordinals[index]
        seconds = int(epoch) + offset - (ordinal - EPOCH_ORDINAL) * DAY
        hours, rest = divmod(seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        return (
            ordinal,
            f"{self._date_text[index]}T{hours:02d}:{minutes:02d}:{seconds:02d}{self._suffix[index]}",
        )

    def visits(self, starts: list[float], length: float) -> list[tuple[int, str, str]]:
        """(local date ordinal, start text, end text) of visits of ``length`` seconds at
        ``starts`` (ascending): ``local`` for a whole answer, walking the days in step."""
        day_starts, offsets, ordinals = self._day_starts, self._offsets, self._ordinals
        dates, suffixes = self._date_text, self._suffix
        last = len(day_starts) - 1
        answer = []
        index = 0

        def text(epoch: float, index: int) -> str:
            offset = offsets[index]
            if offset is None or epoch != int(epoch):
                return datetime.fromtimestamp(epoch, tz=UTC).astimezone(self.zone).isoformat()
            seconds = int(epoch) + offset - (ordinals[index] - EPOCH_ORDINAL) * DAY
            hours, rest = divmod(seconds, 3600)
            return f"{dates[index]}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}{suffixes[index]}"

        for start in starts:
            while index < last and day_starts[index + 1] <= start:
                index += 1
            if offsets[index] is None:  # a clock-change day: datetime does it all
                ordinal, start_text = self.local(start)
                answer.append((ordinal, start_text, self.local(start + length)[1]))
                continue
            end = start + length
            end_index = index
            while end_index < last and day_starts[end_index + 1] <= end:
                end_index += 1
            answer.append((ordinals[index], text(start, index), text(end, end_index)))
        return answer
