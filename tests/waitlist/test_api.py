"""The waitlist API: join (verified), read, leave, claim; the staff list and add."""

from __future__ import annotations

import json

import pytest

from bookings import services
from tests import factories
from waitlist.models import FreedTime, WaitlistEntry, WaitlistOffer
from waitlist.services import freed_time_process
from waitlist.tokens import offer_token_for

from .conftest import MONDAY

pytestmark = pytest.mark.django_db

API = "/api/v1"


def post(browser, url, payload):
    return browser.post(url, data=json.dumps(payload), content_type="application/json")


def _join_body(location, service, **changes):
    body = {
        "service": service.pk,
        "location": location.pk,
        "client": {"first_name": "Maya", "phone": "07911123456"},
        "windows": [{"on": MONDAY.isoformat(), "part": "morning"}],
        "sms_consent": True,
        "consent_wording": "Text me when a time comes up",
        "verification_token": factories.verification_token_for("+447911123456"),
    }
    body.update(changes)
    return body


def test_joining_needs_a_proven_phone(client, clock, location, practitioner, treatment_service):
    body = _join_body(location, treatment_service, verification_token=None)
    response = post(client, f"{API}/waitlist", body)
    assert response.status_code == 401, response.content
    assert response.json()["field"] == "verification_token"
    assert not WaitlistEntry.objects.exists()


def test_an_uncleared_client_joins_as_notify_me_and_can_read_and_leave(
    client, clock, location, practitioner, treatment_service
):
    response = post(client, f"{API}/waitlist", _join_body(location, treatment_service))
    assert response.status_code == 201, response.content
    entry = response.json()
    assert entry["status"] == "waiting"
    assert entry["needs_clearance"] is True
    assert entry["windows"] == [{"on": MONDAY.isoformat(), "part": "morning"}]

    assert client.get(f"{API}/waitlist/{entry['token']}").json()["status"] == "waiting"
    left = client.delete(f"{API}/waitlist/{entry['token']}")
    assert left.status_code == 200
    assert left.json()["status"] == "left"
    assert client.get(f"{API}/waitlist/not-a-token").status_code == 404


def test_a_join_without_sms_consent_names_the_field(
    client, clock, location, practitioner, consultation_service
):
    body = _join_body(location, consultation_service, sms_consent=False)
    response = post(client, f"{API}/waitlist", body)
    assert response.status_code == 422
    assert response.json()["field"] == "sms_consent"
    assert not WaitlistEntry.objects.exists()


def test_a_bad_part_of_day_is_a_422_naming_windows(
    client, clock, location, practitioner, consultation_service
):
    body = _join_body(
        location, consultation_service, windows=[{"on": MONDAY.isoformat(), "part": "night"}]
    )
    response = post(client, f"{API}/waitlist", body)
    assert response.status_code == 422
    assert "windows" in json.dumps(response.json())


def test_an_offer_is_claimed_through_the_api_and_a_second_claim_of_an_expired_offer_is_410(
    client, clock, join, cleared_client, booked_treatment, django_capture_on_commit_callbacks
):
    first = cleared_client(first_name="Ada")
    join(first)
    appointment = booked_treatment()
    with django_capture_on_commit_callbacks(execute=False):
        services.appointment_cancel(appointment=appointment, actor_label="client")
    freed = FreedTime.objects.get()
    offer = freed_time_process(freed_time_id=freed.pk)
    assert offer is not None

    response = client.post(f"{API}/waitlist/offers/{offer_token_for(offer.pk)}/claim")
    assert response.status_code == 201, response.content
    assert response.json()["appointment"]["status"] == "booked"
    assert client.post(f"{API}/waitlist/offers/junk/claim").status_code == 404


def test_an_expired_offer_gets_a_friendly_410_with_alternatives(
    client, clock, join, cleared_client, booked_treatment, django_capture_on_commit_callbacks
):
    join(cleared_client(first_name="Ada"))
    with django_capture_on_commit_callbacks(execute=False):
        services.appointment_cancel(appointment=booked_treatment(), actor_label="client")
    offer = freed_time_process(freed_time_id=FreedTime.objects.get().pk)
    WaitlistOffer.objects.filter(pk=offer.pk).update(status=WaitlistOffer.Status.EXPIRED)

    response = client.post(f"{API}/waitlist/offers/{offer_token_for(offer.pk)}/claim")
    assert response.status_code == 410
    assert response.json()["error"] == "offer_taken"
    assert response.json()["alternatives"]


def test_reception_lists_the_waitlist_for_a_day_and_adds_a_client(
    client, reception, clock, location, practitioner, consultation_service
):
    maya = factories.ClientFactory(first_name="Maya")
    client.force_login(reception)
    body = {
        "client_id": maya.pk,
        "service": consultation_service.pk,
        "location": location.pk,
        "windows": [{"on": MONDAY.isoformat(), "part": "afternoon"}],
    }
    added = post(client, f"{API}/staff/waitlist", body)
    assert added.status_code == 201, added.content
    assert added.json()["channel"] == "staff"

    listed = client.get(f"{API}/staff/waitlist?service={consultation_service.pk}&on={MONDAY}")
    assert [row["client_name"] for row in listed.json()] == [maya.full_name]
    other_day = client.get(f"{API}/staff/waitlist?on=2026-12-08")
    assert other_day.json() == []


def test_the_staff_waitlist_is_closed_to_strangers(client, stranger, location):
    assert client.get(f"{API}/staff/waitlist").status_code == 401
    client.force_login(stranger)
    assert client.get(f"{API}/staff/waitlist").status_code == 403


def test_a_practitioner_sees_only_their_own_clients_on_the_waitlist(
    client, practitioner_user, clock, join, cleared_client, consultation_service
):
    own = cleared_client(first_name="Own")  # had a consultation with this practitioner
    join(own, service=consultation_service)
    join(factories.ClientFactory(first_name="Else"), service=consultation_service)
    client.force_login(practitioner_user)
    listed = client.get(f"{API}/staff/waitlist")
    assert [row["client_id"] for row in listed.json()] == [own.pk]
