from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookings import signals
from bookings.models import Appointment
from reminders.backends import locmem, reset_backends
from reminders.ratelimit import reset_rate_limiter
from tests import factories


@pytest.fixture(autouse=True)
def _clean_sms_state(settings, request):
    if request.node.get_closest_marker("integration") is None:
        # Unit tests: unthrottled, process-local rate limiter, no Redis.
        settings.SMS_RATE_PER_SECOND = 0
        settings.REDIS_URL = ""
    locmem.reset()
    reset_backends()
    reset_rate_limiter()
    yield
    locmem.reset()
    reset_backends()


@pytest.fixture
def book(location, treatment_service, practitioner, client_person):
    """Write an appointment row and announce it as booked, like bookings.services does."""

    def _book(
        *,
        start_at: datetime,
        service=None,
        client=None,
        status: str = Appointment.Status.BOOKED,
        send: bool = True,
    ) -> Appointment:
        service = service or treatment_service
        appointment = factories.AppointmentFactory(
            client=client or client_person,
            service=service,
            practitioner=practitioner,
            location=location,
            start_at=start_at,
            status=status,
        )
        if send:
            signals.appointment_booked.send(
                sender=Appointment, appointment=appointment, actor_label="client"
            )
        return appointment

    return _book


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def days(n: float) -> timedelta:
    return timedelta(days=n)


@pytest.fixture
def outbox_message(location, client_person):
    """Create a scheduled outbox row without going through planning."""
    from reminders.models import Message, ReminderRule

    def _make(*, due_at: datetime, rule_name: str | None = "Aftercare: same evening", **fields):
        rule = ReminderRule.objects.get(name=rule_name) if rule_name else None
        defaults = {
            "client": client_person,
            "location": location,
            "rule": rule,
            "category": rule.category if rule else ReminderRule.Category.ADHOC,
            "to": client_person.phone,
            "body": "Hi, a generic care reminder.",
            "due_at": due_at,
        }
        defaults.update(fields)
        return Message.objects.create(**defaults)

    return _make


@pytest.fixture
def fake_twilio(settings):
    from tests.fake_twilio import FakeTwilio

    fake = FakeTwilio(callbacks=False, timeout_seconds=2).start()
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = fake.account_sid
    settings.TWILIO_AUTH_TOKEN = fake.auth_token
    settings.TWILIO_FROM_NUMBER = "+447700900001"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_BASE_URL = fake.url
    settings.TWILIO_TIMEOUT_SECONDS = 1.0
    settings.PUBLIC_BASE_URL = "https://clinic.example"
    reset_backends()
    yield fake
    fake.stop()
    reset_backends()
