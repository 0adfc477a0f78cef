"""One client, one place on PostgreSQL: the exclusion constraint, not luck, decides a race
between two bookings of the same client with different practitioners."""

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
from clinic.errors import ClientBusy
from tests import factories

LONDON = ZoneInfo("Europe/London")
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CONTENDERS = 4


@pytest.fixture
def two_calendars():
    location = factories.LocationFactory()
    service = factories.ServiceFactory(duration_minutes=60, buffer_after_minutes=15)
    day = timezone.localdate(timezone.now(), LONDON) + timedelta(days=3)
    practitioners = []
    for _ in range(CONTENDERS):
        room = factories.RoomFactory(location=location)
        service.rooms.add(room)
        practitioner = factories.PractitionerFactory()
        practitioner.locations.add(location)
        practitioner.services.add(service)
        factories.WorkingHoursFactory(
            practitioner=practitioner, location=location, weekday=day.weekday()
        )
        practitioners.append(practitioner)
    start = datetime.combine(day, time(10), tzinfo=LONDON)
    return location, service, practitioners, start, factories.ClientFactory()


def test_the_database_refuses_overlapping_visits_of_one_client(two_calendars):
    location, service, practitioners, start, client = two_calendars
    factories.AppointmentFactory(
        client=client,
        service=service,
        location=location,
        practitioner=practitioners[0],
        start_at=start,
    )

    with pytest.raises(IntegrityError, match="appointment_no_client_overlap"), transaction.atomic():
        factories.AppointmentFactory(
            client=client,
            service=service,
            location=location,
            practitioner=practitioners[1],
            start_at=start + timedelta(minutes=30),
        )
    # Back to back is fine: buffers are the practitioner's and room's, not the client's.
    factories.AppointmentFactory(
        client=client,
        service=service,
        location=location,
        practitioner=practitioners[1],
        start_at=start + timedelta(hours=1),
    )


def test_concurrent_bookings_of_one_client_with_different_practitioners_have_one_winner(
    two_calendars, monkeypatch
):
    location, service, practitioners, start, client = two_calendars
    rooms = list(service.rooms.order_by("pk"))
    # As if every contender's in-Python check had passed before anyone wrote: only the
    # constraint can stop the losers (the calendar lock queues them so none deadlocks).
    monkeypatch.setattr(appointment_services, "_client_busy", lambda appointment: None)
    everyone_ready = threading.Barrier(CONTENDERS, timeout=20)

    def attempt(practitioner, room):
        everyone_ready.wait()
        try:
            services.appointment_book(
                client=client,
                service=service,
                location=location,
                start_at=start,
                practitioner=practitioner,
                room=room,
            )
            return "booked"
        except ClientBusy:
            return "busy"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=CONTENDERS) as pool:
        outcomes = list(pool.map(attempt, practitioners, rooms))

    assert sorted(outcomes) == ["booked"] + ["busy"] * (CONTENDERS - 1)
    assert Appointment.objects.filter(client=client, status="booked").count() == 1
