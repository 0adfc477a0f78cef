"""The JSON contract: codes by API, and an anonymous POST /bookings needs proof of the phone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client as HttpClient

from bookings.models import Appointment, Client, PhoneVerification
from bookings.services.api_tokens import api_token_create
from tests.site.conftest import PHONE

pytestmark = pytest.mark.django_db

TEN_LONDON = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def request_code(client, phone="07911 123456", **extra):
    return client.post(
        "/api/v1/verifications", {"phone": phone, **extra}, content_type="application/json"
    )


def check_code(client, verification_id, code):
    return client.post(
        f"/api/v1/verifications/{verification_id}/check",
        {"code": code},
        content_type="application/json",
    )


def booking(service, location, *, phone="07911 123456", token=None):
    payload = {
        "service": service.pk,
        "location": location.pk,
        "start": TEN_LONDON.isoformat(),
        "client": {"first_name": "Maya", "last_name": "Okafor", "phone": phone},
        "sms_consent": True,
        "consent_wording": "Text me about my appointments. Reply STOP to opt out.",
    }
    if token is not None:
        payload["verification_token"] = token
    return payload


def verified_token(client, sent_codes, phone="07911 123456"):
    started = request_code(client, phone).json()
    return check_code(client, started["id"], sent_codes[-1]["code"]).json()["verification_token"]


def test_requesting_a_code_returns_201_with_the_normalised_phone(
    client, location, frozen_monday, sent_codes
):
    response = request_code(client, location=location.pk)

    assert response.status_code == 201
    body = response.json()
    assert body["phone"] == PHONE
    assert body["attempts_left"] == 5
    assert body["expires_at"].startswith("2026-03-02T07:40:00")
    assert sent_codes[0]["location"] == location
    assert PhoneVerification.objects.get().ip == "127.0.0.1"


def test_an_invalid_phone_is_422_naming_the_field(client, frozen_monday, sent_codes):
    response = request_code(client, "12")

    assert response.status_code == 422
    assert response.json()["field"] == "phone"
    assert sent_codes == []


def test_an_unknown_location_is_404(client, frozen_monday, sent_codes):
    response = request_code(client, location=999_999)

    assert response.status_code == 404
    assert response.json()["field"] == "location"


def test_asking_again_within_a_minute_is_429_with_retry_after(client, frozen_monday, sent_codes):
    request_code(client)

    response = request_code(client)

    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"
    assert response.json()["retry_after"] == 60


def test_checking_the_right_code_returns_a_token(client, frozen_monday, sent_codes):
    started = request_code(client).json()

    response = check_code(client, started["id"], sent_codes[0]["code"])

    assert response.status_code == 200
    assert response.json()["expires_in"] == 1800
    assert response.json()["verification_token"]


def test_a_wrong_code_is_422_with_attempts_left_and_a_used_code_is_410(
    client, frozen_monday, sent_codes
):
    started = request_code(client).json()
    right = sent_codes[0]["code"]

    wrong = check_code(client, started["id"], f"{(int(right) + 1) % 10**6:06d}")
    check_code(client, started["id"], right)
    reused = check_code(client, started["id"], right)

    assert wrong.status_code == 422
    assert wrong.json()["field"] == "code"
    assert wrong.json()["attempts_left"] == 4
    assert reused.status_code == 410
    assert check_code(client, 999_999, right).status_code == 404


def test_an_anonymous_booking_without_a_token_is_401_and_saves_nothing(
    client, practitioner, location, consultation_service, frozen_monday
):
    response = client.post(
        "/api/v1/bookings",
        booking(consultation_service, location),
        content_type="application/json",
    )

    assert response.status_code == 401
    assert response.json()["error"] == "verification_required"
    assert response.json()["field"] == "verification_token"
    assert "POST /api/v1/verifications" in response.json()["message"]
    assert not Appointment.objects.exists()
    assert not Client.objects.exists()


def test_a_token_for_another_phone_is_422(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    token = verified_token(client, sent_codes, phone="07400 123456")

    response = client.post(
        "/api/v1/bookings",
        booking(consultation_service, location, token=token),
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.json()["error"] == "verification_invalid"
    assert "different phone" in response.json()["message"]
    assert not Appointment.objects.exists()


def test_an_expired_or_forged_token_is_422(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    token = verified_token(client, sent_codes)
    frozen_monday.shift(timedelta(minutes=31))

    expired = client.post(
        "/api/v1/bookings",
        booking(consultation_service, location, token=token),
        content_type="application/json",
    )
    forged = client.post(
        "/api/v1/bookings",
        booking(consultation_service, location, token=token[:-3] + "abc"),
        content_type="application/json",
    )

    assert expired.status_code == 422
    assert "expired" in expired.json()["message"]
    assert forged.status_code == 422
    assert forged.json()["error"] == "verification_invalid"


def test_a_verified_anonymous_booking_is_201_and_marks_the_phone_verified(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    token = verified_token(client, sent_codes, phone="+44 7911 123456")

    response = client.post(
        "/api/v1/bookings",
        booking(consultation_service, location, token=token),
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    assert Client.objects.get().phone_verified_at is not None


def test_a_token_is_spent_on_the_booking_it_made_and_books_nothing_more(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    token = verified_token(client, sent_codes)

    first = client.post(
        "/api/v1/bookings",
        booking(consultation_service, location, token=token),
        content_type="application/json",
    )
    again = client.post(
        "/api/v1/bookings",
        booking(consultation_service, location, token=token),
        content_type="application/json",
    )

    assert first.status_code == 201, first.json()
    spent = PhoneVerification.objects.get()
    assert spent.used_for_id == Appointment.objects.get().pk
    assert spent.used_at == datetime.now(UTC)  # the frozen clock
    assert again.status_code == 422
    assert again.json()["error"] == "verification_invalid"
    assert "already been used" in again.json()["message"]
    assert Appointment.objects.count() == 1


def test_a_staff_bearer_call_needs_no_verification_token(
    practitioner, location, consultation_service, reception, frozen_monday
):
    _, raw_token = api_token_create(user=reception)
    api_client = HttpClient(HTTP_AUTHORIZATION=f"Bearer {raw_token}")

    response = api_client.post(
        "/api/v1/bookings",
        booking(consultation_service, location),
        content_type="application/json",
    )

    assert response.status_code == 201, response.json()
    assert Client.objects.get().phone_verified_at is None
    booked = Appointment.objects.get()
    assert booked.events.get(kind="booked").actor_label == f"staff:{reception.username}"


def test_a_logged_in_user_without_a_staff_role_still_needs_a_token(
    client, practitioner, location, consultation_service, stranger, frozen_monday
):
    client.force_login(stranger)

    response = client.post(
        "/api/v1/bookings",
        booking(consultation_service, location),
        content_type="application/json",
    )

    assert response.status_code == 401


def test_the_openapi_schema_documents_verification(client):
    schema = client.get("/api/v1/openapi.json").json()

    assert "/api/v1/verifications" in schema["paths"]
    assert "/api/v1/verifications/{handle}/check" in schema["paths"]
    booking_post = schema["paths"]["/api/v1/bookings"]["post"]
    assert "401" in booking_post["responses"]
    assert "verification_token" in booking_post["description"]
