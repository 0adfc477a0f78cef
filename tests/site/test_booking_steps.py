"""Booking-site steps that must land in the right place whatever the client does: a double
tap, the back button, a refresh, a lapsed hold, a changed number; and a treatment for a client
whose consultation is still to come is held for it, not refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings.models import Appointment
from bookings.services import appointment_book, client_register
from tests.site.conftest import PHONE
from tests.site.test_booking_site import TEN_LONDON, details, hold

pytestmark = pytest.mark.django_db


def test_a_client_with_a_consultation_booked_has_the_treatment_held_pending_clearance(
    client,
    practitioner,
    location,
    consultation_service,
    treatment_service,
    frozen_monday,
    sent_codes,
):
    maya = client_register(first_name="Maya", last_name="Okafor", phone=PHONE, sms_consent=True)
    consultation = appointment_book(
        client=maya, service=consultation_service, location=location, start_at=TEN_LONDON
    )
    two_days_later = TEN_LONDON + timedelta(days=2)

    hold(client, location, treatment_service, two_days_later)
    details(client)
    response = client.post(reverse("site-verify"), {"code": sent_codes[-1]["code"]})

    assert response.status_code == 302
    assert "/confirmed/" in response["Location"]
    treatment = Appointment.objects.get(service=treatment_service)
    assert treatment.status == Appointment.Status.PENDING_CLEARANCE
    assert treatment.awaiting_consultation == consultation


def test_a_double_tap_on_continue_sends_one_code_and_both_land_on_the_code_page(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)

    first = details(client)
    second = details(client)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("site-verify")
    assert len(sent_codes) == 1


def test_a_second_submit_racing_the_first_still_reaches_the_code_page(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    from bookings.services.verification import verification_requester_for, verification_start

    hold(client, location, consultation_service)
    # The first tap's request sent the code (for this browser) but its session was not saved.
    verification_start(
        phone=PHONE,
        ip="127.0.0.1",
        location=location,
        requester=verification_requester_for(session_key=client.session.session_key),
    )

    response = details(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("site-verify")
    assert len(sent_codes) == 1
    code_page = client.get(reverse("site-verify"))
    assert "Check your phone" in code_page.content.decode()


def test_going_back_to_the_details_keeps_what_was_typed_and_offers_the_code_page(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)
    details(client, first_name="Maya", last_name="Okafor")

    page = client.get(reverse("site-details")).content.decode()

    assert 'value="Maya"' in page
    assert 'value="Okafor"' in page
    assert reverse("site-verify") in page
    assert "Enter the code" in page


def test_change_number_keeps_the_name_and_a_new_number_gets_a_new_code(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)
    details(client)
    frozen_monday.shift(timedelta(seconds=61))

    page = client.get(reverse("site-details")).content.decode()
    assert 'value="Maya"' in page
    response = details(client, phone="07911 123457")

    assert response["Location"] == reverse("site-verify")
    assert [sent["phone"] for sent in sent_codes] == [PHONE, "+447911123457"]


def test_after_a_lapse_the_next_time_keeps_the_typed_details(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)
    details(client, first_name="Maya", last_name="Okafor", email="maya@example.test")
    frozen_monday.shift(timedelta(minutes=11))
    assert client.get(reverse("site-details")).status_code == 410

    hold(client, location, consultation_service, TEN_LONDON + timedelta(minutes=30))
    page = client.get(reverse("site-details")).content.decode()

    assert 'value="Maya"' in page
    assert 'value="maya@example.test"' in page


def test_refreshing_the_code_page_after_booking_goes_to_the_start_not_an_error(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)
    details(client)
    booked = client.post(reverse("site-verify"), {"code": sent_codes[-1]["code"]})
    assert booked.status_code == 302

    again = client.post(reverse("site-verify"), {"code": sent_codes[-1]["code"]})

    assert again.status_code == 302
    assert again["Location"] == booked["Location"]
