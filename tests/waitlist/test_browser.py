"""On a phone (390 px, Debian's chromium through Playwright): a client finds no time that suits,
joins the waitlist with a texted code, is texted an offer when a booked time is cancelled, and
claims it in two taps."""

from __future__ import annotations

import re
from datetime import time

import pytest
from playwright.sync_api import expect

from bookings.models import Appointment
from bookings.services import appointment_book, appointment_cancel
from reminders.backends import locmem
from reminders.tasks import dispatch_due_messages
from tests import factories
from tests.site.test_browser import (  # noqa: F401 - fixtures
    PHONE,
    PHONE_INPUT,
    _empty_sms_outbox,
    browser,
    local_start,
    open_every_day,
    phone_page,
    received_code,
    shoot,
)
from waitlist.models import FreedTime, WaitlistEntry
from waitlist.services import offers_sweep

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_client_joins_the_waitlist_on_a_phone_and_claims_the_time_offered(
    live_server,
    phone_page,  # noqa: F811
    shoot,  # noqa: F811
    open_every_day,  # noqa: F811
    location,
    consultation_service,
    reception,
    settings,
):
    settings.QUIET_HOURS = (time(3), time(3, 1))  # whatever hour the test runs
    page = phone_page
    start_at = local_start(location, 2, 10)
    day_label = f"{start_at:%A} {start_at.day} {start_at:%B}"
    taken = appointment_book(
        client=factories.ClientFactory(),
        service=consultation_service,
        location=location,
        start_at=start_at,
    )

    page.goto(f"{live_server.url}/book/{location.slug}/{consultation_service.slug}/")
    page.get_by_role("link", name="Join the waitlist").click()
    expect(page.get_by_role("heading", name="Join the waitlist")).to_be_visible()
    page.get_by_role("group", name=day_label).get_by_label("Morning").check()
    page.get_by_label("First name").fill("Maya")
    page.get_by_label("Mobile number").fill(PHONE_INPUT)
    page.locator("#id_sms_consent").check()
    shoot(page, "join")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check your phone")).to_be_visible()
    page.get_by_label("6-digit code").fill(received_code(PHONE))
    page.get_by_role("button", name="Join the waitlist").click()
    expect(page.get_by_role("heading", name="You're on the waitlist")).to_be_visible()
    shoot(page, "joined")
    entry = WaitlistEntry.objects.get(client__phone=PHONE)
    # The day being looked at is ticked already; the client added the morning two days ahead.
    assert (start_at.date(), "morning") in [(w.on, w.part) for w in entry.windows.all()]

    appointment_cancel(appointment=taken, actor=reception, reason="Client called")
    assert FreedTime.objects.filter(source_appointment=taken).exists()
    offers_sweep()  # what the worker does after the cancellation commits
    locmem.reset()
    dispatch_due_messages()
    texts = [sms.body for sms in locmem.outbox if sms.to == PHONE]
    assert len(texts) == 1
    assert "consultation" not in texts[0].lower()
    claim_path = re.search(r"(/w/[^/\s]+/)", texts[0]).group(1)

    page.goto(live_server.url + claim_path)
    expect(page.get_by_role("heading", name="A time has come up for you")).to_be_visible()
    shoot(page, "offer")
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_role("heading", name="Your consultation")).to_be_visible()
    shoot(page, "booked")
    booked = Appointment.objects.get(client=entry.client, status=Appointment.Status.BOOKED)
    assert booked.start_at == start_at
