from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from bookings.availability import LocalClock, days_with_slots, free_slots, localize, slot_at
from bookings.availability.busy import ForbiddenStarts
from bookings.availability.walk import steady_offsets
from bookings.models import Appointment
from tests import factories

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
pytestmark = pytest.mark.django_db

# Monday 7 December 2026, well ahead of the frozen "now".
MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def _frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield


def starts(slots, day=None):
    return [s.start_at.strftime("%H:%M") for s in slots if day is None or s.start_at.date() == day]


def test_slots_fill_working_hours_in_steps_and_the_visit_ends_by_closing(
    treatment_service, location, practitioner
):
    slots = free_slots(
        service=treatment_service, location=location, start_date=MONDAY, end_date=MONDAY
    )
    times = starts(slots)
    assert times[0] == "09:00"
    assert times[-1] == "16:00"  # 60 minutes must end by 17:00
    assert len(times) == 29  # 09:00..16:00 every 15 minutes
    assert all(slot.practitioner_ids == (practitioner.pk,) for slot in slots)
    assert all(slot.start_at.tzinfo.key == "Europe/London" for slot in slots)


def test_no_slots_on_days_the_practitioner_does_not_work(treatment_service, location, practitioner):
    saturday = MONDAY + timedelta(days=5)
    assert (
        free_slots(
            service=treatment_service, location=location, start_date=saturday, end_date=saturday
        )
        == []
    )


def test_an_appointment_and_its_buffers_block_overlapping_starts(
    treatment_service, location, practitioner, room
):
    start = datetime.combine(MONDAY, time(11), tzinfo=LONDON)
    factories.AppointmentFactory(
        service=treatment_service,
        location=location,
        practitioner=practitioner,
        room=room,
        start_at=start,
    )
    times = starts(
        free_slots(service=treatment_service, location=location, start_date=MONDAY, end_date=MONDAY)
    )
    # Existing 11:00-12:00 blocks until 12:15 (15 min buffer after). A new visit's own buffer
    # after (15 min) means it must end by 10:45: last start before is 09:45.
    assert "09:45" in times
    assert "10:00" not in times
    assert "12:00" not in times
    assert "12:15" in times


def test_cancelled_slot_is_free_again(treatment_service, location, practitioner, room):
    start = datetime.combine(MONDAY, time(11), tzinfo=LONDON)
    factories.AppointmentFactory(
        service=treatment_service,
        location=location,
        practitioner=practitioner,
        room=room,
        start_at=start,
        status="cancelled",
    )
    assert "11:00" in starts(
        free_slots(service=treatment_service, location=location, start_date=MONDAY, end_date=MONDAY)
    )


def test_expired_hold_does_not_block_but_live_hold_does(
    treatment_service, location, practitioner, room
):
    start = datetime.combine(MONDAY, time(11), tzinfo=LONDON)
    hold = factories.AppointmentFactory(
        service=treatment_service,
        location=location,
        practitioner=practitioner,
        room=room,
        start_at=start,
        status="held",
        client=None,
        hold_expires_at=NOW + timedelta(minutes=5),
    )
    assert "11:00" not in starts(
        free_slots(service=treatment_service, location=location, start_date=MONDAY, end_date=MONDAY)
    )
    hold.hold_expires_at = NOW - timedelta(minutes=1)
    hold.save()
    assert "11:00" in starts(
        free_slots(service=treatment_service, location=location, start_date=MONDAY, end_date=MONDAY)
    )


def test_a_busy_room_blocks_a_service_that_needs_it_even_with_a_free_practitioner(
    treatment_service, location, practitioner, room
):
    other = factories.PractitionerFactory()
    other.locations.add(location)
    other.services.add(treatment_service)
    factories.WorkingHoursFactory(
        practitioner=other, location=location, weekday=0, start_time=time(9), end_time=time(17)
    )
    start = datetime.combine(MONDAY, time(11), tzinfo=LONDON)
    factories.AppointmentFactory(
        service=treatment_service, location=location, practitioner=other, room=room, start_at=start
    )
    slots = free_slots(
        service=treatment_service, location=location, start_date=MONDAY, end_date=MONDAY
    )
    assert "11:00" not in starts(slots)
    second_room = factories.RoomFactory(location=location, name="Room 2")
    treatment_service.rooms.add(second_room)
    slot = next(
        s
        for s in free_slots(
            service=treatment_service, location=location, start_date=MONDAY, end_date=MONDAY
        )
        if s.start_at.hour == 11 and s.start_at.minute == 0
    )
    assert slot.practitioner_ids == (practitioner.pk,)
    assert slot.room_ids == (second_room.pk,)


def test_service_without_rooms_needs_none(consultation_service, location, practitioner):
    slots = free_slots(
        service=consultation_service, location=location, start_date=MONDAY, end_date=MONDAY
    )
    assert slots
    assert all(slot.room_ids == () for slot in slots)


def test_time_off_spanning_days_blocks_every_day_it_covers(
    treatment_service, location, practitioner
):
    factories.TimeOffFactory(
        practitioner=practitioner,
        start_at=datetime.combine(MONDAY, time(13), tzinfo=LONDON),
        end_at=datetime.combine(MONDAY + timedelta(days=2), time(12), tzinfo=LONDON),
    )
    slots = free_slots(
        service=treatment_service,
        location=location,
        start_date=MONDAY,
        end_date=MONDAY + timedelta(days=3),
    )
    assert starts(slots, MONDAY)[-1] == "11:45"  # visit + 15 min buffer must end by 13:00
    assert starts(slots, MONDAY + timedelta(days=1)) == []
    assert starts(slots, MONDAY + timedelta(days=2))[0] == "12:00"
    assert starts(slots, MONDAY + timedelta(days=3))[0] == "09:00"


def test_room_time_off_and_clinic_closure_block(treatment_service, location, practitioner, room):
    factories.TimeOffFactory(
        room=room,
        start_at=datetime.combine(MONDAY, time(9), tzinfo=LONDON),
        end_at=datetime.combine(MONDAY, time(12), tzinfo=LONDON),
    )
    factories.TimeOffFactory(
        location=location,
        start_at=datetime.combine(MONDAY + timedelta(days=1), time(0), tzinfo=LONDON),
        end_at=datetime.combine(MONDAY + timedelta(days=2), time(0), tzinfo=LONDON),
        reason="Holiday",
    )
    slots = free_slots(
        service=treatment_service,
        location=location,
        start_date=MONDAY,
        end_date=MONDAY + timedelta(days=1),
    )
    assert starts(slots, MONDAY)[0] == "12:00"
    assert starts(slots, MONDAY + timedelta(days=1)) == []


def test_lead_time_and_horizon_limit_online_slots(treatment_service, location, practitioner):
    treatment_service.min_lead_minutes = 24 * 60
    treatment_service.horizon_days = 8
    treatment_service.save()
    with time_machine.travel(datetime.combine(MONDAY, time(10, 7), tzinfo=LONDON), tick=False):
        slots = free_slots(
            service=treatment_service,
            location=location,
            start_date=MONDAY,
            end_date=MONDAY + timedelta(days=14),
        )
        assert starts(slots, MONDAY) == []
        assert starts(slots, MONDAY + timedelta(days=1))[0] == "10:15"
        assert max(slot.start_at.date() for slot in slots) == MONDAY + timedelta(days=8)
        staff_view = free_slots(
            service=treatment_service,
            location=location,
            start_date=MONDAY,
            end_date=MONDAY,
            enforce_booking_window=False,
        )
        assert starts(staff_view)[0] == "10:15"  # never in the past, even for staff


def test_working_hours_valid_ranges_let_next_months_rota_differ(treatment_service, location):
    practitioner = factories.PractitionerFactory()
    practitioner.locations.add(location)
    practitioner.services.add(treatment_service)
    factories.WorkingHoursFactory(
        practitioner=practitioner,
        location=location,
        weekday=0,
        start_time=time(9),
        end_time=time(12),
        valid_until=MONDAY,
    )
    factories.WorkingHoursFactory(
        practitioner=practitioner,
        location=location,
        weekday=0,
        start_time=time(13),
        end_time=time(18),
        valid_from=MONDAY + timedelta(days=1),
    )
    slots = free_slots(
        service=treatment_service,
        location=location,
        start_date=MONDAY,
        end_date=MONDAY + timedelta(days=7),
    )
    assert starts(slots, MONDAY)[0] == "09:00"
    assert starts(slots, MONDAY + timedelta(days=7))[0] == "13:00"


def test_practitioner_filter_and_days_grouping(treatment_service, location, practitioner):
    other = factories.PractitionerFactory()
    other.locations.add(location)
    other.services.add(treatment_service)
    factories.WorkingHoursFactory(
        practitioner=other, location=location, weekday=1, start_time=time(9), end_time=time(17)
    )
    only_other = free_slots(
        service=treatment_service,
        location=location,
        start_date=MONDAY,
        end_date=MONDAY + timedelta(days=1),
        practitioner=other,
    )
    assert {s.start_at.date() for s in only_other} == {MONDAY + timedelta(days=1)}
    days = days_with_slots(slots=only_other, start_date=MONDAY, end_date=MONDAY + timedelta(days=2))
    assert [day.has_slots for day in days] == [False, True, False]


@pytest.mark.parametrize(
    ("zone_name", "before_change", "after_change"),
    [
        ("Europe/London", date(2027, 3, 22), date(2027, 3, 29)),  # BST starts 28 March 2027
        ("Europe/London", date(2026, 10, 19), date(2026, 10, 26)),  # BST ends 25 October 2026
        ("America/New_York", date(2027, 3, 8), date(2027, 3, 15)),  # DST starts 14 March 2027
        ("America/New_York", date(2026, 10, 26), date(2026, 11, 2)),  # DST ends 1 November 2026
    ],
)
def test_nine_oclock_stays_nine_oclock_across_dst(
    zone_name, before_change, after_change, treatment_service
):
    location = factories.LocationFactory(
        timezone=zone_name, country="US" if "America" in zone_name else "GB"
    )
    practitioner = factories.PractitionerFactory()
    practitioner.locations.add(location)
    practitioner.services.add(treatment_service)
    factories.WorkingHoursFactory(
        practitioner=practitioner,
        location=location,
        weekday=0,
        start_time=time(9),
        end_time=time(17),
    )
    treatment_service.rooms.clear()
    with time_machine.travel(
        datetime.combine(before_change - timedelta(days=14), time(8), tzinfo=ZoneInfo(zone_name)),
        tick=False,
    ):
        slots = free_slots(
            service=treatment_service,
            location=location,
            start_date=before_change,
            end_date=after_change,
        )
    first_of_each_day = {}
    for slot in slots:
        first_of_each_day.setdefault(slot.start_at.date(), slot.start_at)
    assert first_of_each_day[before_change].strftime("%H:%M") == "09:00"
    assert first_of_each_day[after_change].strftime("%H:%M") == "09:00"
    offsets = {
        first_of_each_day[before_change].utcoffset(),
        first_of_each_day[after_change].utcoffset(),
    }
    assert len(offsets) == 2, "the UTC offset differs, the wall time does not"


def test_nonexistent_and_ambiguous_local_times_are_handled():
    assert localize(date(2027, 3, 28), time(1, 30), LONDON) is None  # skipped hour
    ambiguous = localize(date(2026, 10, 25), time(1, 30), LONDON)
    assert ambiguous is not None
    assert ambiguous.utcoffset() == timedelta(hours=1)  # first occurrence (BST)


def test_night_shift_across_a_dst_change_does_not_crash(treatment_service):
    location = factories.LocationFactory()
    practitioner = factories.PractitionerFactory()
    practitioner.locations.add(location)
    practitioner.services.add(treatment_service)
    treatment_service.rooms.clear()
    factories.WorkingHoursFactory(
        practitioner=practitioner,
        location=location,
        weekday=6,
        start_time=time(0),
        end_time=time(4),
    )
    with time_machine.travel(datetime(2027, 3, 1, tzinfo=LONDON), tick=False):
        slots = free_slots(
            service=treatment_service,
            location=location,
            start_date=date(2027, 3, 28),
            end_date=date(2027, 3, 28),
        )
    assert "01:30" not in starts(slots)
    assert "00:00" in starts(slots)
    assert "02:00" in starts(slots)


def test_slot_at_finds_exact_start(treatment_service, location, practitioner):
    start = datetime.combine(MONDAY, time(10, 30), tzinfo=LONDON)
    assert slot_at(service=treatment_service, location=location, start_at=start).start_at == start
    assert (
        slot_at(service=treatment_service, location=location, start_at=start + timedelta(minutes=5))
        is None
    )


def _team(location, service, size):
    for _ in range(size):
        member = factories.PractitionerFactory()
        member.locations.add(location)
        member.services.add(service)
        for weekday in range(6):
            factories.WorkingHoursFactory(practitioner=member, location=location, weekday=weekday)
            factories.AppointmentFactory(
                service=service,
                location=location,
                practitioner=member,
                start_at=datetime.combine(
                    MONDAY + timedelta(days=weekday), time(10), tzinfo=LONDON
                ),
            )


def test_query_count_does_not_grow_with_window_or_team(treatment_service, location, practitioner):
    def count(days):
        with CaptureQueriesContext(connection) as queries:
            free_slots(
                service=treatment_service,
                location=location,
                start_date=MONDAY,
                end_date=MONDAY + timedelta(days=days),
            )
        return len(queries)

    small = count(1)
    _team(location, treatment_service, 6)
    factories.TimeOffFactory(practitioner=practitioner)
    assert count(1) == small
    assert count(60) == small
    assert small == 3  # shifts with rooms, time off, appointments


def test_a_gap_exactly_one_visit_long_between_two_appointments_is_bookable(location, practitioner):
    service = factories.ServiceFactory(duration_minutes=30, slot_step_minutes=30)
    practitioner.services.add(service)
    for hour, minute in ((10, 30), (11, 30)):
        factories.AppointmentFactory(
            service=service,
            location=location,
            practitioner=practitioner,
            start_at=datetime.combine(MONDAY, time(hour, minute), tzinfo=LONDON),
        )
    times = starts(
        free_slots(service=service, location=location, start_date=MONDAY, end_date=MONDAY)
    )
    assert "11:00" in times
    assert "10:30" not in times
    assert "11:30" not in times


def test_a_block_ending_a_microsecond_into_a_start_forbids_it_and_one_ending_before_does_not(
    location, practitioner
):
    # The database hands blocked time over as whole epoch seconds, rounded outwards: a block's
    # end a microsecond past 11:00 must still forbid 11:00 (PostgreSQL computes it in double
    # precision, SQLite from the stored text).
    with time_machine.travel(NOW, tick=False):
        service = factories.ServiceFactory(duration_minutes=30, slot_step_minutes=30)
        practitioner.services.add(service)
        for day, end in ((MONDAY, time(11, 0, 0, 1)), (MONDAY + timedelta(days=1), time(11))):
            visit = factories.AppointmentFactory(
                service=service,
                location=location,
                practitioner=practitioner,
                start_at=datetime.combine(day, time(10, 30), tzinfo=LONDON),
            )
            Appointment.objects.filter(pk=visit.pk).update(
                blocked_start_at=datetime.combine(day, time(10, 29, 59, 999999), tzinfo=LONDON),
                blocked_end_at=datetime.combine(day, end, tzinfo=LONDON),
            )
        slots = free_slots(
            service=service,
            location=location,
            start_date=MONDAY,
            end_date=MONDAY + timedelta(days=1),
        )
    assert "11:00" not in starts(slots, MONDAY)
    assert "10:00" not in starts(slots, MONDAY)  # its start is a microsecond into 10:00's visit
    assert "11:00" in starts(slots, MONDAY + timedelta(days=1))
    assert "10:00" not in starts(slots, MONDAY + timedelta(days=1))


@pytest.mark.parametrize(
    ("zone_name", "change_day"),
    [
        ("Europe/London", date(2027, 3, 28)),
        ("Europe/London", date(2027, 10, 31)),
        ("America/New_York", date(2027, 3, 14)),
        ("America/New_York", date(2027, 11, 7)),
        ("Australia/Lord_Howe", date(2027, 4, 4)),  # a half-hour change
    ],
)
def test_local_clock_writes_what_datetime_writes_on_both_sides_of_a_clock_change(
    zone_name, change_day
):
    zone = ZoneInfo(zone_name)
    clock = LocalClock(zone=zone, start_date=change_day - timedelta(days=1), end_date=change_day)
    first = datetime.combine(change_day - timedelta(days=1), time.min, tzinfo=zone).timestamp()
    last = datetime.combine(change_day + timedelta(days=1), time.min, tzinfo=zone).timestamp()
    epochs = range(int(first), int(last), 300)
    for epoch in epochs:
        moment = datetime.fromtimestamp(epoch, tz=UTC).astimezone(zone)
        assert clock.local(epoch) == (moment.toordinal(), moment.isoformat()), moment
    # The bulk form for a whole answer: 90-minute visits starting at each of those times.
    expected = []
    for epoch in epochs:
        start = datetime.fromtimestamp(epoch, tz=UTC).astimezone(zone)
        end = datetime.fromtimestamp(epoch + 5400, tz=UTC).astimezone(zone)
        expected.append((start.toordinal(), start.isoformat(), end.isoformat()))
    assert clock.visits(list(epochs), 5400) == expected


def test_the_days_offsets_are_kept_per_window_and_cannot_be_changed_by_a_caller():
    london = ZoneInfo("Europe/London")
    window = {"start_date": date(2027, 3, 27), "end_date": date(2027, 3, 29), "zone": london}
    offsets = steady_offsets(**window)

    assert dict(offsets) == {
        date(2027, 3, 27).toordinal(): 0,
        date(2027, 3, 28).toordinal(): None,  # the clocks go forward
        date(2027, 3, 29).toordinal(): 3600,
    }
    # Kept: every search of the window shares one answer, so no caller may edit it.
    assert steady_offsets(**window) is offsets
    with pytest.raises(TypeError):
        offsets[date(2027, 3, 28).toordinal()] = 0  # type: ignore[index]


@given(
    first=st.lists(st.tuples(st.integers(0, 200), st.integers(1, 40)), max_size=12),
    second=st.lists(st.tuples(st.integers(0, 200), st.integers(1, 40)), max_size=12),
)
def test_a_union_of_forbidden_starts_forbids_exactly_what_either_table_forbids(first, second):
    tables = [
        ForbiddenStarts.from_intervals([(low, low + length) for low, length in intervals])
        for intervals in (first, second)
    ]

    union = tables[0].union(tables[1])

    # Half-second steps: the tables hold open intervals, so their end points are allowed.
    for doubled in range(-2, 2 * 260):
        start = doubled / 2
        assert union.forbids(start) == any(table.forbids(start) for table in tables), start
    # Merged: sorted, apart (touching intervals keep their shared end point allowed).
    assert all(
        high <= next_low for high, next_low in zip(union.highs, union.lows[1:], strict=False)
    )
