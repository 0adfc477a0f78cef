"""Freed times are offered only to waiting clients who could book them then, in order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings import services
from bookings.models import Appointment
from reminders.models import Message
from tests import factories
from waitlist.errors import OfferTaken
from waitlist.models import FreedTime, WaitlistEntry, WaitlistOffer
from waitlist.services import freed_time_process, offer_claim, offers_sweep
from waitlist.tokens import offer_token_for

from .conftest import at

pytestmark = pytest.mark.django_db


def _cancel_and_process(appointment, django_capture_on_commit_callbacks) -> FreedTime:
    with django_capture_on_commit_callbacks(execute=False):
        services.appointment_cancel(appointment=appointment, actor_label="client")
    freed = FreedTime.objects.get(source_appointment=appointment)
    freed_time_process(freed_time_id=freed.pk)
    freed.refresh_from_db()
    return freed


def test_a_cancelled_time_is_offered_to_the_cleared_client_not_the_uncleared_one(
    clock, cleared_client, join, booked_treatment, django_capture_on_commit_callbacks
):
    uncleared = factories.ClientFactory(first_name="Una")
    join(uncleared)  # joined first, but cannot have a treatment yet
    cleared = cleared_client(first_name="Cleo")
    join(cleared)
    appointment = booked_treatment()

    freed = _cancel_and_process(appointment, django_capture_on_commit_callbacks)

    offer = WaitlistOffer.objects.get(freed_time=freed)
    assert offer.client == cleared
    assert freed.status == FreedTime.Status.OFFERING
    assert offer.hold.status == Appointment.Status.HELD
    assert offer.hold.start_at == at(10)
    message = Message.objects.get(client=cleared, category="waitlist_offer")
    assert "Micro" not in message.body
    assert "needling" not in message.body
    assert offer_token_for(offer.pk) in message.body
    assert not Message.objects.filter(client=uncleared, category="waitlist_offer").exists()


def test_claiming_books_the_held_time_and_a_later_claim_is_told_it_is_taken(
    clock, cleared_client, join, booked_treatment, django_capture_on_commit_callbacks
):
    first = cleared_client(first_name="Ada")
    join(first)
    second = cleared_client(first_name="Bo")
    join(second)
    freed = _cancel_and_process(booked_treatment(), django_capture_on_commit_callbacks)
    first_offer = WaitlistOffer.objects.get(freed_time=freed, sequence=1)
    assert first_offer.client == first

    clock.shift(timedelta(minutes=16))
    offers_sweep()
    second_offer = WaitlistOffer.objects.get(freed_time=freed, sequence=2)
    assert second_offer.client == second
    assert second_offer.hold_id == first_offer.hold_id  # the same hold, kept for the next one

    booked = offer_claim(token=offer_token_for(second_offer.pk))
    assert booked.client == second
    assert booked.status == Appointment.Status.BOOKED
    assert booked.start_at == at(10)

    with pytest.raises(OfferTaken) as taken:
        offer_claim(token=offer_token_for(first_offer.pk))
    assert taken.value.extra["alternatives"]
    freed.refresh_from_db()
    assert freed.status == FreedTime.Status.CLAIMED
    assert freed.recovered_minor == 15000
    assert WaitlistEntry.objects.get(client=second).status == WaitlistEntry.Status.BOOKED
