"""A waitlist offer of a deposit service, claimed and paid against localstripe: the claim
leads to the pay page, nothing is booked until the deposit succeeds, then the payment books
the held time and the offer is claimed."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings import services
from bookings.models import Appointment
from payments.models import Payment
from tests import factories
from waitlist.models import FreedTime, WaitlistOffer
from waitlist.services import freed_time_process, waitlist_join
from waitlist.tokens import offer_token_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_a_claimed_deposit_time_is_booked_only_once_paid(
    client, localstripe, peel, peel_policy, location, django_capture_on_commit_callbacks
):
    zone = location.zone
    day = (timezone.now() + timedelta(days=7)).astimezone(zone).date()
    start = datetime.combine(day, time(10), tzinfo=zone)
    booked = services.appointment_book(
        client=factories.ClientFactory(), service=peel, location=location, start_at=start
    )
    waiting = factories.ClientFactory(first_name="Ada")
    waitlist_join(client=waiting, service=peel, location=location, windows=[(day, "morning")])
    with django_capture_on_commit_callbacks(execute=False):
        services.appointment_cancel(appointment=booked, actor_label="client")
    # Offered at midday tomorrow (outside quiet hours whenever the test runs).
    offered_at = datetime.combine(
        timezone.now().astimezone(zone).date() + timedelta(days=1), time(12), tzinfo=zone
    )
    offer = freed_time_process(freed_time_id=FreedTime.objects.get().pk, now=offered_at)
    assert offer is not None
    assert offer.client == waiting

    answer = client.post(reverse("waitlist-claim", args=[offer_token_for(offer.pk)]))
    assert answer.status_code == 302
    assert "/book/pay/" in answer["Location"]
    hold = Appointment.objects.get(pk=offer.hold_id)
    assert hold.status == Appointment.Status.HELD  # not booked until paid
    payment = Payment.objects.get(appointment=hold)
    assert (payment.client, payment.amount) == (waiting, 5000)

    page = client.get(answer["Location"])
    assert "Pay £50 and book" in page.text
    paid = client.post(answer["Location"] + "card", {"card_token": localstripe.card_token()}).json()
    assert paid["status"] == "succeeded"
    client.get(paid["return_url"])

    hold.refresh_from_db()
    assert hold.status == Appointment.Status.BOOKED
    assert hold.client == waiting
    offer.refresh_from_db()
    assert offer.status == WaitlistOffer.Status.CLAIMED
    assert offer.appointment == hold
    assert FreedTime.objects.get().status == FreedTime.Status.CLAIMED
