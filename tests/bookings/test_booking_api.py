from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import signing

from bookings.models import Appointment, Client
from bookings.services import normalise_phone
from bookings.tokens import MANAGE_SALT, manage_token_for
from clinic.errors import ValidationFailed
from tests import factories

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=LONDON)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def facial(location, room, practitioner):
    service = factories.ServiceFactory(name="Hydrating facial", duration_minutes=45)
    service.rooms.add(room)
    practitioner.services.add(service)
    return service


def at(hour, minute=0, day=MONDAY):
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def booking_payload(service, location, start_at, overrides=None):
    payload = {
        "service": service.pk,
        "location": location.pk,
        "start": start_at.isoformat(),
        "client": {
            "first_name": "Amelia",
            "last_name": "Hart",
            "phone": "07911 123456",
            "email": "a@example.test",
        },
        "sms_consent": True,
        "consent_wording": "Text me about my appointments. Reply STOP to opt out.",
    }
    payload.update(overrides or {})
    # Anonymous bookings must prove the phone (issue 7): send a token for the client's number.
    try:
        phone = normalise_phone(payload["client"]["phone"])
    except ValidationFailed:
        return payload
    payload.setdefault("verification_token", factories.verification_token_for(phone))
    return payload


def test_availability_lists_days_with_local_times(client, facial, location, practitioner):
    response = client.get(
        "/api/v1/availability",
        {"service": facial.pk, "location": location.pk, "from": "2026-12-07", "to": "2026-12-08"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["timezone"] == "Europe/London"
    assert [day["date"] for day in body["days"]] == ["2026-12-07", "2026-12-08"]
    first = body["days"][0]["slots"][0]
    assert first["start"] == "2026-12-07T09:00:00Z" or first["start"].startswith(
        "2026-12-07T09:00:00"
    )
    assert first["practitioner_ids"] == [practitioner.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (
            {"service": 999999, "location": "LOC", "from": "2026-12-07", "to": "2026-12-08"},
            "service",
        ),
        (
            {"service": "SVC", "location": 999999, "from": "2026-12-07", "to": "2026-12-08"},
            "location",
        ),
        ({"service": "SVC", "location": "LOC", "from": "2026-12-08", "to": "2026-12-07"}, "to"),
        ({"service": "SVC", "location": "LOC", "from": "2026-12-01", "to": "2027-03-01"}, "to"),
        ({"service": "SVC", "location": "LOC", "from": "not-a-date", "to": "2026-12-07"}, "from"),
        (
            {
                "service": "SVC",
                "location": "LOC",
                "from": "2026-12-07",
                "to": "2026-12-08",
                "practitioner": 999999,
            },
            "practitioner",
        ),
    ],
)
def test_availability_rejects_bad_queries_naming_the_field(client, facial, location, params, field):
    params = {
        key: {"SVC": facial.pk, "LOC": location.pk}.get(value, value)
        for key, value in params.items()
    }
    response = client.get("/api/v1/availability", params)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid"
    assert body["field"] == field
    assert body["message"]


def test_booking_returns_201_with_a_manage_token(client, facial, location):
    response = client.post(
        "/api/v1/bookings",
        booking_payload(facial, location, at(10)),
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["appointment"]["status"] == "booked"
    assert body["manage_url"].endswith(f"/b/{body['manage_token']}/")
    client_row = Client.objects.get()
    assert client_row.phone == "+447911123456"
    assert client_row.sms_consent_wording.startswith("Text me")
    fetched = client.get(f"/api/v1/bookings/{body['manage_token']}")
    assert fetched.status_code == 200
    assert fetched.json()["id"] == body["appointment"]["id"]


def test_slot_taken_meanwhile_is_409_with_alternatives(client, facial, location):
    client.post(
        "/api/v1/bookings",
        booking_payload(facial, location, at(10)),
        content_type="application/json",
    )
    second = booking_payload(
        facial, location, at(10), {"client": {"first_name": "Noah", "phone": "07912 345678"}}
    )
    response = client.post("/api/v1/bookings", second, content_type="application/json")
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "slot_taken"
    assert body["field"] == "start"
    assert len(body["alternatives"]) >= 1
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"client": {"first_name": "A", "phone": "not a phone"}}, 422, "phone"),
        ({"client": {"first_name": "", "phone": "07911 123456"}}, 422, "client.first_name"),
        ({"start": "2026-12-07T10:07:00+00:00"}, 422, "start"),
        ({"start": "2026-11-30T10:00:00+00:00"}, 422, "start"),
        ({"start": "2027-12-06T10:00:00+00:00"}, 422, "start"),
        ({"service": 999999}, 422, "service"),
        ({"location": 999999}, 422, "location"),
        ({"start": "tomorrow at ten"}, 422, "start"),
    ],
)
def test_invalid_bookings_are_422_naming_the_field_and_save_nothing(
    client, facial, location, change, status, field
):
    response = client.post(
        "/api/v1/bookings",
        booking_payload(facial, location, at(10), change),
        content_type="application/json",
    )
    assert response.status_code == status, response.json()
    assert response.json()["field"] == field
    assert Appointment.objects.count() == 0
    assert Client.objects.count() == 0 or field not in {"phone", "client.first_name"}


def test_treatment_without_clearance_is_refused_with_the_reason(
    client, treatment_service, location, practitioner
):
    response = client.post(
        "/api/v1/bookings",
        booking_payload(treatment_service, location, at(10)),
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["error"] == "consultation_required"
    assert Appointment.objects.count() == 0


def test_client_cancels_and_reschedules_through_the_token(client, facial, location):
    token = client.post(
        "/api/v1/bookings",
        booking_payload(facial, location, at(10)),
        content_type="application/json",
    ).json()["manage_token"]
    moved = client.post(
        f"/api/v1/bookings/{token}/reschedule",
        {"start": at(14).isoformat()},
        content_type="application/json",
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["appointment"]["start"].startswith("2026-12-07T14:00")
    assert moved.json()["appointment"]["version"] == 2
    cancelled = client.post(f"/api/v1/bookings/{token}/cancel", {}, content_type="application/json")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = client.post(f"/api/v1/bookings/{token}/cancel", {}, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["error"] == "illegal_transition"


def test_late_online_change_is_refused_with_the_clinic_phone(client, facial, location, clock):
    token = client.post(
        "/api/v1/bookings",
        booking_payload(facial, location, at(10)),
        content_type="application/json",
    ).json()["manage_token"]
    clock.move_to(at(12, day=MONDAY - timedelta(days=1)))
    response = client.post(f"/api/v1/bookings/{token}/cancel", {}, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["error"] == "policy"
    # The clinic number as people dial it (national format), not E.164.
    assert "020 7123 4567" in response.json()["message"]


def test_tampered_token_is_404_and_expired_token_is_410(client, facial, location, clock):
    appointment = factories.AppointmentFactory(service=facial, location=location, start_at=at(10))
    token = manage_token_for(appointment)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/api/v1/bookings/{tampered}").status_code == 404
    other = signing.dumps(
        {"a": appointment.pk + 1000, "e": int((NOW + timedelta(days=30)).timestamp())}, salt="other"
    )
    assert client.get(f"/api/v1/bookings/{other}").status_code == 404
    clock.move_to(at(10, day=MONDAY + timedelta(days=3)))
    response = client.get(f"/api/v1/bookings/{token}")
    assert response.status_code == 410
    assert response.json()["error"] == "gone"


def test_a_token_only_ever_reveals_its_own_appointment(client, facial, location):
    mine = factories.AppointmentFactory(service=facial, location=location, start_at=at(10))
    theirs = factories.AppointmentFactory(service=facial, location=location, start_at=at(12))
    forged = signing.dumps(
        {"a": theirs.pk, "e": int((NOW + timedelta(days=30)).timestamp())}, salt=MANAGE_SALT + "x"
    )
    assert client.get(f"/api/v1/bookings/{forged}").status_code == 404
    assert client.get(f"/api/v1/bookings/{manage_token_for(mine)}").json()["id"] == mine.pk


def test_openapi_schema_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/availability" in paths
    assert "/api/v1/bookings" in paths


def test_availability_answer_is_the_documented_shape_with_each_slots_local_times(
    client, facial, location, practitioner
):
    from bookings.api import AvailabilityOut
    from bookings.availability import free_slots

    response = client.get(
        "/api/v1/availability",
        {"service": facial.pk, "location": location.pk, "from": "2026-12-07", "to": "2026-12-13"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    AvailabilityOut.model_validate(body)  # what the OpenAPI schema promises
    slots = free_slots(
        service=facial, location=location, start_date=MONDAY, end_date=MONDAY + timedelta(days=6)
    )
    assert [
        (slot["start"], slot["end"], slot["practitioner_ids"])
        for day in body["days"]
        for slot in day["slots"]
    ] == [
        (slot.start_at.isoformat(), slot.end_at.isoformat(), list(slot.practitioner_ids))
        for slot in slots
    ]
    assert [day["date"] for day in body["days"]] == [
        (MONDAY + timedelta(days=n)).isoformat() for n in range(7)
    ]
    assert all(
        slot["start"].startswith(day["date"]) for day in body["days"] for slot in day["slots"]
    )
