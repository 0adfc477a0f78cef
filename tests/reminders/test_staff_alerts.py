"""Alerts to staff by email: an urgent aftercare reply reaches the practitioner who did the
treatment (or the managers), once, without client details, and a failed email is retried."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from reminders import services, tasks
from reminders.models import InboundMessage, StaffAlert
from reminders.models import Message as OutboxMessage
from reminders.services import staff_alerts
from tests import factories
from tests.reminders.conftest import utc

pytestmark = pytest.mark.django_db

Status = OutboxMessage.Status
WORRIED = "my face has a lot of swelling and pain"


def _inbound(phone: str, body: str) -> None:
    """A reply arriving by the (already signature-checked) webhook."""
    services.inbound_receive(
        provider_sid=f"SM{InboundMessage.objects.count():032d}",
        from_number=phone,
        to_number="+447700900001",
        body=body,
    )


@pytest.fixture(autouse=True)
def send_tasks_inline(monkeypatch):
    """Run the after-commit task in the test process instead of a worker."""
    monkeypatch.setattr(tasks.send_staff_alert, "delay", lambda pk: tasks.send_staff_alert(pk))


@pytest.fixture
def treated(book, outbox_message, clock_evening):
    """A treatment done this afternoon whose aftercare text went out at 18:00, and the
    client's next session booked in four weeks."""
    visit = book(start_at=clock_evening - timedelta(hours=5), send=False)
    book(start_at=clock_evening + timedelta(days=28), send=False)
    outbox_message(
        due_at=clock_evening - timedelta(hours=1),
        status=Status.SENT,
        sent_at=clock_evening - timedelta(hours=1),
        appointment=visit,
    )
    return visit


@pytest.fixture
def clock_evening():
    evening = utc(2026, 5, 12, 18)  # 19:00 BST, the clinic has closed
    with time_machine.travel(evening, tick=False):
        yield evening


def test_an_urgent_reply_emails_the_treating_practitioner_once_without_details(
    client_person, treated, practitioner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _inbound(client_person.phone, WORRIED)

    inbound = InboundMessage.objects.get()
    # The reply is about the visit the aftercare was for, not the next one.
    assert inbound.appointment == treated
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [practitioner.user.email]
    assert "/staff/inbox/" in email.body
    assert "urgent contact number" in email.body
    for private in (WORRIED, "swelling and pain", client_person.first_name, client_person.phone):
        assert private not in email.body
        assert private not in email.subject
    alert = StaffAlert.objects.get()
    assert (alert.kind, alert.recipient, alert.inbound) == (
        "urgent_reply",
        practitioner.user,
        inbound,
    )
    assert alert.sent_at is not None

    # Announced again (e.g. the service called twice for one reply): no second alert.
    assert staff_alerts.staff_alert_urgent_reply(inbound=inbound, location_open=False) == []
    assert len(mail.outbox) == 1


def test_without_a_practitioner_email_the_managers_are_alerted(
    client_person, treated, practitioner, manager, django_capture_on_commit_callbacks
):
    practitioner.user.email = ""
    practitioner.user.save()
    other_manager = factories.UserFactory(username="max_manager")
    other_manager.groups.add(manager.groups.get())
    with django_capture_on_commit_callbacks(execute=True):
        _inbound(client_person.phone, WORRIED)
    assert sorted(email.to[0] for email in mail.outbox) == sorted(
        [manager.email, other_manager.email]
    )


def test_a_calm_reply_alerts_nobody(client_person, treated, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _inbound(client_person.phone, "All good, thank you!")
    assert not StaffAlert.objects.exists()
    assert mail.outbox == []


def test_a_failed_email_is_kept_and_sent_by_the_sweep(
    client_person, treated, monkeypatch, django_capture_on_commit_callbacks
):
    def mail_server_down(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(staff_alerts, "send_mail", mail_server_down)
    with django_capture_on_commit_callbacks(execute=True):
        _inbound(client_person.phone, WORRIED)
    alert = StaffAlert.objects.get()
    assert (alert.sent_at, alert.attempts) == (None, 1)
    assert "ConnectionRefusedError" in alert.last_error

    monkeypatch.undo()
    # Too fresh for the sweep (its own task may still be on the way)...
    assert staff_alerts.staff_alerts_send_unsent(now=timezone.now()) == 0
    # ...later the sweep sends it, once.
    later = timezone.now() + timedelta(minutes=3)
    assert staff_alerts.staff_alerts_send_unsent(now=later) == 1
    assert staff_alerts.staff_alerts_send_unsent(now=later) == 0
    alert.refresh_from_db()
    assert (alert.sent_at, alert.attempts, alert.last_error) == (later, 2, "")
    assert len(mail.outbox) == 1


def test_an_alert_whose_recipient_lost_their_email_is_given_up(
    client_person, treated, practitioner, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.send_staff_alert, "delay", lambda pk: None)  # task lost
    with django_capture_on_commit_callbacks(execute=True):
        _inbound(client_person.phone, WORRIED)
    practitioner.user.email = ""
    practitioner.user.save()

    later = timezone.now() + timedelta(minutes=3)
    assert staff_alerts.staff_alerts_send_unsent(now=later) == 0
    alert = StaffAlert.objects.get()
    assert alert.sent_at is None
    assert alert.attempts == staff_alerts.MAX_ATTEMPTS
    assert "no email" in alert.last_error
    assert staff_alerts.staff_alerts_send_unsent(now=later + timedelta(hours=1)) == 0
    assert mail.outbox == []


def test_the_sweep_runs_on_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["reminders-staff-alerts-sweep"]
    assert entry["task"] == "reminders.send_unsent_staff_alerts"


def test_an_urgent_reply_with_no_visit_or_open_clinic_still_reaches_the_managers(
    client_person,
    location,
    manager,
    outbox_message,
    clock_evening,
    django_capture_on_commit_callbacks,
):
    # The aftercare text was sent without an appointment and the clinic has since closed its
    # only location: nothing to route by, so the managers hear of it.
    outbox_message(
        due_at=clock_evening - timedelta(hours=1),
        status=Status.SENT,
        sent_at=clock_evening - timedelta(hours=1),
    )
    client_person.preferred_location = None
    client_person.save()
    location.is_active = False
    location.save()
    with django_capture_on_commit_callbacks(execute=True):
        _inbound(client_person.phone, WORRIED)
    assert InboundMessage.objects.get().is_urgent
    assert [email.to for email in mail.outbox] == [[manager.email]]
