"""Free slots: when can this service be booked at this location, and with whom?

``free_slots`` answers in three steps, each its own module:

1. ``loading``: the shifts, rooms, time off and appointments the question needs, in a fixed
   number of queries (three, whatever the window length or team size), as tuples of epoch
   seconds.
2. ``busy``: blocked time becomes merged tables of *forbidden starts* per practitioner and per
   room (a start collides with ``[b0, b1)`` exactly when ``b0 - D - A < s < b1 + B``).
3. ``walk``: the wall-clock grid of each shift, one bisection per free stretch, jumping over
   forbidden stretches.

Slots carry epoch seconds; their aware datetimes are made only when someone asks for them.
``answers`` keeps whole answers of the public API for a few seconds, retired by any change.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from bookings.availability.answers import cached_answer
from bookings.availability.busy import BusyTables, busy_tables
from bookings.availability.loading import calendar_load
from bookings.availability.local_time import LocalClock
from bookings.availability.walk import localize, walk
from clinic.models import Location, Practitioner, Service

__all__ = [
    "MAX_VISIT",
    "DaySlots",
    "LocalClock",
    "Slot",
    "cached_answer",
    "days_with_slots",
    "free_slots",
    "free_starts",
    "localize",
    "nearest_free_slots",
    "slot_at",
]

# No visit (with buffers) lasts longer than this; Service.duration_minutes is capped below it.
MAX_VISIT = timedelta(hours=24)


class Slot:
    """A bookable start: when (epoch seconds, shown in the location's zone), who could take it,
    and which suitable rooms are free then (empty when the service needs none)."""

    __slots__ = (
        "_end_at",
        "_room_ids",
        "_start_at",
        "_tables",
        "end_epoch",
        "practitioner_ids",
        "start_epoch",
        "zone",
    )

    def __init__(
        self,
        *,
        start_epoch: float,
        end_epoch: float,
        practitioner_ids: tuple[int, ...],
        zone: ZoneInfo,
        tables: BusyTables,
    ):
        self.start_epoch = start_epoch
        self.end_epoch = end_epoch
        self.practitioner_ids = practitioner_ids
        self.zone = zone
        self._tables = tables
        self._start_at: datetime | None = None
        self._end_at: datetime | None = None
        self._room_ids: tuple[int, ...] | None = None

    @property
    def start_at(self) -> datetime:
        """Aware, in the location's zone."""
        if self._start_at is None:
            # fromtimestamp(tz=ZoneInfo) is ~50x slower than converting from UTC.
            self._start_at = datetime.fromtimestamp(self.start_epoch, tz=UTC).astimezone(self.zone)
        return self._start_at

    @property
    def end_at(self) -> datetime:
        if self._end_at is None:
            self._end_at = datetime.fromtimestamp(self.end_epoch, tz=UTC).astimezone(self.zone)
        return self._end_at

    @property
    def room_ids(self) -> tuple[int, ...]:
        if self._room_ids is None:
            self._room_ids = self._tables.free_rooms(self.start_epoch)
        return self._room_ids

    def _key(self) -> tuple:
        return (self.start_epoch, self.end_epoch, self.practitioner_ids, self.room_ids)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Slot) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Slot(start_at={self.start_at.isoformat()}, practitioner_ids={self.practitioner_ids},"
            f" room_ids={self.room_ids})"
        )


class DaySlots:
    __slots__ = ("day", "slots")

    def __init__(self, *, day: date, slots: list[Slot]):
        self.day = day
        self.slots = slots

    @property
    def has_slots(self) -> bool:
        return bool(self.slots)


def free_slots(
    *,
    service: Service,
    location: Location,
    start_date: date,
    end_date: date,
    practitioner: Practitioner | None = None,
    now: datetime | None = None,
    ignore_appointment_id: int | None = None,
    enforce_booking_window: bool = True,
    include_appointments: bool = True,
    client_id: int | None = None,
) -> list[Slot]:
    """Bookable starts of ``service`` at ``location`` on local dates ``start_date..end_date``.

    A start is bookable when a practitioner who performs the service works at the location for
    the whole visit, neither they nor (if the service needs one) some suitable room has time
    off or an active appointment overlapping the visit plus buffers, and, with
    ``enforce_booking_window``, it lies between now + the service's lead time and its horizon.
    Expired holds never block. ``ignore_appointment_id`` lets a reschedule ignore its own slot;
    ``include_appointments=False`` answers "would this be a slot on an empty calendar?".
    With ``client_id`` (a client known to the asker), starts that would overlap that client's
    own active visits are left out too: the booking would be refused as ``client_busy``.
    """
    found = _search(
        service=service,
        location=location,
        start_date=start_date,
        end_date=end_date,
        practitioner=practitioner,
        now=now,
        ignore_appointment_id=ignore_appointment_id,
        enforce_booking_window=enforce_booking_window,
        include_appointments=include_appointments,
        client_id=client_id,
    )
    if found is None:
        return []
    practitioners_at, tables = found
    zone, length = location.zone, service.duration_minutes * 60
    return [
        Slot(
            start_epoch=start,
            end_epoch=start + length,
            practitioner_ids=tuple(practitioners_at[start]),
            zone=zone,
            tables=tables,
        )
        for start in sorted(practitioners_at)
    ]


def free_starts(
    *,
    service: Service,
    location: Location,
    start_date: date,
    end_date: date,
    practitioner: Practitioner | None = None,
) -> list[tuple[float, list[int]]]:
    """``free_slots`` for answers written out in bulk: (start epoch, practitioner ids) in
    order, without a Slot object per start."""
    found = _search(
        service=service,
        location=location,
        start_date=start_date,
        end_date=end_date,
        practitioner=practitioner,
    )
    if found is None:
        return []
    practitioners_at, _ = found
    return sorted(practitioners_at.items())


def _search(
    *,
    service: Service,
    location: Location,
    start_date: date,
    end_date: date,
    practitioner: Practitioner | None = None,
    now: datetime | None = None,
    ignore_appointment_id: int | None = None,
    enforce_booking_window: bool = True,
    include_appointments: bool = True,
    client_id: int | None = None,
) -> tuple[dict[float, list[int]], BusyTables] | None:
    """Load, busy tables, walk: the free starts with their practitioners, and the tables
    (for the free rooms); None when nothing can be free."""
    zone = location.zone
    now = now or timezone.now()
    today_local = now.astimezone(zone).date()
    earliest = now
    if enforce_booking_window:
        earliest = now + timedelta(minutes=service.min_lead_minutes)
        end_date = min(end_date, today_local + timedelta(days=service.horizon_days))
    start_date = max(start_date, today_local)
    if end_date < start_date:
        return None

    # Blocked time from a day before to a day after the local dates (any UTC offset).
    window_start_at = datetime.combine(start_date, time.min, tzinfo=zone) - timedelta(days=1)
    window_end_at = datetime.combine(end_date, time.min, tzinfo=zone) + timedelta(days=2)
    calendar = calendar_load(
        service_id=service.pk,
        location_id=location.pk,
        practitioner_id=practitioner.pk if practitioner is not None else None,
        start_date=start_date,
        end_date=end_date,
        window_start_at=window_start_at,
        window_end_at=window_end_at,
        earliest_block_start_at=window_start_at - MAX_VISIT,
        now=now,
        ignore_appointment_id=ignore_appointment_id,
        include_appointments=include_appointments,
        zone=zone,
        client_id=client_id,
    )
    if not calendar.shifts_by_practitioner or calendar.lacks_a_suitable_room:
        return None
    length = service.duration_minutes * 60
    tables = busy_tables(
        calendar=calendar,
        length=length,
        before=service.buffer_before_minutes * 60,
        after=service.buffer_after_minutes * 60,
    )
    practitioners_at = walk(
        shifts_by_practitioner=calendar.shifts_by_practitioner,
        tables=tables,
        start_date=start_date,
        end_date=end_date,
        zone=zone,
        earliest=earliest.timestamp(),
        length=length,
        step=max(service.slot_step_minutes, 5) * 60,
    )
    return practitioners_at, tables


def days_with_slots(*, slots: list[Slot], start_date: date, end_date: date) -> list[DaySlots]:
    """Group slots by local date, including days without any (shown greyed out)."""
    by_day: dict[date, list[Slot]] = defaultdict(list)
    for slot in slots:
        by_day[slot.start_at.date()].append(slot)
    return [
        DaySlots(
            day=start_date + timedelta(days=offset),
            slots=by_day[start_date + timedelta(days=offset)],
        )
        for offset in range((end_date - start_date).days + 1)
    ]


def slot_at(
    *,
    service: Service,
    location: Location,
    start_at: datetime,
    practitioner: Practitioner | None = None,
    now: datetime | None = None,
    ignore_appointment_id: int | None = None,
    enforce_booking_window: bool = True,
    include_appointments: bool = True,
) -> Slot | None:
    """The slot starting exactly at ``start_at``, if it is bookable."""
    local_day = start_at.astimezone(location.zone).date()
    for slot in free_slots(
        service=service,
        location=location,
        start_date=local_day,
        end_date=local_day,
        practitioner=practitioner,
        now=now,
        ignore_appointment_id=ignore_appointment_id,
        enforce_booking_window=enforce_booking_window,
        include_appointments=include_appointments,
    ):
        if slot.start_at == start_at:
            return slot
    return None


def nearest_free_slots(
    *,
    service: Service,
    location: Location,
    around: datetime,
    practitioner: Practitioner | None = None,
    count: int = 5,
    days: int = 7,
    now: datetime | None = None,
) -> list[Slot]:
    """The ``count`` free slots closest in time to ``around`` within ``days`` either side."""
    local_day = around.astimezone(location.zone).date()
    candidates = free_slots(
        service=service,
        location=location,
        start_date=local_day - timedelta(days=days),
        end_date=local_day + timedelta(days=days),
        practitioner=practitioner,
        now=now,
    )
    candidates.sort(key=lambda slot: abs((slot.start_at - around).total_seconds()))
    return sorted(candidates[:count], key=lambda slot: slot.start_at)
