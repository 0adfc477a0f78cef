"""A frozen clock in a London winter week and helpers to book and assess consultations the way
the product does it (through the services, never raw rows)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from bookings import services
from bookings.models import Appointment, Consultation
from bookings.services.consultations import consultation_record_outcome

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=LONDON)  # a Tuesday
WEDNESDAY = date(2026, 12, 2)
MONDAY = date(2026, 12, 7)


def at(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def book_consultation(consultation_service, location, practitioner):
    def book(client, start_at: datetime | None = None) -> Appointment:
        return services.appointment_book(
            client=client,
            service=consultation_service,
            location=location,
            start_at=start_at or at(10, day=WEDNESDAY),
        )

    return book


@pytest.fixture
def clear(practitioner_user, treatment_service):
    """Record an outcome as the practitioner does: at the consultation (an outcome cannot be
    recorded before its start), having asked the health questions in person when the client
    did not answer them online."""

    def record(appointment: Appointment, *, outcome: str = "cleared", **kwargs) -> Consultation:
        kwargs.setdefault("services", [treatment_service] if outcome == "cleared" else [])
        kwargs.setdefault("screened_in_person", True)
        during_the_consultation = max(timezone.now(), appointment.start_at)
        with time_machine.travel(during_the_consultation, tick=False):
            return consultation_record_outcome(
                consultation=appointment.consultation,
                actor=kwargs.pop("actor", practitioner_user),
                outcome=outcome,
                **kwargs,
            )

    return record


@pytest.fixture
def book_treatment(treatment_service, location, practitioner):
    def book(client, start_at: datetime, **kwargs) -> Appointment:
        return services.appointment_book(
            client=client,
            service=treatment_service,
            location=location,
            start_at=start_at,
            **kwargs,
        )

    return book
