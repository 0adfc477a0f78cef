"""Property: on any calendar, ``free_slots`` offers exactly the starts a naive reading of the
rules offers.

The reference below is written independently of ``bookings.availability`` on purpose: it
tries every grid step of every day, localises each one with ``datetime`` and checks every
blocked interval against every candidate visit. It is slow and obviously right; the engine is
fast and must agree with it on random calendars: several practitioners (some inactive, away
from the location or not doing the service), rooms (some inactive or elsewhere), buffers,
steps, time off, closures (once, every week or every year, with or without a last day),
appointments in every status, live and expired holds, a
practitioner filter, an ignored appointment, lead time and horizon, on ordinary days and on
both DST change days in London and New York.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bookings.availability import free_slots
from bookings.models import Appointment, Client
from clinic.models import Location, Practitioner, Room, Service, TimeOff, WorkingHours

pytestmark = pytest.mark.django_db

# Spring-forward and fall-back days of 2027, and an ordinary Tuesday.
DAYS = {
    "Europe/London": [date(2027, 3, 28), date(2027, 10, 31), date(2027, 6, 15)],
    "America/New_York": [date(2027, 3, 14), date(2027, 11, 7), date(2027, 6, 15)],
}
STATUSES = [choice for choice, _ in Appointment.Status.choices]
BLOCKING = {"held", "pending_clearance", "booked", "confirmed", "arrived", "completed"}


# ---------------------------------------------------------------------------------------------
# The reference: every step, every interval.


@dataclass(frozen=True)
class Block:
    practitioner: int | None  # index into the calendar's practitioners
    room: int | None  # index into its rooms
    start_at: datetime
    end_at: datetime


def _exists(day: date, wall: time, zone: ZoneInfo) -> datetime | None:
    """The first instant the wall clock shows ``wall`` on ``day``; None if it never does."""
    local = datetime.combine(day, wall, tzinfo=zone)
    shown = local.astimezone(UTC).astimezone(zone)
    return local if (shown.date(), shown.time()) == (day, wall) else None


def reference_occurrences(
    off: dict, zone: ZoneInfo, first_day: date, last_day: date
) -> list[tuple[datetime, datetime]]:
    """A block and, when it repeats, every local day near the asked dates on which it
    happens again: the same weekday a whole number of weeks on, or the same day of the
    year, with the first time's wall-clock start and end."""
    if not off["repeats"]:
        return [(off["start_at"], off["end_at"])]
    first_start = off["start_at"].astimezone(zone)
    first_end = off["end_at"].astimezone(zone)
    days_long = (first_end.date() - first_start.date()).days
    found = []
    day = first_day - timedelta(days=3)
    while day <= last_day + timedelta(days=1):
        again = day >= first_start.date() and (
            (off["repeats"] == "weekly" and (day - first_start.date()).days % 7 == 0)
            or (
                off["repeats"] == "yearly"
                and (day.month, day.day) == (first_start.month, first_start.day)
            )
        )
        if again and (off["repeat_until"] is None or day <= off["repeat_until"]):
            found.append(
                (
                    datetime.combine(day, first_start.time(), tzinfo=zone),
                    datetime.combine(
                        day + timedelta(days=days_long), first_end.time(), tzinfo=zone
                    ),
                )
            )
        day += timedelta(days=1)
    return found


def reference_slots(calendar: dict, now: datetime) -> dict[datetime, tuple[set, set]]:
    """{start (UTC): (practitioner indexes, free room indexes)} by brute force."""
    zone = ZoneInfo(calendar["zone"])
    service = calendar["service"]
    length = timedelta(minutes=service["duration"])
    before = timedelta(minutes=service["buffer_before"])
    after = timedelta(minutes=service["buffer_after"])
    today = now.astimezone(zone).date()
    first_day = max(calendar["start_date"], today)
    last_day = min(calendar["end_date"], today + timedelta(days=service["horizon_days"]))
    earliest = now + timedelta(minutes=service["min_lead"])

    blocks: list[Block] = []
    for appointment in calendar["appointments"]:
        if appointment["index"] == calendar["ignore"]:
            continue
        if appointment["status"] not in BLOCKING:
            continue
        if appointment["status"] == "held" and appointment["hold_expires_at"] <= now:
            continue
        blocks.append(
            Block(
                appointment["practitioner"],
                appointment["room"],
                appointment["blocked_start_at"],
                appointment["blocked_end_at"],
            )
        )
    closures = []
    for off in calendar["time_off"]:
        for start_at, end_at in reference_occurrences(off, zone, first_day, last_day):
            if off["kind"] == "closure_here":
                closures.append((start_at, end_at))
            elif off["kind"] == "practitioner":
                blocks.append(Block(off["who"], None, start_at, end_at))
            elif off["kind"] == "room":
                blocks.append(Block(None, off["who"], start_at, end_at))

    def overlaps(start: datetime, end: datetime, block_start: datetime, block_end: datetime):
        return block_start < end and start < block_end

    usable_rooms = [
        index for index, room in enumerate(calendar["rooms"]) if room["active"] and room["here"]
    ]
    answer: dict[datetime, tuple[set, set]] = {}
    day = first_day
    while day <= last_day:
        for who, person in enumerate(calendar["practitioners"]):
            if not (person["active"] and person["here"] and person["does_service"]):
                continue
            if calendar["asked"] is not None and calendar["asked"] != who:
                continue
            for weekday, start_minute, end_minute in person["shifts"]:
                if weekday != day.weekday():
                    continue
                shift_end = datetime.combine(
                    day, time(end_minute // 60, end_minute % 60), tzinfo=zone
                )
                for minute in range(0, 24 * 60, service["step"]):
                    if minute < start_minute:
                        continue
                    local = _exists(day, time(minute // 60, minute % 60), zone)
                    if local is None:
                        continue
                    start = local.astimezone(UTC)
                    end = start + length
                    if start < earliest or end > shift_end:
                        continue
                    visit = (start - before, end + after)
                    if any(overlaps(*visit, *closure) for closure in closures):
                        continue
                    if any(
                        block.practitioner == who and overlaps(*visit, block.start_at, block.end_at)
                        for block in blocks
                    ):
                        continue
                    free_rooms = {
                        room
                        for room in usable_rooms
                        if not any(
                            block.room == room and overlaps(*visit, block.start_at, block.end_at)
                            for block in blocks
                        )
                    }
                    if calendar["rooms"] and not free_rooms:
                        continue
                    people, _ = answer.setdefault(start, (set(), free_rooms))
                    people.add(who)
        day += timedelta(days=1)
    return answer


# ---------------------------------------------------------------------------------------------
# Random calendars around a (DST) day.

mostly = st.sampled_from([True, True, True, False])
minutes_of_day = st.integers(min_value=0, max_value=24 * 60 - 10).map(lambda m: m - m % 5)


@st.composite
def calendars(draw):  # noqa: ANN001, ANN201 - a Hypothesis strategy
    zone_name = draw(st.sampled_from(sorted(DAYS)))
    zone = ZoneInfo(zone_name)
    focus = draw(st.sampled_from(DAYS[zone_name]))
    start_date, end_date = focus - timedelta(days=1), focus + timedelta(days=1)
    weekdays = sorted({(start_date + timedelta(days=n)).weekday() for n in range(3)})

    def shift():  # noqa: ANN202
        first = draw(minutes_of_day)
        last = draw(st.integers(min_value=first + 5, max_value=24 * 60 - 1))
        return (draw(st.sampled_from(weekdays)), first, last)

    practitioners = [
        {
            "active": draw(mostly) or index == 0,
            "here": draw(mostly) or index == 0,
            "does_service": draw(mostly) or index == 0,
            "shifts": [shift() for _ in range(draw(st.integers(1 if index == 0 else 0, 3)))],
        }
        for index in range(draw(st.integers(1, 3)))
    ]
    rooms = [
        {"active": draw(mostly), "here": draw(mostly)}
        for _ in range(draw(st.sampled_from([0, 0, 1, 2, 3])))
    ]
    service = {
        "duration": draw(st.sampled_from([15, 30, 45, 60, 90])),
        "buffer_before": draw(st.sampled_from([0, 0, 5, 15])),
        "buffer_after": draw(st.sampled_from([0, 0, 10, 15])),
        "step": draw(st.sampled_from([5, 10, 15, 30, 60])),
        "min_lead": draw(st.sampled_from([0, 0, 60, 600])),
        "horizon_days": draw(st.sampled_from([90, 90, 1])),
    }
    window_start = datetime.combine(start_date, time.min, tzinfo=zone).astimezone(UTC)

    def moment(max_hours: int = 72):  # noqa: ANN202
        return window_start + timedelta(minutes=5 * draw(st.integers(0, max_hours * 12)))

    # From two days before the window to its middle, so lead time and "today" matter.
    now = window_start + timedelta(minutes=draw(st.integers(-48 * 60, 36 * 60)))

    def on_the_grid_of_a_shift(who: int) -> datetime | None:
        # A visit starting on the step grid of one of ``who``'s shifts, so that the starts it
        # forbids (its buffers and the asked visit's) are ones the walk would otherwise offer:
        # drawn anywhere, visits mostly fell where nobody works, and a broken buffer rule
        # passed a run of 300 calendars.
        shifts = practitioners[who]["shifts"]
        if not shifts:
            return None
        weekday, first, last = draw(st.sampled_from(shifts))
        day = next(
            start_date + timedelta(days=n)
            for n in range(3)
            if (start_date + timedelta(days=n)).weekday() == weekday
        )
        step = service["step"]
        minute = first + step * draw(st.integers(0, max((last - first) // step, 0)))
        minute = min(minute - minute % 5, 24 * 60 - 5)
        return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone).astimezone(UTC)

    appointments = []
    for index in range(draw(st.integers(0, 10))):
        who = draw(st.integers(0, len(practitioners) - 1))
        start = (draw(st.booleans()) and on_the_grid_of_a_shift(who)) or moment()
        end = start + timedelta(minutes=draw(st.sampled_from([15, 30, 60, 120])))
        appointments.append(
            {
                "index": index,
                "practitioner": who,
                "room": draw(st.sampled_from([None, *range(len(rooms))])),
                "start_at": start,
                "end_at": end,
                "blocked_start_at": start - timedelta(minutes=draw(st.sampled_from([0, 10]))),
                "blocked_end_at": end + timedelta(minutes=draw(st.sampled_from([0, 15]))),
                "status": draw(st.sampled_from([*STATUSES, "held", "held"])),
                # Live and expired holds, both just either side of now.
                "hold_expires_at": now + timedelta(minutes=draw(st.sampled_from([-30, 0, 30]))),
            }
        )
    # As the database allows (PostgreSQL's exclusion constraints): active visits of one
    # practitioner or one room never overlap; a drawn visit that would is a cancelled one.
    kept: list[dict] = []
    for appointment in appointments:
        if appointment["status"] not in BLOCKING:
            continue
        if any(
            (
                other["practitioner"] == appointment["practitioner"]
                or (appointment["room"] is not None and other["room"] == appointment["room"])
            )
            and other["blocked_start_at"] < appointment["blocked_end_at"]
            and appointment["blocked_start_at"] < other["blocked_end_at"]
            for other in kept
        ):
            appointment["status"] = "cancelled"
        else:
            kept.append(appointment)
    time_off = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["practitioner", "room", "closure_here", "closure_elsewhere"]))
        if kind == "room" and not rooms:
            kind = "closure_elsewhere"
        start = moment()
        end = start + timedelta(minutes=5 * draw(st.integers(1, 12 * 12)))
        repeats = draw(st.sampled_from(["", "", "weekly", "yearly"]))
        repeat_until = None
        if repeats:
            # The first time weeks or years before the window, same wall clock; repeating
            # until the window's middle, before it, or for ever.
            wall_start = start.astimezone(zone).replace(tzinfo=None)
            wall_end = end.astimezone(zone).replace(tzinfo=None)
            if repeats == "weekly":
                back = timedelta(weeks=draw(st.sampled_from([0, 1, 2, 30])))
                wall_start, wall_end = wall_start - back, wall_end - back
            else:
                years = draw(st.sampled_from([0, 1, 3]))
                wall_start = wall_start.replace(year=wall_start.year - years)
                wall_end = wall_end.replace(year=wall_end.year - years)
            start = wall_start.replace(tzinfo=zone).astimezone(UTC)
            end = wall_end.replace(tzinfo=zone).astimezone(UTC)
            repeat_until = draw(st.sampled_from([None, None, focus, focus - timedelta(days=3)]))
            if repeat_until is not None and repeat_until < wall_start.date():
                repeat_until = None
        time_off.append(
            {
                "kind": kind,
                "who": draw(
                    st.integers(
                        0, max(len(practitioners if kind == "practitioner" else rooms), 1) - 1
                    )
                ),
                "start_at": start,
                "end_at": end,
                "repeats": repeats,
                "repeat_until": repeat_until,
            }
        )
    return {
        "zone": zone_name,
        "start_date": start_date,
        "end_date": end_date,
        "practitioners": practitioners,
        "rooms": rooms,
        "service": service,
        "appointments": appointments,
        "time_off": time_off,
        "asked": draw(st.sampled_from([None, None, *range(len(practitioners))])),
        "ignore": draw(st.sampled_from([None, *range(len(appointments))])),
        "now": now,
    }


def _save(calendar: dict) -> dict:
    """The calendar as database rows; returns the objects free_slots is asked about."""
    here = Location.objects.create(name="Here", slug="here", timezone=calendar["zone"])
    elsewhere = Location.objects.create(name="Elsewhere", slug="elsewhere", timezone="UTC")
    service = Service.objects.create(
        name="Visit",
        slug="visit",
        duration_minutes=calendar["service"]["duration"],
        buffer_before_minutes=calendar["service"]["buffer_before"],
        buffer_after_minutes=calendar["service"]["buffer_after"],
        slot_step_minutes=calendar["service"]["step"],
        min_lead_minutes=calendar["service"]["min_lead"],
        horizon_days=calendar["service"]["horizon_days"],
    )
    other_service = Service.objects.create(name="Other", slug="other", duration_minutes=30)
    practitioners = []
    for index, person in enumerate(calendar["practitioners"]):
        practitioner = Practitioner.objects.create(
            display_name=f"P{index}", is_active=person["active"]
        )
        practitioner.locations.add(here if person["here"] else elsewhere)
        practitioner.services.add(service if person["does_service"] else other_service)
        for weekday, first, last in person["shifts"]:
            WorkingHours.objects.create(
                practitioner=practitioner,
                location=here,
                weekday=weekday,
                start_time=time(first // 60, first % 60),
                end_time=time(last // 60, last % 60),
            )
        practitioners.append(practitioner)
    rooms = [
        Room.objects.create(
            location=here if room["here"] else elsewhere,
            name=f"R{index}",
            is_active=room["active"],
        )
        for index, room in enumerate(calendar["rooms"])
    ]
    service.rooms.set(rooms)
    saved = []
    for appointment in calendar["appointments"]:
        status = appointment["status"]
        # A client of their own: one client's active visits may not overlap either.
        client = Client.objects.create(
            first_name="Prop", phone=f"+4479110{appointment['index']:05d}"
        )
        saved.append(
            Appointment.objects.create(
                client=client,
                service=service,
                practitioner=practitioners[appointment["practitioner"]],
                room=rooms[appointment["room"]] if appointment["room"] is not None else None,
                location=here,
                start_at=appointment["start_at"],
                end_at=appointment["end_at"],
                blocked_start_at=appointment["blocked_start_at"],
                blocked_end_at=appointment["blocked_end_at"],
                status=status,
                hold_expires_at=appointment["hold_expires_at"] if status == "held" else None,
            )
        )
    for off in calendar["time_off"]:
        kind = off["kind"]
        TimeOff.objects.create(
            practitioner=practitioners[off["who"]] if kind == "practitioner" else None,
            room=rooms[off["who"]] if kind == "room" else None,
            location=here if kind == "closure_here" else elsewhere if kind != "room" else None,
            start_at=off["start_at"],
            end_at=off["end_at"],
            repeats=off["repeats"],
            repeat_until=off["repeat_until"],
        )
    return {
        "service": service,
        "location": here,
        "practitioners": practitioners,
        "rooms": rooms,
        "appointments": saved,
    }


PROPERTY_SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}


@settings(max_examples=300, **PROPERTY_SETTINGS)
@given(calendar=calendars())
def test_free_slots_agree_with_trying_every_step_against_every_interval(calendar):
    check_against_reference(calendar)


@pytest.mark.integration
@settings(max_examples=100, **PROPERTY_SETTINGS)
@given(calendar=calendars())
def test_free_slots_agree_with_the_reference_on_postgresql(calendar):
    """The engine's SQL is written per database (epoch seconds, times of day): same property."""
    check_against_reference(calendar)


def check_against_reference(calendar: dict) -> None:
    savepoint = transaction.savepoint()
    try:
        rows = _save(calendar)
        ignored = calendar["ignore"]
        slots = free_slots(
            service=rows["service"],
            location=rows["location"],
            start_date=calendar["start_date"],
            end_date=calendar["end_date"],
            practitioner=rows["practitioners"][calendar["asked"]]
            if calendar["asked"] is not None
            else None,
            now=calendar["now"],
            ignore_appointment_id=rows["appointments"][ignored].pk if ignored is not None else None,
        )
        practitioner_index = {p.pk: index for index, p in enumerate(rows["practitioners"])}
        room_index = {room.pk: index for index, room in enumerate(rows["rooms"])}
        found = {
            slot.start_at.astimezone(UTC): (
                {practitioner_index[pk] for pk in slot.practitioner_ids},
                {room_index[pk] for pk in slot.room_ids},
            )
            for slot in slots
        }
        expected = reference_slots(calendar, calendar["now"])
        event("some slots" if expected else "no slots")
        event(f"{calendar['zone']} {calendar['start_date'] + timedelta(days=1)}")
        assert sorted(found) == sorted(expected), (
            sorted(set(found) ^ set(expected))[:5],
            calendar,
        )
        assert found == expected
        zone = ZoneInfo(calendar["zone"])
        duration = timedelta(minutes=calendar["service"]["duration"])
        for slot in slots:
            assert slot.start_at.tzinfo == zone
            # (Aware datetimes in one zone subtract as wall clocks; compare real time.)
            assert slot.end_at.astimezone(UTC) - slot.start_at.astimezone(UTC) == duration
    finally:
        transaction.savepoint_rollback(savepoint)
