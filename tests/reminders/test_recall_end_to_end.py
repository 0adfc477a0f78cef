"""A product recall end to end: a signed record names the lot, the manager opens the recall
and sends the notice from the staff pages, the outbox hands it to (fake) Twilio, the signed
status callback marks it delivered, the link opens the recall page, the client's reply comes
back through the signed inbound webhook, and the regulator's export says all of it."""

from __future__ import annotations

import csv
import io
import time
from datetime import time as clock_time
from datetime import timedelta
from urllib.request import urlopen

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from records.models import Recall, RecallRecipient
from reminders.dispatch import messages_dispatch_due
from reminders.models import Message
from tests import factories

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]


def _wait_for(condition, *, timeout: float = 15) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_recall_notice_reaches_the_treated_client_and_their_reply_is_recorded(
    fake_twilio,
    live_server,
    settings,
    manager,
    practitioner_user,
    practitioner,
    location,
    treatment_service,
    client_person,
):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.QUIET_HOURS = (clock_time(3, 0), clock_time(3, 1))  # not what this test is about
    fake_twilio.callbacks = True
    recalled = factories.ProductLotFactory(
        product=factories.ProductFactory(name="Hyaluronic glide"), lot_number="HG-2026-07"
    )
    unaffected = factories.ProductLotFactory(product=recalled.product, lot_number="HG-2026-09")
    treated = factories.AppointmentFactory(
        client=client_person,
        service=treatment_service,
        practitioner=practitioner,
        location=location,
        start_at=timezone.now() - timedelta(days=10),
        status="completed",
    )
    factories.sign_treatment_record(treated, signer=practitioner_user, lot_ids=[recalled.id])
    bystander = factories.AppointmentFactory(
        service=treatment_service,
        practitioner=practitioner,
        location=location,
        start_at=timezone.now() - timedelta(days=9),
        status="completed",
    )
    factories.sign_treatment_record(bystander, signer=practitioner_user, lot_ids=[unaffected.id])

    desk = HttpClient()
    desk.force_login(manager)
    desk.post(
        reverse("staff-recalls"),
        {
            "product": recalled.product_id,
            "lot": recalled.id,
            "reason": "Maker's field safety notice FSN-14",
            "client_instructions": "Please call us so we can check your skin.",
        },
    )
    recall = Recall.objects.get()
    desk.post(reverse("staff-recall-send", args=[recall.id]))

    messages_dispatch_due()
    notice = Message.objects.get(category="recall")
    _wait_for(lambda: Message.objects.get(pk=notice.pk).status == Message.Status.DELIVERED)

    sent = fake_twilio.accepted_log()
    assert [entry["to"] for entry in sent] == [client_person.phone]  # the bystander is not told
    body = sent[0]["body"]
    assert "Hyaluronic" not in body
    link = next(word for word in body.split() if word.startswith(live_server.url))
    with urlopen(link, timeout=5) as page:  # noqa: S310 - the live test server
        text = page.read().decode()
    assert "Hyaluronic glide" in text
    assert "Please call us so we can check your skin." in text

    fake_twilio.deliver_inbound(
        f"{live_server.url}{reverse('reminders:twilio-inbound')}",
        from_=client_person.phone,
        to="+447700900001",
        body="Got it, my skin is fine",
    )
    recipient = RecallRecipient.objects.get()
    assert recipient.replied_at is not None

    export = desk.get(reverse("staff-recall-csv", args=[recall.id]))
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert [(row["phone"], row["notice_status"]) for row in rows] == [
        (client_person.phone, "Delivered")
    ]
    assert rows[0]["notice_sent_at"]
    assert rows[0]["replied_at"]
