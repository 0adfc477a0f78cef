from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.courses import earlier_sessions, is_later_session
from bookings.models import Appointment
from tests import factories

pytestmark = pytest.mark.django_db
Status = Appointment.Status


def test_a_later_session_is_one_with_a_booked_or_done_session_of_the_course_before_it():
    client = factories.ClientFactory()
    service = factories.ServiceFactory()
    start = timezone.now() + timedelta(days=10)

    def session(days: int, status: str = Status.BOOKED, **kwargs) -> Appointment:
        return factories.AppointmentFactory(
            client=kwargs.get("client", client),
            service=kwargs.get("service", service),
            start_at=start + timedelta(days=days),
            status=status,
        )

    first = session(0)
    # Its own row, a cancelled one before it, another service's, another client's: not earlier.
    session(-3, Status.CANCELLED)
    session(-2, service=factories.ServiceFactory())
    session(-1, client=factories.ClientFactory())
    second = session(7)
    unsaved = Appointment(client=client, service=service, start_at=start + timedelta(days=1))
    held = Appointment(client=None, service=service, start_at=start + timedelta(days=1))
    session(-30, Status.COMPLETED, client=(returning := factories.ClientFactory()))
    comeback = session(0, client=returning)
    cases = [(first, False), (second, True), (unsaved, True), (held, False), (comeback, True)]
    for appointment, expected in cases:
        assert is_later_session(appointment=appointment) is expected
        assert earlier_sessions(appointment=appointment).exists() is expected
