"""The booking site, step by step: each page and each error path through the Django client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client as HttpClient
from django.urls import reverse

from bookings.models import Appointment, Client
from bookings.services import appointment_book, client_register
from bookings.tokens import manage_token_for
from tests import factories
from tests.site.conftest import MONDAY, PHONE

pytestmark = pytest.mark.django_db

TEN_LONDON = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 10:00 in London in March (GMT)


def times_url(location, service, **query):
    url = reverse("site-times", args=[location.slug, service.slug])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def hold(client, location, service, start_at=TEN_LONDON):
    return client.post(
        reverse("site-hold", args=[location.slug, service.slug]),
        {"start": start_at.isoformat()},
    )


def details(client, **overrides):
    data = {
        "first_name": "Maya",
        "last_name": "Okafor",
        "phone": "07911 123456",
        "email": "maya@example.test",
        "sms_consent": "on",
        "policy_accepted": "on",
        **overrides,
    }
    return client.post(reverse("site-details"), data)


def book_through_code(client, location, service, sent_codes, start_at=TEN_LONDON):
    assert hold(client, location, service, start_at).status_code == 302
    assert details(client).status_code == 302
    return client.post(reverse("site-verify"), {"code": sent_codes[-1]["code"]})


def test_the_start_page_lists_the_online_treatments_with_duration_and_price(
    client, practitioner, location, consultation_service, treatment_service, frozen_monday
):
    response = client.get(reverse("site-book"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Skin consultation" in page
    assert "Micro-needling – face" in page
    assert "60 minutes" in page
    assert "£150" in page
    assert "Consultation first" in page
    assert location.name in page
    assert f"--brand: {location.brand_colour}" in page


def test_a_second_location_asks_the_client_to_choose_a_clinic_first(
    client, practitioner, location, frozen_monday
):
    other = factories.LocationFactory(name="Bath Clinic")
    practitioner.locations.add(other)

    page = client.get(reverse("site-book")).content.decode()

    assert "Choose a clinic" in page
    assert "Bath Clinic" in page
    assert "Choose a treatment" not in page
    chosen = client.get(reverse("site-book") + f"?location={other.slug}").content.decode()
    assert "Choose a treatment" in chosen


def test_a_treatment_needing_a_consultation_asks_about_a_recent_one(
    client, practitioner, location, treatment_service, frozen_monday
):
    response = client.get(times_url(location, treatment_service))

    assert "Have you had a consultation with us in the last 6 months?" in response.content.decode()
    assert "Choose a time" not in response.content.decode()


def test_answering_no_leads_to_booking_the_consultation_first(
    client, practitioner, location, treatment_service, consultation_service, frozen_monday
):
    response = client.get(times_url(location, treatment_service, consulted="no"))

    page = response.content.decode()
    assert "Let's start with a consultation" in page
    assert times_url(location, consultation_service) + f"?then={treatment_service.slug}" in page


def test_the_picker_shows_a_week_with_free_days_and_times_in_clinic_time(
    client, practitioner, location, consultation_service, frozen_monday
):
    response = client.get(times_url(location, consultation_service))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Morning" in page
    assert "Afternoon" in page
    assert 'value="2026-03-02T09:00:00+00:00"' in page
    # Saturday and Sunday have no working hours: shown greyed, not as links.
    assert page.count("day day--empty") == 2
    assert 'aria-current="date"' in page
    assert "London time" in page


def test_the_picker_answers_htmx_with_only_the_picker_body(
    client, practitioner, location, consultation_service, frozen_monday
):
    response = client.get(
        times_url(location, consultation_service, day="2026-03-03"), HTTP_HX_REQUEST="true"
    )

    page = response.content.decode()
    assert "<html" not in page
    assert 'value="2026-03-03T09:00:00+00:00"' in page
    assert "Tuesday 3 March" in page


def test_a_practitioner_filter_limits_times_to_that_practitioner(
    client, practitioner, location, consultation_service, frozen_monday
):
    other = factories.PractitionerFactory(display_name="Jo Park")
    other.locations.add(location)
    other.services.add(consultation_service)
    factories.WorkingHoursFactory(
        practitioner=other, location=location, weekday=0, start_time="17:00", end_time="19:00"
    )

    everyone = client.get(times_url(location, consultation_service)).content.decode()
    only_jo = client.get(
        times_url(location, consultation_service, practitioner=other.pk)
    ).content.decode()

    assert "Any practitioner" in everyone
    assert "Evening" in everyone
    assert 'value="2026-03-02T17:00:00+00:00"' in only_jo
    assert 'value="2026-03-02T09:00:00+00:00"' not in only_jo


def test_choosing_a_time_holds_it_for_ten_minutes_and_shows_a_countdown(
    client, practitioner, location, consultation_service, frozen_monday
):
    response = hold(client, location, consultation_service)

    assert response.status_code == 302
    assert response["Location"] == reverse("site-details")
    held = Appointment.objects.get()
    assert held.status == Appointment.Status.HELD
    assert held.hold_expires_at == MONDAY + timedelta(minutes=10)
    page = client.get(reverse("site-details")).content.decode()
    assert f'data-expires="{int(held.hold_expires_at.timestamp())}"' in page
    assert "until 07:40" in page


def test_the_pages_say_how_long_a_hold_lasts_as_the_clinic_configured_it(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes, settings
):
    settings.SLOT_HOLD_MINUTES = 15
    times = client.get(times_url(location, consultation_service, day="2026-03-02"))
    assert "holds it for you for 15 minutes" in times.content.decode()

    hold(client, location, consultation_service)
    page = client.get(reverse("site-details")).content.decode()
    assert '<span class="countdown__clock">15:00</span>' in page

    details(client)
    frozen_monday.shift(timedelta(minutes=16))
    lapsed = client.post(reverse("site-verify"), {"code": sent_codes[-1]["code"]})
    assert "We keep a time for 15 minutes" in lapsed.content.decode()


def test_a_time_just_taken_says_so_and_offers_the_nearest_free_times(
    client, practitioner, location, consultation_service, frozen_monday
):
    factories.AppointmentFactory(
        service=consultation_service,
        practitioner=practitioner,
        location=location,
        start_at=TEN_LONDON,
        end_at=TEN_LONDON + timedelta(minutes=30),
    )

    response = hold(client, location, consultation_service)

    page = response.content.decode()
    assert response.status_code == 409
    assert "That time was just booked" in page
    assert 'value="2026-03-02T10:30:00+00:00"' in page
    assert 'value="2026-03-02T09:30:00+00:00"' in page


def test_a_forged_or_missing_time_is_refused_kindly(
    client, practitioner, location, consultation_service, frozen_monday
):
    response = client.post(
        reverse("site-hold", args=[location.slug, consultation_service.slug]),
        {"start": "2026-03-02T10:00"},
    )

    assert response.status_code == 422
    assert "Please choose one of the times shown." in response.content.decode()
    assert not Appointment.objects.exists()


def test_choosing_another_time_releases_the_first_hold(
    client, practitioner, location, consultation_service, frozen_monday
):
    hold(client, location, consultation_service)
    hold(client, location, consultation_service, TEN_LONDON + timedelta(hours=1))

    statuses = dict(Appointment.objects.values_list("start_at", "status"))
    assert statuses[TEN_LONDON] == Appointment.Status.CANCELLED
    assert statuses[TEN_LONDON + timedelta(hours=1)] == Appointment.Status.HELD


def test_details_without_a_hold_go_back_to_the_start(client, db):
    response = client.get(reverse("site-details"))

    assert response.status_code == 302
    assert response["Location"] == reverse("site-book")


def test_an_invalid_phone_says_why_and_sends_nothing(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)

    response = details(client, phone="123")

    assert response.status_code == 200
    assert "wrong number of digits" in response.content.decode()
    assert sent_codes == []


def test_a_landline_is_refused_because_reminders_go_by_text(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)

    response = details(client, phone="020 7946 0000")

    assert "Please give a mobile number" in response.content.decode()
    assert sent_codes == []


def test_the_policy_must_be_accepted(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)

    response = details(client, policy_accepted="")

    assert "Please confirm you have read the cancellation policy." in response.content.decode()
    assert sent_codes == []


def test_valid_details_send_a_code_to_the_normalised_number(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)

    response = details(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("site-verify")
    assert sent_codes[0]["phone"] == PHONE
    page = client.get(reverse("site-verify")).content.decode()
    assert "ending <strong>3456</strong>" in page


def test_the_right_code_books_the_consultation_and_stores_the_consent_wording(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    response = book_through_code(client, location, consultation_service, sent_codes)

    appointment = Appointment.objects.get()
    assert appointment.status == Appointment.Status.BOOKED
    assert response.status_code == 302
    assert response["Location"] == reverse("site-confirmed", args=[manage_token_for(appointment)])
    client_row = Client.objects.get()
    assert client_row.phone == PHONE
    assert client_row.phone_verified_at == MONDAY
    assert client_row.sms_consent_wording.startswith(f"Yes, {location.name} may text me")
    assert client_row.sms_consent_method == "online_form"
    # The browser keeps only its opaque session id: no phone, no name in any cookie.
    assert set(response.cookies) <= {settings.SESSION_COOKIE_NAME}
    assert PHONE not in str(client.cookies)


def test_no_consent_box_means_no_consent_recorded(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)
    details(client, sms_consent="")
    client.post(reverse("site-verify"), {"code": sent_codes[-1]["code"]})

    client_row = Client.objects.get()
    assert client_row.sms_consent_at is None
    assert client_row.sms_consent_wording == ""


def test_a_wrong_code_shows_the_tries_left_and_books_nothing(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)
    details(client)
    wrong = f"{(int(sent_codes[-1]['code']) + 1) % 10**6:06d}"

    response = client.post(reverse("site-verify"), {"code": wrong})

    assert response.status_code == 200
    assert "4 tries left" in response.content.decode()
    assert Appointment.objects.get().status == Appointment.Status.HELD


def test_resending_within_a_minute_asks_the_client_to_wait(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)
    details(client)

    too_soon = client.post(reverse("site-verify"), {"action": "resend"})
    frozen_monday.shift(timedelta(seconds=61))
    later = client.post(reverse("site-verify"), {"action": "resend"})

    assert "You can ask for another one in 60 seconds" in too_soon.content.decode()
    assert "We have sent you a new code" in later.content.decode()
    assert len(sent_codes) == 2


def test_a_hold_that_lapsed_says_so_and_offers_the_nearest_free_times(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)
    details(client)
    frozen_monday.shift(timedelta(minutes=11))

    response = client.post(reverse("site-verify"), {"code": sent_codes[-1]["code"]})

    page = response.content.decode()
    assert response.status_code == 410
    assert "Your hold on that time has ended" in page
    assert 'value="2026-03-02T10:00:00+00:00"' in page  # free again: nobody else took it


def test_a_new_client_asking_for_a_treatment_is_sent_to_book_a_consultation(
    client,
    practitioner,
    location,
    treatment_service,
    consultation_service,
    frozen_monday,
    sent_codes,
):
    response = book_through_code(client, location, treatment_service, sent_codes)

    page = response.content.decode()
    assert response.status_code == 409
    assert "Book your consultation first" in page
    assert times_url(location, consultation_service) + f"?then={treatment_service.slug}" in page
    assert Appointment.objects.get().status == Appointment.Status.CANCELLED  # hold released


def test_a_returning_verified_client_on_the_same_device_skips_the_code(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    location.online_upcoming_consultations_limit = 2
    location.save()
    book_through_code(client, location, consultation_service, sent_codes)
    # Cancelled, so that booking another consultation online is allowed.
    Appointment.objects.update(status=Appointment.Status.CANCELLED)

    hold(client, location, consultation_service, TEN_LONDON + timedelta(days=1))
    form_page = client.get(reverse("site-details")).content.decode()
    response = details(client)

    assert 'value="Maya"' in form_page
    assert "Welcome back, Maya" in form_page
    assert response.status_code == 302
    assert response["Location"].startswith("/b/")
    assert len(sent_codes) == 1
    assert Appointment.objects.filter(status=Appointment.Status.BOOKED).count() == 1


def test_a_returning_client_changing_the_number_must_verify_the_new_one(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    book_through_code(client, location, consultation_service, sent_codes)

    hold(client, location, consultation_service, TEN_LONDON + timedelta(days=1))
    response = details(client, phone="07400 123456")

    assert response["Location"] == reverse("site-verify")
    assert len(sent_codes) == 2


def test_a_consultation_booked_for_a_treatment_offers_to_hold_the_first_session(
    client,
    practitioner,
    location,
    treatment_service,
    consultation_service,
    frozen_monday,
    sent_codes,
):
    client.get(times_url(location, consultation_service, then=treatment_service.slug))
    response = book_through_code(client, location, consultation_service, sent_codes)

    assert response["Location"].endswith(f"?then={treatment_service.slug}")
    page = client.get(response["Location"]).content.decode()
    assert "Hold your first treatment now?" in page
    assert "health questionnaire" in page
    assert "/screening/" in page


@pytest.fixture
def cleared_maya(
    frozen_monday,
    practitioner,
    location,
    consultation_service,
    treatment_service,
    practitioner_user,
):
    """Maya had her consultation this morning and was cleared for micro-needling."""
    from bookings.services.consultations import consultation_record_outcome

    maya = client_register(first_name="Maya", last_name="Okafor", phone=PHONE, sms_consent=True)
    consultation = appointment_book(
        client=maya, service=consultation_service, location=location, start_at=TEN_LONDON
    )
    frozen_monday.move_to(TEN_LONDON + timedelta(minutes=30))  # at the consultation
    consultation_record_outcome(
        consultation=consultation.consultation,
        actor=practitioner_user,
        outcome="cleared",
        services=[treatment_service],
        screened_in_person=True,
    )
    frozen_monday.move_to(MONDAY)
    return maya


def test_a_cleared_client_can_book_a_treatment(
    client, cleared_maya, location, treatment_service, frozen_monday, sent_codes
):
    tuesday = TEN_LONDON + timedelta(days=1)

    response = book_through_code(client, location, treatment_service, sent_codes, tuesday)

    assert response.status_code == 302
    treatment = Appointment.objects.get(service=treatment_service)
    assert treatment.status == Appointment.Status.BOOKED
    assert treatment.client == cleared_maya


def test_a_client_who_cannot_have_a_session_so_soon_is_told_the_earliest_date(
    client, cleared_maya, location, treatment_service, frozen_monday, sent_codes
):
    appointment_book(
        client=cleared_maya,
        service=treatment_service,
        location=location,
        start_at=TEN_LONDON + timedelta(days=1),
    )

    response = book_through_code(
        client, location, treatment_service, sent_codes, TEN_LONDON + timedelta(days=8)
    )

    page = response.content.decode()
    assert response.status_code == 409
    assert "Please choose another date" in page
    assert "31 March 2026" in page
    assert not Appointment.objects.filter(status=Appointment.Status.HELD).exists()


def test_an_unknown_service_or_location_is_404(client, practitioner, location, frozen_monday):
    assert client.get("/book/nowhere/skin-consultation/").status_code == 404
    assert client.get(f"/book/{location.slug}/nothing/").status_code == 404


def test_client_register_and_booking_are_reachable_for_fixtures(
    practitioner, location, consultation_service, frozen_monday
):
    # Guards the seam the views rely on: a registered client can book through the service.
    person = client_register(first_name="Ana", phone=PHONE, sms_consent=False, location=location)
    booked = appointment_book(
        client=person, service=consultation_service, location=location, start_at=TEN_LONDON
    )
    assert booked.status == Appointment.Status.BOOKED


def test_the_code_page_without_a_booking_in_progress_goes_back_to_the_start(client, db):
    response = client.get(reverse("site-verify"))

    assert response.status_code == 302
    assert response["Location"] == reverse("site-book")


def test_opening_the_details_after_the_hold_lapsed_offers_the_nearest_times(
    client, practitioner, location, consultation_service, frozen_monday
):
    hold(client, location, consultation_service)
    frozen_monday.shift(timedelta(minutes=10, seconds=1))

    response = client.get(reverse("site-details"))

    assert response.status_code == 410
    assert "Your hold on that time has ended" in response.content.decode()


def test_a_code_can_still_be_typed_after_a_wrong_one_and_books(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)
    details(client)
    right = sent_codes[-1]["code"]
    client.post(reverse("site-verify"), {"code": f"{(int(right) + 1) % 10**6:06d}"})

    response = client.post(reverse("site-verify"), {"code": right})

    assert response.status_code == 302
    assert Appointment.objects.get().status == Appointment.Status.BOOKED


def test_every_problem_in_the_details_shows_at_once(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)

    response = details(client, first_name="", phone="123", email="maya@", policy_accepted="")

    page = response.content.decode()
    assert "Please enter your first name." in page
    assert "wrong number of digits" in page
    assert "That email address looks incomplete" in page
    assert "Please confirm you have read the cancellation policy." in page
    assert sent_codes == []


def test_a_returning_client_is_not_offered_times_they_are_already_booked(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    """The booking site's picker leaves out times that overlap the proven client's own visits
    (they would be refused as client_busy); anyone else still sees them."""
    location.online_upcoming_consultations_limit = 3
    location.save()
    colleague = factories.PractitionerFactory(display_name="Sam Roe")
    colleague.locations.add(location)
    colleague.services.add(consultation_service)
    factories.WorkingHoursFactory(practitioner=colleague, location=location, weekday=0)
    book_through_code(client, location, consultation_service, sent_codes)  # 10:00 with one of them
    taken = 'value="2026-03-02T10:00:00+00:00"'

    theirs = client.get(times_url(location, consultation_service)).content.decode()
    anyone = HttpClient().get(times_url(location, consultation_service)).content.decode()

    assert taken in anyone  # the other practitioner is free at 10:00
    assert taken not in theirs
    assert 'value="2026-03-02T09:00:00+00:00"' in theirs
