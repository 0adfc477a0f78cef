"""A frozen clock on a London winter Tuesday morning, a practitioner working weekdays 09–17,
and helpers that arrange waitlists the way the product does (through the services)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bookings import services
from bookings.models import Appointment, Client
from bookings.services.consultations import consultation_record_outcome
from tests import factories
from waitlist.models import WaitlistEntry
from waitlist.services import waitlist_join

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=LONDON)  # Tuesday 10:00, outside quiet hours
WEDNESDAY = date(2026, 12, 2)
MONDAY = date(2026, 12, 7)


def at(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def cleared_client(
    clock, location, practitioner, practitioner_user, consultation_service, treatment_service
):
    """A client who had a consultation on Wednesday and was cleared for the treatment; the
    clock is back on Tuesday morning afterwards."""
    made = iter(range(9, 17))

    def make(**client_fields) -> Client:
        client = factories.ClientFactory(**client_fields)
        consultation = services.appointment_book(
            client=client,
            service=consultation_service,
            location=location,
            start_at=at(next(made), day=WEDNESDAY),
        )
        with time_machine.travel(consultation.start_at, tick=False):
            consultation_record_outcome(
                consultation=consultation.consultation,
                actor=practitioner_user,
                outcome="cleared",
                services=[treatment_service],
                screened_in_person=True,
            )
        return client

    return make


@pytest.fixture
def join(location, treatment_service):
    def make(
        client: Client, *, windows=((MONDAY, "morning"),), service=None, **kwargs
    ) -> WaitlistEntry:
        return waitlist_join(
            client=client,
            service=service or treatment_service,
            location=location,
            windows=list(windows),
            **kwargs,
        )

    return make


@pytest.fixture
def booked_treatment(cleared_client, location, treatment_service, practitioner):
    """Monday 10:00 treatment booked by another cleared client (the one who will cancel)."""

    def make(start_at: datetime | None = None) -> Appointment:
        return services.appointment_book(
            client=cleared_client(first_name="Bea"),
            service=treatment_service,
            location=location,
            start_at=start_at or at(10),
        )

    return make
