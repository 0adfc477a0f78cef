"""The booking site obeys the same eligibility as the API and the services: a treatment booked
through the site's form is refused without a valid clearance, and the held time is released."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from bookings.models import Appointment
from bookings.signals import phone_verification_requested
from tests import factories
from tests.consultations.conftest import at

pytestmark = pytest.mark.django_db

PHONE = "+447911123456"


@pytest.fixture
def sent_codes():
    codes: list[str] = []

    def receiver(sender, phone, code, location, **kwargs):
        codes.append(code)

    phone_verification_requested.connect(receiver, weak=False)
    yield codes
    phone_verification_requested.disconnect(receiver)


def book_on_the_site(client, location, service, sent_codes):
    held = client.post(
        reverse("site-hold", args=[location.slug, service.slug]), {"start": at(10).isoformat()}
    )
    assert held.status_code == 302
    given = client.post(
        reverse("site-details"),
        {
            "first_name": "Maya",
            "last_name": "Okafor",
            "phone": "07911 123456",
            "sms_consent": "on",
            "policy_accepted": "on",
        },
    )
    assert given.status_code == 302
    return client.post(reverse("site-verify"), {"code": sent_codes[-1]})


@pytest.fixture
def maya(db):
    return factories.ClientFactory(first_name="Maya", last_name="Okafor", phone=PHONE)


def test_the_site_refuses_a_treatment_when_the_clearance_has_expired(
    client, location, treatment_service, book_consultation, clear, maya, sent_codes
):
    clear(book_consultation(maya), valid_until=date(2026, 12, 5))
    response = book_on_the_site(client, location, treatment_service, sent_codes)
    assert response.status_code == 409
    treatment = Appointment.objects.get(service=treatment_service)
    assert treatment.status == Appointment.Status.CANCELLED
    assert "clearance_expired" in treatment.cancellation_reason


def test_the_site_refuses_a_treatment_after_a_not_suitable_outcome(
    client, location, treatment_service, book_consultation, clear, maya, sent_codes
):
    clear(book_consultation(maya), outcome="not_suitable")
    response = book_on_the_site(client, location, treatment_service, sent_codes)
    assert response.status_code == 409
    assert not Appointment.objects.filter(
        service=treatment_service, status__in=["booked", "confirmed"]
    ).exists()


def test_the_site_books_a_treatment_for_a_cleared_client(
    client, location, treatment_service, book_consultation, clear, maya, sent_codes
):
    clear(book_consultation(maya))
    response = book_on_the_site(client, location, treatment_service, sent_codes)
    assert response.status_code == 302
    treatment = Appointment.objects.get(service=treatment_service)
    assert (treatment.status, treatment.client) == (Appointment.Status.BOOKED, maya)
