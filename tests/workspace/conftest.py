"""A frozen London winter week, a second practitioner (so "own calendar only" can be tested),
and logged-in test clients per role."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client as HttpClient

from bookings import services
from bookings.models import Appointment
from clinic import roles
from tests import factories
from tests.conftest import _staff

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=LONDON)  # a Tuesday, before opening
TUESDAY = date(2026, 12, 1)
WEDNESDAY = date(2026, 12, 2)


def at(hour: int, minute: int = 0, day: date = WEDNESDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def colleague_user(db):
    return _staff("cara_colleague", roles.PRACTITIONER)


@pytest.fixture
def colleague(location, colleague_user, consultation_service, treatment_service):
    """A second practitioner, Monday to Friday 09:00–17:00, at the same location."""
    practitioner = factories.PractitionerFactory(user=colleague_user, display_name="Cara Ng")
    practitioner.locations.add(location)
    practitioner.services.add(consultation_service, treatment_service)
    for weekday in range(5):
        factories.WorkingHoursFactory(practitioner=practitioner, location=location, weekday=weekday)
    return practitioner


def _logged_in(user) -> HttpClient:
    browser = HttpClient()
    browser.force_login(user)
    return browser


@pytest.fixture
def as_reception(reception):
    return _logged_in(reception)


@pytest.fixture
def as_practitioner(practitioner_user, practitioner):
    return _logged_in(practitioner_user)


@pytest.fixture
def as_manager(manager):
    return _logged_in(manager)


@pytest.fixture
def as_stranger(stranger):
    return _logged_in(stranger)


@pytest.fixture
def consultation(client_person, consultation_service, location, practitioner) -> Appointment:
    """A booked consultation on Wednesday 10:00 with Pat (through the booking service)."""
    return services.appointment_book(
        client=client_person,
        service=consultation_service,
        location=location,
        start_at=at(10),
        practitioner=practitioner,
    )


@pytest.fixture
def colleagues_consultation(consultation_service, location, colleague) -> Appointment:
    return services.appointment_book(
        client=factories.ClientFactory(first_name="Olive"),
        service=consultation_service,
        location=location,
        start_at=at(11),
        practitioner=colleague,
    )
