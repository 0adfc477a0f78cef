"""Online, a client who already has a consultation coming up is shown it (with its manage link)
instead of booking a second one; staff may book a second deliberately; and a client is never
booked into two places at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings import services
from bookings.models import Appointment
from bookings.tokens import manage_token_for
from clinic.errors import ConsultationAlreadyBooked
from tests import factories
from tests.site.conftest import PHONE
from tests.site.test_booking_site import TEN_LONDON, book_through_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked_consultation(location, consultation_service, practitioner, frozen_monday):
    client_person = factories.ClientFactory(phone=PHONE, first_name="Maya")
    return factories.AppointmentFactory(
        client=client_person,
        service=consultation_service,
        practitioner=practitioner,
        location=location,
        start_at=TEN_LONDON + timedelta(days=1),
    )


def test_a_client_with_a_consultation_booked_is_shown_it_instead_of_booking_another(
    client, location, consultation_service, booked_consultation, sent_codes
):
    response = book_through_code(client, location, consultation_service, sent_codes)

    assert response.status_code == 409
    page = response.content.decode()
    assert "You already have a consultation booked" in page
    assert reverse("site-manage", args=[manage_token_for(booked_consultation)]) in page
    # The held time is free again for others; nothing else was booked.
    assert (
        not Appointment.objects.exclude(pk=booked_consultation.pk)
        .filter(status__in=["held", "booked"])
        .exists()
    )


def test_the_booking_service_refuses_a_second_consultation_online_naming_the_first(
    client_person, location, consultation_service, practitioner, frozen_monday
):
    first = factories.AppointmentFactory(
        client=client_person,
        service=consultation_service,
        practitioner=practitioner,
        location=location,
        start_at=TEN_LONDON + timedelta(days=1),
    )

    with pytest.raises(ConsultationAlreadyBooked) as refused:
        services.appointment_book(
            client=client_person,
            service=consultation_service,
            location=location,
            start_at=TEN_LONDON + timedelta(days=2),
        )

    assert refused.value.status == 409
    assert refused.value.extra["appointment_id"] == first.pk


def test_staff_may_book_a_second_consultation_deliberately(
    client_person, location, consultation_service, practitioner, reception, frozen_monday
):
    factories.AppointmentFactory(
        client=client_person,
        service=consultation_service,
        practitioner=practitioner,
        location=location,
        start_at=TEN_LONDON + timedelta(days=1),
    )

    second = services.appointment_book(
        client=client_person,
        service=consultation_service,
        location=location,
        start_at=TEN_LONDON + timedelta(days=2),
        actor=reception,
        channel=Appointment.Channel.STAFF,
    )

    assert second.status == Appointment.Status.BOOKED


def test_a_past_or_cancelled_consultation_does_not_stop_a_new_one(
    client_person, location, consultation_service, practitioner, frozen_monday
):
    factories.AppointmentFactory(
        client=client_person,
        service=consultation_service,
        practitioner=practitioner,
        location=location,
        start_at=TEN_LONDON + timedelta(days=1),
        status=Appointment.Status.CANCELLED,
    )

    services.appointment_book(
        client=client_person,
        service=consultation_service,
        location=location,
        start_at=TEN_LONDON + timedelta(days=2),
    )
