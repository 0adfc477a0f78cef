"""A claimed offer whose service takes a step first (the deposit, registered by payments in
``bookings.checkout``) is not booked until that step books the hold, like an online booking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import checkout, services
from bookings.models import Appointment
from bookings.services.online import appointment_book_online
from waitlist.models import FreedTime, WaitlistEntry, WaitlistOffer
from waitlist.services import freed_time_process
from waitlist.tokens import offer_token_for

from .conftest import NOW

pytestmark = pytest.mark.django_db

API = "/api/v1"
PAY_URL = "/book/pay/test-step/"
PAYMENT_MINUTES = 30


@pytest.fixture
def deposit_step(monkeypatch):
    """The registry answers as payments does for a deposit service: the hold is extended for
    paying and the pay page is where the client goes. Records who was asked."""
    asked: list[tuple[int, int]] = []

    def step(*, hold: Appointment, client) -> str:
        asked.append((hold.pk, client.pk))
        Appointment.objects.filter(pk=hold.pk).update(
            hold_expires_at=timezone.now() + timedelta(minutes=PAYMENT_MINUTES)
        )
        return PAY_URL

    monkeypatch.setattr(checkout, "_steps", {"test.deposit": step})
    return asked


@pytest.fixture
def offer(clock, join, cleared_client, booked_treatment, django_capture_on_commit_callbacks):
    join(cleared_client(first_name="Ada"))
    with django_capture_on_commit_callbacks(execute=False):
        services.appointment_cancel(appointment=booked_treatment(), actor_label="client")
    made = freed_time_process(freed_time_id=FreedTime.objects.get().pk)
    assert made is not None
    return made


def test_claiming_a_deposit_time_on_the_site_leads_to_the_pay_page_and_books_nothing(
    client, offer, deposit_step
):
    answer = client.post(reverse("waitlist-claim", args=[offer_token_for(offer.pk)]))

    assert answer.status_code == 302
    assert answer["Location"] == PAY_URL
    assert deposit_step == [(offer.hold_id, offer.client_id)]
    hold = Appointment.objects.get(pk=offer.hold_id)
    assert hold.status == Appointment.Status.HELD
    assert hold.client_id is None  # not booked until paid
    offer.refresh_from_db()
    assert offer.status == WaitlistOffer.Status.OFFERED
    # The offer lasts as long as the hold paying extended (not the 15 offer minutes).
    assert offer.expires_at == NOW + timedelta(minutes=PAYMENT_MINUTES)
    assert offer.freed_time.status == FreedTime.Status.OFFERING
    # Tapping again goes back to the same step.
    again = client.post(reverse("waitlist-claim", args=[offer_token_for(offer.pk)]))
    assert again["Location"] == PAY_URL


def test_the_payment_booking_the_hold_claims_the_offer(client, offer, deposit_step):
    client.post(reverse("waitlist-claim", args=[offer_token_for(offer.pk)]))
    hold = Appointment.objects.select_related("service", "location").get(pk=offer.hold_id)

    # What payments does once the deposit succeeded.
    booked = appointment_book_online(
        client=offer.client, service=hold.service, location=hold.location, hold=hold
    )

    assert booked.status == Appointment.Status.BOOKED
    offer.refresh_from_db()
    assert offer.status == WaitlistOffer.Status.CLAIMED
    assert offer.appointment == booked
    assert WaitlistEntry.objects.get(pk=offer.entry_id).status == WaitlistEntry.Status.BOOKED
    freed = FreedTime.objects.get(pk=offer.freed_time_id)
    assert freed.status == FreedTime.Status.CLAIMED
    assert freed.claimed_appointment == booked
    assert freed.recovered_minor > 0


def test_the_api_claim_answers_with_the_payment_step(client, offer, deposit_step):
    response = client.post(f"{API}/waitlist/offers/{offer_token_for(offer.pk)}/claim")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "payment_required"
    assert body["payment_url"] == PAY_URL
    assert body["held_until"].startswith("2026-12-01T")
    assert Appointment.objects.get(pk=offer.hold_id).client_id is None


def test_a_hold_left_unpaid_is_not_handed_to_the_next_client(
    client, offer, deposit_step, join, cleared_client
):
    second = cleared_client(first_name="Ben")
    join(second)
    client.post(reverse("waitlist-claim", args=[offer_token_for(offer.pk)]))
    later = NOW + timedelta(minutes=PAYMENT_MINUTES + 1)

    following = freed_time_process(freed_time_id=offer.freed_time_id, now=later)

    assert following is not None
    assert following.client == second
    # A new hold: the first client's (with their payment on it) was released, not reused.
    assert following.hold_id != offer.hold_id
    assert Appointment.objects.get(pk=offer.hold_id).status == Appointment.Status.CANCELLED
