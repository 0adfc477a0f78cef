"""The waitlist pages of the client site, and the staff page (Django's test client)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bookings import services
from bookings.signals import phone_verification_requested
from bookings.tokens import manage_token_for
from waitlist.models import FreedTime, WaitlistEntry, WaitlistOffer
from waitlist.services import freed_time_process
from waitlist.tokens import offer_token_for

from .conftest import MONDAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_codes():
    codes: list[str] = []

    def receiver(sender, phone, code, location, **kwargs):
        codes.append(code)

    phone_verification_requested.connect(receiver, weak=False)
    yield codes
    phone_verification_requested.disconnect(receiver)


def test_joining_from_the_site_verifies_the_phone_and_shows_the_entry(
    client, clock, location, practitioner, consultation_service, sent_codes
):
    join_url = reverse("waitlist-join", args=[location.slug, consultation_service.slug])
    page = client.get(join_url + f"?on={MONDAY.isoformat()}")
    assert page.status_code == 200
    assert f'value="{MONDAY.isoformat()}:morning"' in page.content.decode()

    missing = client.post(join_url, {"first_name": "Maya", "phone": "07911 123456"})
    assert missing.status_code == 422
    assert "Choose at least one day" in missing.content.decode()
    assert "please agree to texts" in missing.content.decode()

    answer = client.post(
        join_url,
        {
            "first_name": "Maya",
            "phone": "07911 123456",
            "windows": [f"{MONDAY.isoformat()}:morning", f"{MONDAY.isoformat()}:evening"],
            "sms_consent": "on",
        },
    )
    assert answer.status_code == 302
    assert not WaitlistEntry.objects.exists()
    wrong = client.post(reverse("waitlist-verify"), {"code": "000000"})
    assert wrong.status_code == 422
    joined = client.post(reverse("waitlist-verify"), {"code": sent_codes[-1]})
    entry = WaitlistEntry.objects.get()
    assert joined["Location"] == reverse("waitlist-entry", args=[entry.token])
    assert entry.client.phone_verified_at is not None
    assert entry.client.sms_consent_at is not None
    assert entry.expires_on == MONDAY
    page = client.get(joined["Location"]).content.decode()
    assert "You're on the waitlist" in page

    client.post(reverse("waitlist-leave", args=[entry.token]))
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.LEFT


def test_the_times_page_offers_the_waitlist(
    client, clock, location, practitioner, consultation_service
):
    page = client.get(reverse("site-times", args=[location.slug, consultation_service.slug]))
    assert reverse("waitlist-join", args=[location.slug, consultation_service.slug]) in (
        page.content.decode()
    )


def test_claiming_on_the_site_books_and_a_lapsed_offer_is_just_taken_with_alternatives(
    client, clock, join, cleared_client, booked_treatment, django_capture_on_commit_callbacks
):
    first = cleared_client(first_name="Ada")
    join(first)
    appointment = booked_treatment()
    with django_capture_on_commit_callbacks(execute=False):
        services.appointment_cancel(appointment=appointment, actor_label="client")
    freed = FreedTime.objects.get()
    offer = freed_time_process(freed_time_id=freed.pk)
    claim_url = reverse("waitlist-claim", args=[offer_token_for(offer.pk)])

    page = client.get(claim_url)
    assert page.status_code == 200
    assert "A time has come up for you" in page.content.decode()

    WaitlistOffer.objects.filter(pk=offer.pk).update(status=WaitlistOffer.Status.EXPIRED)
    gone = client.post(claim_url)
    assert gone.status_code == 410
    assert "just been taken" in gone.content.decode()
    assert "Other free times" in gone.content.decode()

    WaitlistOffer.objects.filter(pk=offer.pk).update(status=WaitlistOffer.Status.OFFERED)
    booked = client.post(claim_url)
    appointment = offer.hold
    appointment.refresh_from_db()
    assert booked["Location"] == reverse("site-manage", args=[manage_token_for(appointment)])
    assert appointment.client == first
    # A second tap shows the booking.
    assert client.get(claim_url)["Location"] == booked["Location"]


def test_the_manage_page_lists_the_clients_live_entries(
    client, clock, join, cleared_client, location, consultation_service
):
    person = cleared_client(first_name="Mia")
    entry = join(person, service=consultation_service)
    visit = person.appointments.first()
    page = client.get(reverse("site-manage", args=[manage_token_for(visit)])).content.decode()
    assert "Your waitlist places" in page
    assert reverse("waitlist-entry", args=[entry.token]) in page


def test_staff_see_the_waitlist_for_a_day_and_add_a_client(
    client, reception, clock, location, practitioner, consultation_service, cleared_client
):
    person = cleared_client(first_name="Zoe")
    client.force_login(reception)
    url = reverse("staff-waitlist")
    added = client.post(
        url,
        {
            "client": person.pk,
            "service": consultation_service.pk,
            "day": MONDAY.isoformat(),
            "part": ["morning", "afternoon"],
        },
    )
    assert added.status_code == 302
    page = client.get(f"{url}?day={MONDAY.isoformat()}").content.decode()
    assert person.full_name in page
    assert "Morning" in page
    other_day = client.get(f"{url}?day=2026-12-08").content.decode()
    assert person.full_name not in other_day


def test_a_made_up_link_is_the_friendly_link_page(client, clock, location):
    for url in (
        reverse("waitlist-claim", args=["0"]),
        reverse("waitlist-decline", args=["x" * 300]),
        reverse("waitlist-entry", args=["9" * 30]),
        reverse("waitlist-leave", args=["-1"]),
    ):
        answer = client.post(url) if "leave" in url or "decline" in url else client.get(url)
        assert answer.status_code == 404
        assert "This link doesn" in answer.content.decode()
