"""The real booking services drive the outbox through their signals (no hand-sent signals)."""

from __future__ import annotations

import time_machine

from bookings import services as booking_services
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
