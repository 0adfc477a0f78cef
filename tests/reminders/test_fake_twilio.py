"""The fake Twilio server itself: control endpoints and signed status callbacks that the real
webhook accepts."""

from __future__ import annotations

import json
import time
from datetime import time as clock_time
from urllib.request import Request, urlopen

import pytest
from django.utils import timezone

from reminders.backends import SmsError, get_backend
from reminders.dispatch import messages_dispatch_due
from reminders.models import Message


def _control(fake, path: str, payload: dict | None = None) -> dict:
    data = json.dumps(payload).encode() if payload is not None else None
    request = Request(f"{fake.url}{path}", data=data, method="POST" if data else "GET")
    with urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_faults_injected_over_http_apply_to_the_next_requests_in_order(fake_twilio):
    _control(fake_twilio, "/_fake/faults", {"fault": "429", "count": 2})
    _control(fake_twilio, "/_fake/faults", {"next": ["21211"]})
    backend = get_backend()

    codes = []
    for _ in range(3):
        with pytest.raises(SmsError) as raised:
            backend.send(to="+447700900123", body="hello")
        codes.append(raised.value.code)
    backend.send(to="+447700900123", body="hello")

    assert codes == [20429, 20429, 21211]
    log = _control(fake_twilio, "/_fake/messages")["messages"]
    assert [entry["body"] for entry in log] == ["hello"]


def test_a_sent_message_can_be_fetched_through_the_library(fake_twilio):
    backend = get_backend()
    sent = backend.send(to="+447700900123", body="fetch me")

    fetched = backend.client.messages(sent.sid).fetch()

    assert fetched.body == "fetch me"
    assert fetched.to == "+447700900123"
    assert fetched.status in {"queued", "sent", "delivered"}


@pytest.mark.django_db(transaction=True)
def test_signed_callbacks_from_the_fake_are_accepted_by_our_webhook(
    fake_twilio, live_server, settings, outbox_message
):
    settings.PUBLIC_BASE_URL = live_server.url
    settings.QUIET_HOURS = (clock_time(3, 0), clock_time(3, 1))  # not what this test is about
    fake_twilio.callbacks = True
    message = outbox_message(due_at=timezone.now(), rule_name="Booking confirmation")

    messages_dispatch_due()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.status == Message.Status.DELIVERED:
            break
        time.sleep(0.1)

    assert message.status == Message.Status.DELIVERED
    assert message.delivered_at is not None
