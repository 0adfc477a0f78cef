"""The manage link (/b/<token>/): see, add to calendar, reschedule, cancel, first treatment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils.html import escape

from bookings.models import Appointment
from bookings.services import appointment_book, client_register
from bookings.tokens import manage_token_for
from clinic.care import CARE_INSTRUCTIONS

pytestmark = pytest.mark.django_db

TUESDAY_TEN = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # London is on GMT in early March


@pytest.fixture
def maya(location, frozen_monday):
    return client_register(
        first_name="Maya", last_name="Okafor", phone="07911 123456", sms_consent=True
    )


@pytest.fixture
def consultation(maya, practitioner, location, consultation_service):
    return appointment_book(
        client=maya, service=consultation_service, location=location, start_at=TUESDAY_TEN
    )


def url(name, appointment, query=""):
    return reverse(name, args=[manage_token_for(appointment)]) + query


def test_the_manage_page_shows_what_when_where_and_the_change_deadline(
    client, consultation, location
):
    page = client.get(url("site-manage", consultation)).content.decode()

    assert "Skin consultation" in page
    assert "Tuesday 3 March 2026, 10:00" in page
    assert location.address in page
    assert "Change time" in page
    assert "until Monday 2 March, 10:00" in page
    assert "health questionnaire" in page  # screening not submitted yet
    assert "Maya" not in page or "Okafor" not in page  # the link shows no personal details


def test_the_confirmation_page_has_calendar_links_prep_and_the_manage_link(client, consultation):
    page = client.get(url("site-confirmed", consultation)).content.decode()

    assert "You're booked, Maya" in page
    assert url("site-calendar", consultation) in page
    assert "calendar.google.com/calendar/render?action=TEMPLATE" in page
    assert "dates=20260303T100000Z%2F20260303T103000Z" in page
    assert url("site-manage", consultation) in page
    assert "Bring a list of any medicines" in page


def test_the_ics_download_describes_the_visit_without_health_details(client, consultation):
    response = client.get(url("site-calendar", consultation))

    body = response.content.decode()
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    assert "DTSTART:20260303T100000Z" in body
    assert "SUMMARY:Skin consultation at" in body
    assert "/b/" in body


def test_a_tampered_link_is_404_and_explains_how_to_get_a_new_one(client, consultation):
    token = manage_token_for(consultation)

    response = client.get(reverse("site-manage", args=[token[:-3] + "xyz"]))

    assert response.status_code == 404
    page = response.content.decode()
    assert "This link doesn't work" in page
    assert "How to get a new link" in page


def test_an_expired_link_is_410_and_says_so(client, consultation, frozen_monday):
    token = manage_token_for(consultation)
    frozen_monday.shift(timedelta(days=3))

    response = client.get(reverse("site-manage", args=[token]))

    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()


def test_a_link_never_opens_another_appointment(client, consultation):
    forged = signing.dumps({"a": consultation.pk, "e": 4102444800}, salt="not.the.manage.salt")

    assert client.get(reverse("site-manage", args=[forged])).status_code == 404


def test_the_reschedule_page_offers_times_and_moving_bumps_the_version(
    client, consultation, frozen_monday
):
    page = client.get(url("site-reschedule", consultation, "?day=2026-03-04")).content.decode()
    new_start = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)

    response = client.post(url("site-reschedule", consultation), {"start": new_start.isoformat()})

    assert 'value="2026-03-04T11:00:00+00:00"' in page
    assert response.status_code == 302
    assert response["Location"].endswith("?changed=1")
    consultation.refresh_from_db()
    assert consultation.start_at == new_start
    assert consultation.version == 2
    done = client.get(response["Location"]).content.decode()
    assert "your booking has moved to Wednesday 4 March at 11:00" in done


def test_rescheduling_to_a_taken_time_offers_the_nearest_free_ones(
    client, consultation, practitioner, location, consultation_service
):
    other = client_register(first_name="Noah", phone="07400 123456", sms_consent=False)
    taken = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)
    appointment_book(client=other, service=consultation_service, location=location, start_at=taken)

    response = client.post(url("site-reschedule", consultation), {"start": taken.isoformat()})

    assert response.status_code == 409
    assert "That time was just booked" in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.start_at == TUESDAY_TEN


def test_cancelling_asks_first_then_frees_the_slot(client, consultation):
    confirm_page = client.get(url("site-cancel", consultation)).content.decode()

    response = client.post(url("site-cancel", consultation))

    assert "Cancel this booking?" in confirm_page
    assert "Keep my booking" in confirm_page
    assert response["Location"].endswith("?cancelled=1")
    consultation.refresh_from_db()
    assert consultation.status == Appointment.Status.CANCELLED
    assert consultation.events.last().actor_label == "client"
    assert "Your booking is cancelled" in client.get(response["Location"]).content.decode()


def test_after_the_cutoff_the_page_shows_the_clinic_phone_instead_of_changes(
    client, consultation, location, frozen_monday
):
    frozen_monday.move_to(TUESDAY_TEN - timedelta(hours=23))

    page = client.get(url("site-manage", consultation)).content.decode()
    cancel = client.post(url("site-cancel", consultation))
    move = client.post(
        url("site-reschedule", consultation),
        {"start": datetime(2026, 3, 4, 11, 0, tzinfo=UTC).isoformat()},
    )

    assert "Change time" not in page
    assert location.phone in page
    assert cancel.status_code == 409
    assert location.phone in cancel.content.decode()
    assert move.status_code == 409
    consultation.refresh_from_db()
    assert consultation.status == Appointment.Status.BOOKED
    assert consultation.start_at == TUESDAY_TEN


def test_a_first_treatment_can_be_held_from_a_day_after_the_consultation(
    client, consultation, treatment_service
):
    page = client.get(url("site-first-treatment", consultation)).content.decode()
    too_soon = datetime(2026, 3, 3, 14, 0, tzinfo=UTC)
    next_day = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)

    assert 'value="2026-03-03T' not in page  # nothing on the consultation day itself
    assert 'value="2026-03-04T11:00:00+00:00"' in page
    refused = client.post(
        url("site-first-treatment", consultation), {"start": too_soon.isoformat()}
    )
    response = client.post(
        url("site-first-treatment", consultation), {"start": next_day.isoformat()}
    )

    assert refused.status_code == 422
    treatment = Appointment.objects.get(service=treatment_service, status="pending_clearance")
    assert treatment.awaiting_consultation == consultation
    assert response["Location"] == url("site-confirmed", treatment)
    confirmed = client.get(response["Location"]).content.decode()
    assert "Your first treatment is held" in confirmed
    manage = client.get(url("site-manage", consultation)).content.decode()
    assert "held for Wednesday 4 March at 11:00" in manage


def test_a_cancelled_booking_cannot_be_moved_online(client, consultation):
    client.post(url("site-cancel", consultation))

    response = client.get(url("site-reschedule", consultation))

    assert response.status_code == 409
    assert "can no longer be changed online" in response.content.decode()


def test_a_treatment_link_offers_no_first_treatment_hold(
    client, maya, practitioner, location, treatment_service, consultation
):
    tentative = appointment_book(
        client=maya,
        service=treatment_service,
        location=location,
        start_at=datetime(2026, 3, 5, 10, 0, tzinfo=UTC),
        awaiting_consultation=consultation,
    )

    response = client.get(url("site-first-treatment", tentative))

    assert response.status_code == 302
    assert response["Location"] == url("site-manage", tentative)


def test_the_manage_page_prepares_with_the_same_text_as_the_care_page(client, consultation):
    page = client.get(url("site-manage", consultation)).content.decode()

    for line in CARE_INSTRUCTIONS["consultation"]["Before you come"]:
        assert escape(line) in page
