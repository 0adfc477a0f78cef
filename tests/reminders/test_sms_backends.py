"""The development and test SMS backends: ids that never collide, rows that never stick."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
import time_machine

from reminders.backends import console, locmem, reset_backends
from reminders.dispatch import messages_dispatch_due, messages_reconcile_stuck
from reminders.models import Message
from tests.reminders.conftest import utc

NOON = utc(2026, 5, 12, 11)


@pytest.mark.parametrize("module", [console, locmem], ids=["console", "locmem"])
def test_message_ids_do_not_repeat_after_a_restart(module, capsys):
    backend_class = {console: "ConsoleBackend", locmem: "LocmemBackend"}[module]
    before = getattr(module, backend_class)().send(to="+447700900123", body="one").sid
    restarted = importlib.reload(module)  # a fresh process starts with fresh module state
    after = getattr(restarted, backend_class)().send(to="+447700900123", body="one").sid

    assert before != after
    assert before.startswith("SM")
    assert len(before) == len(after) == 34  # the length of a Twilio message SID


@pytest.mark.django_db
def test_console_sends_from_a_new_process_record_their_ids_beside_old_ones(
    settings, outbox_message, capsys
):
    settings.SMS_BACKEND = "console"
    reset_backends()
    with time_machine.travel(NOON, tick=False):
        first = outbox_message(due_at=NOON)
        messages_dispatch_due()
        importlib.reload(console)  # the worker restarts
        reset_backends()
        second = outbox_message(due_at=NOON, body="Another reminder")
        messages_dispatch_due()

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Message.Status.SENT, Message.Status.SENT)
    assert first.provider_sid != second.provider_sid


@pytest.mark.django_db
def test_a_console_send_interrupted_by_a_dead_worker_does_not_stay_sending(
    settings, outbox_message, capsys
):
    settings.SMS_BACKEND = "console"
    reset_backends()
    with time_machine.travel(NOON, tick=False):
        message = outbox_message(due_at=NOON)
        # The worker claimed the row and died before recording anything.
        Message.objects.filter(pk=message.pk).update(
            status=Message.Status.SENDING,
            lease_expires_at=NOON + timedelta(minutes=2),
            last_attempt_at=NOON,
            attempts=1,
        )
    with time_machine.travel(NOON + timedelta(minutes=10), tick=False):
        report = messages_reconcile_stuck()
        messages_dispatch_due()

    message.refresh_from_db()
    assert report.resent == 1
    assert message.status == Message.Status.SENT
    assert message.provider_sid
    assert "Hi, a generic care reminder." in capsys.readouterr().out
