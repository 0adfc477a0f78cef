"""The real booking services drive the outbox through their signals (no hand-sent signals)."""

from __future__ import annotations

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings import services as booking_services
from reminders import services as reminder_services
from reminders.models import Message, ReminderRule
from tests.reminders.conftest import utc

Category = ReminderRule.Category
Status = Message.Status


@time_machine.travel(utc(2026, 5, 6, 9), tick=False)  # Wednesday
def test_booking_rescheduling_and_cancelling_through_the_services_keep_the_outbox_in_step(
    consultation_service, location, practitioner, client_person, reception
):
    appointment = booking_services.appointment_book(
        client=client_person,
        service=consultation_service,
        location=location,
        start_at=utc(2026, 5, 18, 9),  # Monday 10:00 BST
        practitioner=practitioner,
    )
    planned = Message.objects.filter(appointment=appointment)
    assert set(planned.values_list("category", flat=True)) == {
        Category.CONFIRMATION,
        Category.CONSULTATION_PREP,
        Category.DAY_BEFORE,
    }

    appointment = booking_services.appointment_reschedule(
        appointment=appointment, start_at=utc(2026, 5, 19, 9), actor=reception
    )
    day_before = Message.objects.filter(appointment=appointment, category=Category.DAY_BEFORE)
    assert {m.status for m in day_before if m.appointment_version == 1} == {Status.CANCELLED}
    assert day_before.get(appointment_version=appointment.version).due_at == utc(2026, 5, 18, 9)

    booking_services.appointment_cancel(appointment=appointment, actor=reception, reason="ill")
    rows = Message.objects.filter(appointment=appointment)
    assert rows.filter(category=Category.CANCELLATION, status=Status.SCHEDULED).count() == 1
    assert not rows.filter(status=Status.SCHEDULED).exclude(category=Category.CANCELLATION).exists()


@time_machine.travel(utc(2026, 5, 6, 9), tick=False)
def test_a_new_booking_is_planned_without_looking_for_messages_or_offers_it_cannot_have(
    consultation_service, location, practitioner, client_person
):
    with CaptureQueriesContext(connection) as queries:
        appointment = booking_services.appointment_book(
            client=client_person,
            service=consultation_service,
            location=location,
            start_at=utc(2026, 5, 18, 9),
            practitioner=practitioner,
        )
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in reads if 'FROM "reminders_message"' in sql]
    assert not [sql for sql in reads if 'FROM "waitlist_waitlistoffer"' in sql]
    assert Message.objects.filter(appointment=appointment).count() == 3


@time_machine.travel(utc(2026, 5, 6, 9), tick=False)
def test_a_booked_hold_is_planned_once_even_when_its_messages_were_planned_already(
    consultation_service, location, practitioner, client_person
):
    hold = booking_services.appointment_hold(
        service=consultation_service,
        location=location,
        start_at=utc(2026, 5, 18, 9),
        practitioner=practitioner,
    )
    # As if an earlier step had planned this visit's messages already (the unique constraint
    # on rule and version would refuse a second plan).
    hold.client = client_person
    hold.status = "booked"
    planned = reminder_services.messages_plan_for_appointment(appointment=hold)
    hold.client = None
    hold.status = "held"
    booked = booking_services.appointment_book(
        client=client_person,
        service=consultation_service,
        location=location,
        start_at=utc(2026, 5, 18, 9),
        hold=hold,
    )
    assert Message.objects.filter(appointment=booked).count() == len(planned) == 3
