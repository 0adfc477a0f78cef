from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookings import signals
from bookings.models import Appointment
from reminders.backends import locmem, reset_backends
from reminders.ratelimit import reset_rate_limiter
from tests import factories


@pytest.fixture(autouse=True)
def _clean_sms_state(settings):
    settings.SMS_RATE_PER_SECOND = 0
    settings.REDIS_URL = ""
    locmem.reset()
    reset_backends()
    reset_rate_limiter()
    yield
    locmem.reset()
    reset_backends()


@pytest.fixture
def book(location, treatment_service, practitioner, client_person):
    """Write an appointment row and announce it as booked, like bookings.services does."""

    def _book(
        *,
        start_at: datetime,
        service=None,
        client=None,
        status: str = Appointment.Status.BOOKED,
        send: bool = True,
    ) -> Appointment:
        service = service or treatment_service
        appointment = factories.AppointmentFactory(
            client=client or client_person,
            service=service,
            practitioner=practitioner,
            location=location,
            start_at=start_at,
            status=status,
        )
        if send:
            signals.appointment_booked.send(
                sender=Appointment, appointment=appointment, actor_label="client"
            )
        return appointment

    return _book


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def days(n: float) -> timedelta:
    return timedelta(days=n)
