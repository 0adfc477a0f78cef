"""The Twilio backend through the official library against the in-thread fake server."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from reminders.backends import SmsError, get_backend
from reminders.dispatch import messages_dispatch_due, messages_reconcile_stuck
from reminders.models import Message

Status = Message.Status


def _later(minutes: int):
    return timezone.now() + timedelta(minutes=minutes)


def _send_due(message):
    Message.objects.filter(pk=message.pk).update(due_at=timezone.now())
    messages_dispatch_due(max_batches=1)
    message.refresh_from_db()


@pytest.fixture
def due(outbox_message):
    return outbox_message(due_at=timezone.now(), rule_name="Booking confirmation")


@pytest.fixture(autouse=True)
def _daytime(settings):
    # Whatever the wall clock says when the suite runs, these tests are not about quiet hours.
    from datetime import time

    settings.QUIET_HOURS = (time(3, 0), time(3, 1))


def test_success_records_the_sid_with_callback_url_and_validity_period(fake_twilio, due):
    messages_dispatch_due()

    due.refresh_from_db()
    accepted = fake_twilio.accepted_log()
    assert len(accepted) == 1
    assert due.status == Status.SENT
    assert due.provider_sid == accepted[0]["sid"]
    assert due.provider_sid.startswith("SM")
    callback = urlparse(accepted[0]["status_callback"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == (
        "https://clinic.example/webhooks/twilio/status"
    )
    assert parse_qs(callback.query) == {"m": [str(due.pk)]}
    assert accepted[0]["validity_period"] == "14400"


def test_429_is_retried_and_sent_once(fake_twilio, due):
    fake_twilio.inject("429")

    messages_dispatch_due(max_batches=1)
    due.refresh_from_db()
    assert due.status == Status.SCHEDULED
    assert due.error_code == 20429

    _send_due(due)
    assert due.status == Status.SENT
    assert len(fake_twilio.accepted_log()) == 1


def test_500_leaves_the_row_sending_and_reconciliation_resends_once_when_twilio_has_none(
    fake_twilio, due
):
    fake_twilio.inject("500")

    messages_dispatch_due(max_batches=1)
    due.refresh_from_db()
    assert due.status == Status.SENDING  # may exist at Twilio: never resent blindly
    assert fake_twilio.accepted_log() == []

    report = messages_reconcile_stuck(now=_later(10))
    assert report.resent == 1
    _send_due(due)
    assert due.status == Status.SENT
    assert len(fake_twilio.accepted_log()) == 1


def test_accepted_then_connection_lost_is_reconciled_from_the_message_list(fake_twilio, due):
    fake_twilio.inject("crash-after-accept")

    messages_dispatch_due(max_batches=1)
    due.refresh_from_db()
    assert due.status == Status.SENDING

    report = messages_reconcile_stuck(now=_later(10))
    messages_dispatch_due()

    due.refresh_from_db()
    accepted = fake_twilio.accepted_log()
    assert report.confirmed_sent == 1
    assert len(accepted) == 1
    assert due.status == Status.SENT
    assert due.provider_sid == accepted[0]["sid"]


def test_timeout_is_treated_as_maybe_accepted(fake_twilio, due):
    fake_twilio.inject("timeout")

    messages_dispatch_due(max_batches=1)

    due.refresh_from_db()
    assert due.status == Status.SENDING
    assert "Outcome unknown" in due.status_reason


def test_21211_fails_permanently_with_a_reason_staff_understand(fake_twilio, due):
    fake_twilio.inject("21211")

    messages_dispatch_due()

    due.refresh_from_db()
    assert due.status == Status.FAILED
    assert due.error_code == 21211
    assert "not valid" in due.status_reason


def test_21610_fails_and_opts_the_client_out(fake_twilio, due, client_person):
    fake_twilio.inject("21610")

    messages_dispatch_due()

    due.refresh_from_db()
    client_person.refresh_from_db()
    assert due.status == Status.FAILED
    assert client_person.sms_opted_out_at is not None


def test_wrong_credentials_are_a_permanent_error(fake_twilio, settings):
    from reminders.backends import reset_backends

    settings.TWILIO_AUTH_TOKEN = "wrong"
    reset_backends()

    with pytest.raises(SmsError) as raised:
        get_backend().send(to="+447700900123", body="hi")

    assert raised.value.permanent
    assert raised.value.code == 20003


def test_lookup_finds_only_a_message_with_the_same_body(fake_twilio):
    backend = get_backend()
    since = timezone.now() - timedelta(minutes=1)
    sent = backend.send(to="+447700900123", body="one")

    assert backend.lookup(to="+447700900123", body="one", since=since).sid == sent.sid
    assert not backend.lookup(to="+447700900123", body="two", since=since).found
    assert not backend.lookup(to="+447700900999", body="one", since=since).found
