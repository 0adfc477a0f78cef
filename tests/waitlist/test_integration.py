"""End to end through PostgreSQL, Redis, a real Celery worker and beat, and the fake Twilio: a
booked client cancels; the cleared client who joined the waitlist first is texted the offer
(the uncleared one who joined before them is not); they let it lapse, so the next cleared client
is texted; that client claims it and it is booked; the first one's late claim is told the time
has just been taken. The freed time's timeline is printed (``-s``) for the closing note."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as clock_time

import pytest
from django.utils import timezone

from bookings import services
from bookings.models import Appointment, Consultation
from reminders.models import Message
from tests import factories
from tests.reminders.conftest import fake_twilio  # noqa: F401 - fixture
from tests.reminders.test_integration import (  # noqa: F401 - fixtures
    cluster_factory,
    redis_db,
)
from waitlist.models import FreedTime, WaitlistOffer, WaitlistSettings
from waitlist.services import waitlist_join

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]

CLAIM_LINK = re.compile(r"/w/([^/\s]+)/")


def _cleared(client, *, treatment_service, consultation_service, practitioner, location):
    visit = factories.AppointmentFactory(
        client=client,
        service=consultation_service,
        practitioner=practitioner,
        location=location,
        start_at=timezone.now() - timedelta(days=42 + Consultation.objects.count()),
        status="completed",
    )
    consultation = Consultation.objects.create(
        appointment=visit,
        client=client,
        outcome=Consultation.Outcome.CLEARED,
        valid_until=timezone.localdate() + timedelta(days=120),
        consent_signed_at=visit.start_at,
    )
    consultation.services_cleared.add(treatment_service)
    return client


def _next_weekday_at_ten(location) -> datetime:
    day = timezone.now().astimezone(location.zone).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, clock_time(10), tzinfo=location.zone)


def _wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _offer_text_to(fake, phone: str):
    def find():
        return next(
            (
                entry
                for entry in fake.accepted_log()
                if entry["to"] == phone and CLAIM_LINK.search(entry["body"])
            ),
            None,
        )

    return find


def test_a_cancelled_time_goes_to_the_cleared_waiting_client_and_is_booked_when_claimed(
    fake_twilio,  # noqa: F811
    cluster_factory,  # noqa: F811
    client,
    location,
    practitioner,
    treatment_service,
    consultation_service,
    reception,
):
    started = time.monotonic()
    WaitlistSettings.objects.create(location=location, hold_minutes=1)
    where = {
        "treatment_service": treatment_service,
        "consultation_service": consultation_service,
        "practitioner": practitioner,
        "location": location,
    }
    start_at = _next_weekday_at_ten(location)
    morning = [(start_at.date(), "morning")]
    uncleared = factories.ClientFactory(first_name="Una")
    first = _cleared(factories.ClientFactory(first_name="Ada"), **where)
    second = _cleared(factories.ClientFactory(first_name="Bo"), **where)
    for person in (uncleared, first, second):
        waitlist_join(client=person, service=treatment_service, location=location, windows=morning)
    leaver = _cleared(factories.ClientFactory(first_name="Lee"), **where)
    booked = services.appointment_book(
        client=leaver, service=treatment_service, location=location, start_at=start_at
    )

    cluster = cluster_factory()
    cluster.start_worker()
    cluster.start_beat()
    # A late cancellation: the client calls, reception cancels (online changes have closed).
    services.appointment_cancel(appointment=booked, actor=reception, reason="Client called")

    first_text = _wait_for(_offer_text_to(fake_twilio, first.phone), timeout=60, what="offer 1")
    assert "needling" not in first_text["body"].lower()
    # Ada lets it lapse (the hold is 1 minute here): the next cleared client is texted.
    second_text = _wait_for(_offer_text_to(fake_twilio, second.phone), timeout=150, what="offer 2")
    assert not [entry for entry in fake_twilio.accepted_log() if entry["to"] == uncleared.phone]

    second_token = CLAIM_LINK.search(second_text["body"]).group(1)
    claimed = client.post(f"/w/{second_token}/")
    assert claimed.status_code == 302
    appointment = Appointment.objects.get(
        client=second, start_at=start_at, status=Appointment.Status.BOOKED
    )
    assert appointment.service == treatment_service

    first_token = CLAIM_LINK.search(first_text["body"]).group(1)
    late = client.post(f"/w/{first_token}/")
    assert late.status_code == 410
    assert "just been taken" in late.content.decode()

    freed = FreedTime.objects.get(source_appointment=booked)
    assert freed.status == FreedTime.Status.CLAIMED
    offers = list(WaitlistOffer.objects.filter(freed_time=freed).order_by("sequence"))
    assert [(offer.client_id, offer.status) for offer in offers] == [
        (first.pk, WaitlistOffer.Status.EXPIRED),
        (second.pk, WaitlistOffer.Status.CLAIMED),
    ]
    _print_timeline(freed, offers, fake_twilio, started=started)


def _print_timeline(freed, offers, fake, *, started: float) -> None:
    zone = freed.location.zone

    def local(moment):
        return moment.astimezone(zone).strftime("%H:%M:%S") if moment else "-"

    lines = [
        f"Freed time {freed.pk}: {freed.start_at.astimezone(zone):%a %d %b %H:%M} with "
        f"{freed.practitioner.display_name} ({freed.get_source_display()}), recorded "
        f"{local(freed.created_at)}, now {freed.status}, recovered {freed.recovered_minor} minor"
    ]
    for offer in offers:
        message = Message.objects.get(pk=offer.message_id)
        lines.append(
            f"  offer {offer.sequence} to client {offer.client_id}: offered {local(offer.offered_at)}"
            f", expires {local(offer.expires_at)}, {offer.status} {local(offer.resolved_at)}; "
            f"text {message.status} sent {local(message.sent_at)}: {message.body!r}"
        )
    lines.append(f"  texts at the fake Twilio: {len(fake.accepted_log())}")
    lines.append(f"  wall time: {time.monotonic() - started:.0f} s")
    print("\n".join(lines))  # noqa: T201 - the timeline for the closing note
