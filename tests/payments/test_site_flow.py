"""The booking site with a deposit: after the phone code the client pays before the booking
exists; the manage page tells them what cancelling late costs before they confirm."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from bookings.models import Appointment
from bookings.tokens import manage_token_for
from payments.models import Payment, PaymentTerms
from tests.site.conftest import frozen_monday, sent_codes  # noqa: F401 - fixtures
from tests.site.test_booking_site import TEN_LONDON, details, hold

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_a_deposit_is_paid_after_the_code_and_before_the_booking(
    client,
    localstripe,
    peel,
    peel_policy,
    location,
    frozen_monday,  # noqa: F811
    sent_codes,  # noqa: F811
):
    hold(client, location, peel, TEN_LONDON + timedelta(days=3))
    details(client)
    answer = client.post(reverse("site-verify"), {"code": sent_codes[-1]["code"]})
    assert answer.status_code == 302
    assert "/book/pay/" in answer["Location"]
    held = Appointment.objects.get(service=peel)
    assert held.status == Appointment.Status.HELD  # not booked until paid
    page = client.get(answer["Location"])
    assert "Pay £50 and book" in page.text
    assert PaymentTerms.objects.get(appointment=held).wording in page.text
    assert localstripe.url in page["Content-Security-Policy"]
    paid = client.post(answer["Location"] + "card", {"card_token": localstripe.card_token()}).json()
    assert paid["status"] == "succeeded"
    done = client.get(paid["return_url"])
    assert done.status_code == 302
    assert "/confirmed/" in done["Location"]
    held.refresh_from_db()
    assert held.status == Appointment.Status.BOOKED
    assert Payment.objects.get(appointment=held).status == Payment.Status.SUCCEEDED


def test_the_cancel_page_names_the_kept_deposit_and_the_fee_inside_the_window(
    client, localstripe, peel, peel_policy, location, client_person
):
    from bookings.services import appointment_hold
    from payments.services.deposits import deposit_pay_with_card, deposit_start
    from tests.payments.test_localstripe import start_inside_late_window

    held = appointment_hold(
        service=peel,
        location=location,
        start_at=start_inside_late_window(location),
        phone_proven=True,
    )
    payment = deposit_start(hold=held, client=client_person)
    deposit_pay_with_card(payment=payment, card_token=localstripe.card_token())
    held.refresh_from_db()
    page = client.get(reverse("site-cancel", args=[manage_token_for(held)]))
    assert page.status_code == 200
    assert "your deposit of £50 is kept" in page.text
    assert "a late-cancellation fee of £20" in page.text
