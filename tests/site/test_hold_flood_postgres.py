"""A flood of concurrent holds from one address on PostgreSQL: the per-address lock, not luck,
keeps it within the budget."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from bookings import services
from bookings.models import Appointment
from bookings.services.appointments import HoldLimitReached
from tests import factories

LONDON = ZoneInfo("Europe/London")
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CONTENDERS = 12


@pytest.fixture
def calendar():
    location = factories.LocationFactory()
    service = factories.ServiceFactory(kind="consultation", duration_minutes=30)
    practitioner = factories.PractitionerFactory()
    practitioner.locations.add(location)
    practitioner.services.add(service)
    day = timezone.localdate(timezone.now(), LONDON) + timedelta(days=3)
    factories.WorkingHoursFactory(
        practitioner=practitioner, location=location, weekday=day.weekday()
    )
    start = datetime.combine(day, time(10), tzinfo=LONDON)
    return location, service, start


def test_concurrent_holds_from_one_address_take_no_more_than_the_live_budget(calendar):
    location, service, start = calendar
    all_ready = threading.Barrier(CONTENDERS, timeout=20)

    def attempt(n: int) -> str:
        try:
            all_ready.wait()
            services.appointment_hold(
                service=service,
                location=location,
                start_at=start + timedelta(minutes=30 * n),
                ip="203.0.113.7",
                browser=f"browser-{n}",
            )
            return "held"
        except HoldLimitReached:
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=CONTENDERS) as pool:
        outcomes = list(pool.map(attempt, range(CONTENDERS)))

    assert outcomes.count("held") == settings.HOLD_LIVE_LIMIT, outcomes
    assert outcomes.count("refused") == CONTENDERS - settings.HOLD_LIVE_LIMIT
    assert Appointment.objects.filter(status="held", held_from_ip="203.0.113.7").count() == 2
