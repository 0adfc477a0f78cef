"""Paying a deposit on a phone (390 px) with localstripe's Stripe.js stand-in: the card is
typed into the stand-in's fields, Stripe.js tokenises it, the page pays and lands on the
confirmed booking."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bookings.models import Appointment
from bookings.services import appointment_hold
from payments.models import Payment
from payments.services.deposits import deposit_start
from payments.tokens import pay_token_for
from tests.site.test_browser import browser, phone_page  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_client_pays_the_deposit_on_a_phone_and_the_booking_is_confirmed(
    localstripe,
    live_server,
    phone_page,  # noqa: F811
    peel,
    peel_policy,
    location,
    client_person,
):
    start = (timezone.now() + timedelta(days=6)).astimezone(location.zone)
    hold = appointment_hold(
        service=peel,
        location=location,
        start_at=start.replace(hour=10, minute=0, second=0, microsecond=0),
        phone_proven=True,
    )
    payment = deposit_start(hold=hold, client=client_person)
    phone_page.goto(f"{live_server.url}/book/pay/{pay_token_for(payment.pk)}/")
    expect(phone_page.get_by_role("heading", name="Pay your deposit")).to_be_visible()
    expect(phone_page.get_by_text("Deposit and cancellation terms")).to_be_visible()
    card = phone_page.locator("#card-element")
    card.get_by_placeholder("number").fill("4242424242424242")
    card.get_by_placeholder("exp_month").fill("12")
    card.get_by_placeholder("exp_year").fill("34")
    card.get_by_placeholder("cvc").fill("123")
    card.get_by_placeholder("postal_code").fill("N1 1AA")
    phone_page.get_by_role("button", name=re.compile("Pay £50")).click()
    expect(phone_page).to_have_url(re.compile(r"/b/.+/confirmed/"))
    payment.refresh_from_db()
    hold.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert hold.status == Appointment.Status.BOOKED


def test_the_pay_page_has_no_serious_accessibility_violation(
    localstripe,
    live_server,
    browser,  # noqa: F811
    peel,
    peel_policy,
    location,
    client_person,
):
    from tests.test_accessibility import AxeAudit, _new_page

    start = (timezone.now() + timedelta(days=6)).astimezone(location.zone)
    hold = appointment_hold(
        service=peel,
        location=location,
        start_at=start.replace(hour=11, minute=0, second=0, microsecond=0),
        phone_proven=True,
    )
    payment = deposit_start(hold=hold, client=client_person)
    page = _new_page(browser, 390)
    page.goto(f"{live_server.url}/book/pay/{pay_token_for(payment.pk)}/")
    expect(page.locator("#card-element input").first).to_be_visible()
    audit = AxeAudit("pay page")
    audit.check(page, "pay-deposit")
    audit.assert_clean()
    assert page.js_errors == []
