"""End to end through the fake Twilio: a client's worrying text an hour after treatment comes in
as Twilio's signed webhook and is answered, flagged and alerted; a treatment booked two days
ahead gets its catch-up pre-care text through the real Twilio library."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import Appointment
from reminders import dispatch
from reminders.models import InboundMessage, Message, StaffAlert
from reminders.services import staff_alerts
from tests import factories

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]


@pytest.fixture
def clinic(location, practitioner, practitioner_user):
    practitioner_user.email = "pat@clinic.example"
    practitioner_user.save()
    # Closed at every hour, so the answer is the out-of-hours one whatever the clock says.
    location.opening_time = location.closing_time = time(9)
    location.save()
    return location


def test_a_worrying_text_an_hour_after_treatment_is_answered_flagged_and_alerted(
    fake_twilio,
    live_server,
    settings,
    clinic,
    treatment_service,
    practitioner,
    client_person,
    client,
):
    settings.PUBLIC_BASE_URL = live_server.url
    treated = factories.AppointmentFactory(
        client=client_person,
        service=treatment_service,
        practitioner=practitioner,
        location=clinic,
        start_at=timezone.now() - timedelta(hours=2),
        status=Appointment.Status.COMPLETED,
    )

    twiml = fake_twilio.deliver_inbound(
        live_server.url + reverse("reminders:twilio-inbound"),
        from_=client_person.phone,
        to="+447700900001",
        body="my face is really swollen and hot and there is some pus, is that normal?",
    )

    assert clinic.urgent_phone in twiml
    assert "swelling of the lips or face, call 999" in twiml
    inbound = InboundMessage.objects.get()
    assert inbound.is_urgent
    assert inbound.appointment == treated
    alert = StaffAlert.objects.get()
    assert alert.recipient == practitioner.user
    staff_alerts.staff_alert_send(alert_id=alert.pk)
    assert mail.outbox[-1].to == ["pat@clinic.example"]
    assert "pus" not in mail.outbox[-1].body  # no health detail in the email

    client.force_login(practitioner.user)
    rows = client.get("/api/v1/staff/inbox?urgent=true").json()
    assert [(row["id"], row["urgent"], row["appointment_id"]) for row in rows] == [
        (inbound.id, True, treated.id)
    ]


def test_a_treatment_booked_two_days_ahead_gets_its_catch_up_pre_care_by_sms(
    fake_twilio, settings, clinic, practitioner, client_person, manager
):
    settings.QUIET_HOURS = (time(3, 0), time(3, 1))  # not what this test is about
    service = factories.ServiceFactory(
        name="Peel", kind="treatment", duration_minutes=60, requires_consultation=False
    )
    practitioner.services.add(service)
    start = timezone.now() + timedelta(days=2)
    for weekday in range(7):
        factories.WorkingHoursFactory(
            practitioner=practitioner,
            location=clinic,
            weekday=weekday,
            start_time=time(0),
            end_time=time(23, 59),
        )
    start_local = start.astimezone(clinic.zone).replace(minute=0, second=0, microsecond=0)
    start_local = start_local.replace(hour=min(max(start_local.hour, 1), 21))
    appointment = booking_services.appointment_book(
        client=client_person,
        service=service,
        location=clinic,
        start_at=start_local,
        practitioner=practitioner,
        actor=manager,
        channel=Appointment.Channel.STAFF,
        enforce_booking_window=False,
    )

    dispatch.messages_dispatch_due(now=timezone.now() + timedelta(minutes=6))

    by_rule = {m.rule.name: m for m in Message.objects.filter(appointment=appointment)}
    assert by_rule["Pre-care: 14 days before"].status == Message.Status.SKIPPED
    assert by_rule["Pre-care: 5 days before"].status == Message.Status.SKIPPED
    catch_up = by_rule["Pre-care: catch-up"]
    assert catch_up.status in {Message.Status.SENT, Message.Status.DELIVERED}
    sent_bodies = [entry["body"] for entry in fake_twilio.accepted_log()]
    assert any("from now no sun, sunbeds or self-tan" in body for body in sent_bodies)
    assert any("Isotretinoin" in body for body in sent_bodies)
    assert all(entry["to"] == client_person.phone for entry in fake_twilio.accepted_log())
