"""Findings from probing the public site and API as an attacker would (issue 14): calendar
hoarding, SMS pumping, guessable verifications and a device cookie that kept the last client."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from bookings.models import Appointment, PhoneVerification
from bookings.services import appointment_book, client_register
from bookings.services.verification import (
    verification_check,
    verification_requester_for,
    verification_start,
)
from clinic.errors import Gone, NotFound
from reminders.models import StaffAlert
from tests.site.conftest import PHONE

pytestmark = pytest.mark.django_db

NINE_LONDON = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 09:00 in London (GMT)
MAYA_DETAILS = {
    "first_name": "Maya",
    "last_name": "Okafor",
    "phone": "07911 123456",
    "email": "maya@example.test",
    "sms_consent": "on",
    "policy_accepted": "on",
}


def hold_from(browser: HttpClient, location, service, start_at: datetime):
    return browser.post(
        reverse("site-hold", args=[location.slug, service.slug]), {"start": start_at.isoformat()}
    )


def starts(count: int, *, step_minutes: int = 30):
    """``count`` start times that do not overlap for a 30-minute consultation, 09:00 to 16:30
    on Monday and on to the next days."""
    per_day = (8 * 60) // step_minutes
    return [
        NINE_LONDON + timedelta(days=n // per_day, minutes=step_minutes * (n % per_day))
        for n in range(count)
    ]


def live_holds() -> int:
    return Appointment.objects.filter(status=Appointment.Status.HELD).count()


# --- 2. no hoarding ----------------------------------------------------------------------


def test_a_flood_of_holds_from_one_address_takes_no_more_than_the_budget(
    practitioner, location, consultation_service, frozen_monday, settings
):
    """The probe: 26 holds from one address emptied a day. Each attempt here comes from a fresh
    browser (cookies dropped), so only the per-address budget stands in the way."""
    attempts = starts(26)

    answers = [
        hold_from(HttpClient(), location, consultation_service, start_at).status_code
        for start_at in attempts
    ]

    succeeded = answers.count(302)
    assert succeeded == settings.HOLD_LIVE_LIMIT == 2
    assert answers.count(429) == 24
    assert live_holds() == 2
    # A real client on another connection still gets a time.
    other = HttpClient(REMOTE_ADDR="198.51.100.20")
    assert hold_from(other, location, consultation_service, attempts[10]).status_code == 302


def test_one_browser_cannot_dodge_the_budget_by_changing_address(
    practitioner, location, consultation_service, frozen_monday, settings
):
    settings.HOLD_LIVE_LIMIT = 5
    settings.HOLD_HOURLY_LIMIT = 3
    browser = HttpClient()
    answers = []
    for n, start_at in enumerate(starts(5)):
        browser.defaults["REMOTE_ADDR"] = f"203.0.113.{n + 1}"
        answers.append(hold_from(browser, location, consultation_service, start_at).status_code)

    assert answers == [302, 302, 302, 429, 429]


def test_holds_that_lapsed_still_count_for_the_hour(
    practitioner, location, consultation_service, frozen_monday, settings
):
    settings.HOLD_LIVE_LIMIT = 5
    answers = []
    for start_at in starts(11, step_minutes=30):
        answer = hold_from(HttpClient(), location, consultation_service, start_at)
        answers.append(answer.status_code)
        frozen_monday.shift(timedelta(minutes=5))

    assert answers == [302] * settings.HOLD_HOURLY_LIMIT + [429]
    assert "in the last hour" in answer.content.decode()


def test_a_browser_that_proved_its_phone_is_not_held_to_the_budget(
    practitioner, location, consultation_service, frozen_monday, sent_codes, settings
):
    settings.HOLD_HOURLY_LIMIT = 2
    browser = HttpClient()
    assert hold_from(browser, location, consultation_service, NINE_LONDON).status_code == 302
    browser.post(
        reverse("site-details"),
        {
            "first_name": "Maya",
            "last_name": "Okafor",
            "phone": "07911 123456",
            "sms_consent": "on",
            "policy_accepted": "on",
        },
    )
    browser.post(reverse("site-verify"), {"code": sent_codes[-1]["code"]})

    answers = [
        hold_from(browser, location, consultation_service, start_at).status_code
        for start_at in starts(4)[1:]
    ]
    assert answers == [302, 302, 302]
    assert hold_from(HttpClient(), location, consultation_service, starts(6)[5]).status_code == 429


def request_code(browser, phone="07911 123456", **extra):
    return browser.post(
        "/api/v1/verifications", {"phone": phone, **extra}, content_type="application/json"
    )


def api_token(browser, sent_codes, phone="07911 123456") -> str:
    handle = request_code(browser, phone).json()["id"]
    answer = browser.post(
        f"/api/v1/verifications/{handle}/check",
        {"code": sent_codes[-1]["code"]},
        content_type="application/json",
    )
    return answer.json()["verification_token"]


def api_booking(service, location, start_at, token):
    return {
        "service": service.pk,
        "location": location.pk,
        "start": start_at.isoformat(),
        "client": {"first_name": "Maya", "last_name": "Okafor", "phone": "07911 123456"},
        "verification_token": token,
    }


def post_booking(browser, payload):
    return browser.post("/api/v1/bookings", payload, content_type="application/json")


def test_a_verification_token_books_once(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    """The probe: one token made 10 bookings in one session."""
    token = api_token(client, sent_codes)
    location.online_upcoming_consultations_limit = 10
    location.save()

    first = post_booking(client, api_booking(consultation_service, location, NINE_LONDON, token))
    again = post_booking(client, api_booking(consultation_service, location, starts(3)[2], token))

    assert first.status_code == 201
    assert again.status_code == 422
    assert again.json()["error"] == "verification_invalid"
    assert Appointment.objects.filter(status=Appointment.Status.BOOKED).count() == 1
    used = PhoneVerification.objects.get()
    assert used.used_for_id == first.json()["appointment"]["id"]
    # The manage token from the booking keeps working for that booking.
    manage = client.get(f"/api/v1/bookings/{first.json()['manage_token']}")
    assert manage.status_code == 200


def test_a_refused_booking_leaves_the_token_for_another_try(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes, reception
):
    taken = client_register(
        first_name="Jo", last_name="Bloggs", phone="+447400123456", sms_consent=False
    )
    appointment_book(
        client=taken,
        service=consultation_service,
        location=location,
        start_at=NINE_LONDON,
        actor=reception,
    )
    token = api_token(client, sent_codes)

    refused = post_booking(client, api_booking(consultation_service, location, NINE_LONDON, token))
    booked = post_booking(client, api_booking(consultation_service, location, starts(3)[2], token))

    assert refused.status_code == 409
    assert booked.status_code == 201


def test_a_second_online_consultation_is_refused_but_reception_can_still_book_one(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes, reception
):
    first = post_booking(
        client,
        api_booking(consultation_service, location, NINE_LONDON, api_token(client, sent_codes)),
    )
    frozen_monday.shift(timedelta(minutes=2))
    second = post_booking(
        client,
        api_booking(consultation_service, location, starts(3)[2], api_token(client, sent_codes)),
    )

    assert first.status_code == 201
    assert second.status_code == 409
    # The one-consultation rule answers before the per-service cap (1 consultation); the
    # treatment cap is tested in tests/consultations/test_online_limit.py.
    assert second.json()["error"] == "consultation_already_booked"
    # Reception can still book more at the desk.
    maya = Appointment.objects.get(status=Appointment.Status.BOOKED).client
    by_staff = appointment_book(
        client=maya,
        service=consultation_service,
        location=location,
        start_at=starts(5)[4],
        actor=reception,
        channel=Appointment.Channel.STAFF,
    )
    assert by_staff.status == Appointment.Status.BOOKED


# --- 3. no pumping ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    ["+12015550123", "+8613800138000", "+4915123456789", "+79161234567", "+2348031234567"],
)
def test_codes_go_only_to_the_countries_the_location_allows(
    client, location, frozen_monday, sent_codes, phone
):
    """The probe sent codes to US, CN, DE, RU, NG … numbers for a London clinic."""
    answer = request_code(client, phone, location=location.pk)

    assert answer.status_code == 422
    assert answer.json()["field"] == "phone"
    assert sent_codes == []
    assert not PhoneVerification.objects.exists()


def test_a_location_can_allow_more_countries(client, location, frozen_monday, sent_codes):
    location.sms_countries = "GB,IE"
    location.save()

    assert request_code(client, "+353851234567", location=location.pk).status_code == 201
    assert request_code(client, "+12015550123", location=location.pk).status_code == 422


def test_the_hourly_budget_of_codes_stops_sending_and_alerts_the_managers_once(
    location, frozen_monday, sent_codes, manager, settings
):
    settings.VERIFICATION_SMS_PER_HOUR = 3
    outcomes = []
    for n in range(6):
        browser = HttpClient(REMOTE_ADDR=f"203.0.113.{n + 1}")
        outcomes.append(request_code(browser, f"07911 1234{n:02d}").status_code)

    assert outcomes == [201, 201, 201, 429, 429, 429]
    assert len(sent_codes) == 3
    alerts = StaffAlert.objects.filter(kind=StaffAlert.Kind.SMS_BUDGET)
    assert [alert.recipient for alert in alerts] == [manager]
    assert "SMS pumping" in alerts.get().body
    assert PHONE not in alerts.get().body


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", json.dumps({"phone": "07911 123456"})),
        ("application/x-www-form-urlencoded", "phone=07911+123456"),
        (
            "multipart/form-data; boundary=xyz",
            '--xyz\r\nContent-Disposition: form-data; name="phone"\r\n\r\n07911 123456\r\n--xyz--\r\n',
        ),
    ],
)
def test_a_cross_site_form_cannot_post_to_the_api(
    client, frozen_monday, sent_codes, content_type, body
):
    """The probe: a text/plain POST from another origin was accepted (201)."""
    answer = client.post("/api/v1/verifications", body, content_type=content_type)

    assert answer.status_code == 415
    assert answer.json()["error"] == "unsupported_media_type"
    assert sent_codes == []


# --- 4. verification handles --------------------------------------------------------------


def test_verification_handles_are_unguessable(client, frozen_monday, sent_codes):
    first = request_code(client).json()["id"]
    frozen_monday.shift(timedelta(minutes=2))
    second = request_code(client).json()["id"]

    assert not first.isdigit()
    assert len(first) >= 32
    assert first != second
    assert (
        client.post(
            "/api/v1/verifications/1/check", {"code": "000000"}, content_type="application/json"
        ).status_code
        == 404
    )


def test_a_stranger_cannot_spend_the_tries_of_someone_elses_code(frozen_monday, sent_codes):
    """The probe: five wrong codes on someone else's id locked out their correct code."""
    mine = verification_requester_for(session_key="maya-session")
    verification = verification_start(phone=PHONE, ip="203.0.113.5", requester=mine)
    right = sent_codes[-1]["code"]

    for _ in range(5):
        with pytest.raises(NotFound):
            verification_check(handle=verification.handle, code="000000", requester="stranger")

    verification.refresh_from_db()
    assert verification.attempts == 0
    assert verification_check(handle=verification.handle, code=right, requester=mine)


def test_a_new_code_makes_the_earlier_one_stop_working(frozen_monday, sent_codes):
    """The page said older codes stop working; they did not."""
    mine = verification_requester_for(session_key="maya-session")
    earlier = verification_start(phone=PHONE, ip="203.0.113.5", requester=mine)
    earlier_code = sent_codes[-1]["code"]
    frozen_monday.shift(timedelta(seconds=61))
    later = verification_start(phone=PHONE, ip="203.0.113.5", requester=mine)

    with pytest.raises(Gone, match="newer code"):
        verification_check(handle=earlier.handle, code=earlier_code, requester=mine)
    assert verification_check(handle=later.handle, code=sent_codes[-1]["code"], requester=mine)


def test_a_stranger_asking_for_a_code_does_not_cancel_mine(frozen_monday, sent_codes):
    mine = verification_requester_for(session_key="maya-session")
    verification = verification_start(phone=PHONE, ip="203.0.113.5", requester=mine)
    my_code = sent_codes[-1]["code"]
    frozen_monday.shift(timedelta(seconds=61))
    verification_start(
        phone=PHONE, ip="198.51.100.9", requester=verification_requester_for(session_key="other")
    )

    assert verification_check(handle=verification.handle, code=my_code, requester=mine)


def test_a_code_typed_in_another_browser_is_refused_on_the_site(
    practitioner, location, consultation_service, frozen_monday, sent_codes
):
    maya = HttpClient()
    hold_from(maya, location, consultation_service, NINE_LONDON)
    maya.post(reverse("site-details"), MAYA_DETAILS)
    handle = maya.session["booking"]["verification"]

    with pytest.raises(NotFound):
        verification_check(handle=handle, code=sent_codes[-1]["code"], requester="")


# --- 5. the device cookie -----------------------------------------------------------------


def book_on_site(browser, location, service, sent_codes, start_at=NINE_LONDON):
    hold_from(browser, location, service, start_at)
    browser.post(reverse("site-details"), MAYA_DETAILS)
    return browser.post(reverse("site-verify"), {"code": sent_codes[-1]["code"]})


def test_the_next_person_on_a_shared_browser_sees_nothing_of_the_last_client_after_an_hour(
    practitioner, location, consultation_service, treatment_service, frozen_monday, sent_codes
):
    """The probe: the next person on the same browser saw the previous client's name, phone and
    email and booked as them with no code (a 180-day cookie)."""
    browser = HttpClient()
    assert book_on_site(browser, location, consultation_service, sent_codes).status_code == 302
    assert "Maya" not in str(browser.cookies)
    assert "7911" not in str(browser.cookies)

    frozen_monday.shift(timedelta(minutes=61))
    hold_from(browser, location, consultation_service, starts(9)[8])
    page = browser.get(reverse("site-details")).content.decode()
    start_page = browser.get(reverse("site-book")).content.decode()
    answer = browser.post(reverse("site-details"), MAYA_DETAILS)

    assert 'value="Maya"' not in page
    assert "Okafor" not in page
    assert "maya@example.test" not in page
    assert 'value="07911 123456"' not in page
    assert PHONE not in page
    assert "Welcome back" not in start_page
    assert answer["Location"] == reverse("site-verify")
    assert len(sent_codes) == 2


def test_another_browser_never_sees_the_client(
    practitioner, location, consultation_service, frozen_monday, sent_codes
):
    book_on_site(HttpClient(), location, consultation_service, sent_codes)

    stranger = HttpClient()
    hold_from(stranger, location, consultation_service, starts(9)[8])
    page = stranger.get(reverse("site-details")).content.decode()

    assert "Maya" not in page
    assert "Welcome back" not in page
