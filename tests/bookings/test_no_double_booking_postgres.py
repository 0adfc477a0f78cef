"""No double booking on PostgreSQL: the exclusion constraints, not luck, decide the race."""

from __future__ import annotations

import threading
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
    clients = [factories.ClientFactory() for _ in range(CONTENDERS)]
    return location, room, service, practitioner, start, clients


def test_concurrent_bookings_of_one_slot_have_exactly_one_winner(calendar, monkeypatch):
    location, room, service, practitioner, start, clients = calendar
    # Every contender passes the in-Python availability check before anyone inserts, so only
    # the database constraint can stop the losers (the test fails if it is dropped).
    everyone_checked = threading.Barrier(CONTENDERS, timeout=20)
    original_find_slot = appointment_services._find_slot

    def find_slot_then_wait(**kwargs):
        slot = original_find_slot(**kwargs)
        everyone_checked.wait()
        return slot

    monkeypatch.setattr(appointment_services, "_find_slot", find_slot_then_wait)

    def attempt(client):
        try:
            services.appointment_book(
                client=client, service=service, location=location, start_at=start
            )
            return "booked"
        except SlotTaken:
            return "taken"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=CONTENDERS) as pool:
        outcomes = list(pool.map(attempt, clients))

    assert outcomes.count("booked") == 1
    assert outcomes.count("taken") == CONTENDERS - 1
    assert Appointment.objects.filter(status="booked").count() == 1


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
