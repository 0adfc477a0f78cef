"""No double booking on PostgreSQL: the exclusion constraints, not luck, decide the race."""

from __future__ import annotations

import threading
import time as time_module
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from bookings import services
from bookings.models import Appointment
from bookings.services import appointments as appointment_services
from clinic.errors import SlotTaken
from tests import factories

LONDON = ZoneInfo("Europe/London")
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CONTENDERS = 8
# One race rarely shows a deadlock between colliding inserts; several in a row nearly always did.
ROUNDS = 4


@pytest.fixture
def calendar():
    location = factories.LocationFactory()
    room = factories.RoomFactory(location=location)
    service = factories.ServiceFactory(duration_minutes=60, buffer_after_minutes=15)
    service.rooms.add(room)
    practitioner = factories.PractitionerFactory()
    practitioner.locations.add(location)
    practitioner.services.add(service)
    day = timezone.localdate(timezone.now(), LONDON) + timedelta(days=3)
    factories.WorkingHoursFactory(
        practitioner=practitioner, location=location, weekday=day.weekday()
    )
    start = datetime.combine(day, time(10), tzinfo=LONDON)
    clients = [factories.ClientFactory() for _ in range(CONTENDERS * ROUNDS)]
    return location, room, service, practitioner, start, clients


def test_concurrent_bookings_of_one_slot_have_exactly_one_winner(calendar, monkeypatch):
    location, room, service, practitioner, start, clients = calendar
    # Every contender passes the in-Python availability check before anyone inserts, so only
    # the database (constraints and the calendar lock) can stop the losers: the test fails if
    # the constraint is dropped, and failed with "deadlock detected" without the lock.
    everyone_checked = threading.Barrier(CONTENDERS, timeout=20)
    original_find_slot = appointment_services._find_slot

    def find_slot_then_wait(**kwargs):
        slot = original_find_slot(**kwargs)
        everyone_checked.wait()
        return slot

    monkeypatch.setattr(appointment_services, "_find_slot", find_slot_then_wait)

    def attempt(client, slot_start):
        try:
            services.appointment_book(
                client=client, service=service, location=location, start_at=slot_start
            )
            return "booked"
        except SlotTaken:
            return "taken"
        finally:
            connection.close()

    for round_number in range(ROUNDS):
        slot_start = start + round_number * timedelta(minutes=75)
        contenders = clients[round_number * CONTENDERS : (round_number + 1) * CONTENDERS]
        with ThreadPoolExecutor(max_workers=CONTENDERS) as pool:
            outcomes = list(pool.map(attempt, contenders, [slot_start] * CONTENDERS))

        assert outcomes.count("booked") == 1, (round_number, outcomes)
        assert outcomes.count("taken") == CONTENDERS - 1, (round_number, outcomes)
        assert Appointment.objects.filter(status="booked", start_at=slot_start).count() == 1
    assert Appointment.objects.filter(status="booked").count() == ROUNDS


def _backends_waiting_for(wait_event: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND wait_event = %s",
            [wait_event],
        )
        return cursor.fetchone()[0]


def _book_while_another_is_uncommitted(calendar, second_start):
    """Book 10:00-11:00 (blocked to 11:15) and keep that transaction open while a second
    client books ``second_start`` with the same practitioner and room. Returns how many
    backends were seen waiting on a calendar lock, whether the second finished while the
    first was still uncommitted, and each outcome."""
    location, room, service, practitioner, start, clients = calendar
    first_written, release_first = threading.Event(), threading.Event()
    outcomes = {}

    def first():
        try:
            with transaction.atomic():
                services.appointment_book(
                    client=clients[0], service=service, location=location, start_at=start
                )
                first_written.set()
                release_first.wait(timeout=20)
            outcomes["first"] = "booked"
        finally:
            connection.close()

    def second():
        try:
            services.appointment_book(
                client=clients[1], service=service, location=location, start_at=second_start
            )
            outcomes["second"] = "booked"
        except SlotTaken:
            outcomes["second"] = "taken"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        first_done = pool.submit(first)
        assert first_written.wait(timeout=20)
        second_done = pool.submit(second)
        deadline = time_module.monotonic() + 10
        while (
            not second_done.done()
            and _backends_waiting_for("advisory") == 0
            and time_module.monotonic() < deadline
        ):
            time_module.sleep(0.05)
        queued_on_lock = _backends_waiting_for("advisory")
        finished_first = second_done.done()
        release_first.set()
        first_done.result(timeout=20)
        second_done.result(timeout=20)
    return queued_on_lock, finished_first, outcomes


def test_a_second_writer_queues_on_the_calendar_lock_before_it_writes(calendar):
    """Deterministic half of the race above: while one booking of a practitioner is uncommitted,
    a second one waits on the calendar lock (not inside the exclusion check, where two such
    waiters deadlock), then sees the committed winner and gets SlotTaken."""
    queued_on_lock, finished_first, outcomes = _book_while_another_is_uncommitted(
        calendar, calendar[4]
    )
    assert (queued_on_lock, finished_first) == (1, False)
    assert outcomes == {"first": "booked", "second": "taken"}
    assert Appointment.objects.filter(status="booked").count() == 1


def test_a_booking_of_the_same_practitioner_hours_later_does_not_wait_for_an_uncommitted_one(
    calendar,
):
    """The calendar locks cover an hour each: a booking at 14:00 goes ahead while one at 10:00
    of the same practitioner and room is still uncommitted (one lock per practitioner made it
    wait for that commit)."""
    queued_on_lock, finished_first, outcomes = _book_while_another_is_uncommitted(
        calendar, calendar[4] + timedelta(hours=4)
    )
    assert (queued_on_lock, finished_first) == (0, True)
    assert outcomes == {"first": "booked", "second": "booked"}


def test_a_booking_that_collides_only_in_the_next_hour_still_queues_and_is_refused(calendar):
    """10:00-11:00 blocks until 11:15 (its buffer): a booking at 11:00 overlaps it in the 11:00
    hour only, waits there for the first to commit, then gets SlotTaken, not a deadlock."""
    queued_on_lock, finished_first, outcomes = _book_while_another_is_uncommitted(
        calendar, calendar[4] + timedelta(hours=1)
    )
    assert (queued_on_lock, finished_first) == (1, False)
    assert outcomes == {"first": "booked", "second": "taken"}


def _raw_row(service, location, practitioner, room, start, client):
    return Appointment(
        client=client,
        service=service,
        location=location,
        practitioner=practitioner,
        room=room,
        start_at=start,
        end_at=start + timedelta(hours=1),
        blocked_start_at=start,
        blocked_end_at=start + timedelta(hours=1, minutes=15),
        status="booked",
    )


def test_the_database_refuses_overlapping_rows_for_a_practitioner_or_a_room(calendar):
    location, room, service, practitioner, start, clients = calendar
    _raw_row(service, location, practitioner, room, start, clients[0]).save()
    with (
        pytest.raises(IntegrityError, match="appointment_no_practitioner_overlap"),
        transaction.atomic(),
    ):
        _raw_row(
            service, location, practitioner, None, start + timedelta(minutes=70), clients[1]
        ).save()
    other = factories.PractitionerFactory()
    with pytest.raises(IntegrityError, match="appointment_no_room_overlap"), transaction.atomic():
        _raw_row(service, location, other, room, start + timedelta(minutes=30), clients[1]).save()
    # Touching intervals are fine, and cancelled rows never block.
    _raw_row(
        service, location, practitioner, room, start + timedelta(minutes=75), clients[2]
    ).save()
    cancelled = _raw_row(service, location, practitioner, room, start, clients[3])
    cancelled.status = "cancelled"
    cancelled.save()
