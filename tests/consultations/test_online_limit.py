"""A client booking for themselves may hold only the clinic's limit of upcoming online bookings
for one treatment; staff may book beyond it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings.models import Appointment
from clinic.errors import NotEligible
from tests.consultations.conftest import WEDNESDAY, at

pytestmark = pytest.mark.django_db


def test_a_cleared_client_may_hold_only_the_clinics_limit_of_upcoming_online_treatments(
    location, book_consultation, clear, book_treatment, client_person, reception, clock
):
    location.online_upcoming_treatments_limit = 1
    location.save(update_fields=["online_upcoming_treatments_limit"])
    clear(book_consultation(client_person))
    first_session = at(10, day=WEDNESDAY + timedelta(days=7))
    second_session = at(10, day=WEDNESDAY + timedelta(days=7 + 28))

    assert book_treatment(client_person, first_session).status == Appointment.Status.BOOKED
    with pytest.raises(NotEligible, match="call the clinic") as refused:
        book_treatment(client_person, second_session)
    assert refused.value.code == "upcoming_limit"

    by_staff = book_treatment(
        client_person, second_session, actor=reception, channel=Appointment.Channel.STAFF
    )
    assert by_staff.status == Appointment.Status.BOOKED
