"""Recording a visit that already happened (a walk-in nobody entered): completed, audited, and
no booking texts for steps whose time has passed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings.models import Appointment, AppointmentEvent
from bookings.services.appointments import appointment_record_past_visit
from clinic.errors import PermissionDenied, SlotTaken, ValidationFailed
from reminders.models import Message
from tests.workspace.conftest import NOW, TUESDAY, at

pytestmark = pytest.mark.django_db

MONDAY = TUESDAY - timedelta(days=1)


def record(actor, client, service, location, practitioner, **overrides):
    return appointment_record_past_visit(
        **{
            "actor": actor,
            "client": client,
            "service": service,
            "location": location,
            "start_at": at(11, day=MONDAY),
            "practitioner": practitioner,
            "reason": "Walk-in, not entered at the time",
            **overrides,
        }
    )


def test_a_past_visit_is_recorded_as_completed_with_who_and_why(
    reception, client_person, treatment_service, location, practitioner
):
    visit = record(reception, client_person, treatment_service, location, practitioner)

    assert visit.status == Appointment.Status.COMPLETED
    assert visit.channel == Appointment.Channel.STAFF
    event = AppointmentEvent.objects.get(appointment=visit)
    assert (event.kind, event.actor, event.reason) == (
        "recorded_past_visit",
        reception,
        "Walk-in, not entered at the time",
    )


def test_no_text_is_sent_for_a_step_whose_time_has_passed(
    reception, client_person, consultation_service, treatment_service, location, practitioner
):
    visit = record(reception, client_person, treatment_service, location, practitioner)

    due_now = Message.objects.filter(
        appointment=visit, status=Message.Status.SCHEDULED, due_at__lte=NOW
    )
    assert not due_now.exists()
    assert not Message.objects.filter(appointment=visit, category="confirmation").exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"start_at": at(10)}, "start"),  # tomorrow: book it instead
        ({"start_at": at(7, 30, day=TUESDAY)}, "start"),  # still going on at 08:00
        ({"start_at": at(11, day=MONDAY - timedelta(days=91))}, "start"),
        ({"reason": "  "}, "reason"),
    ],
)
def test_bad_past_visits_name_the_field(
    reception, client_person, treatment_service, location, practitioner, overrides, field
):
    with pytest.raises(ValidationFailed) as refusal:
        record(reception, client_person, treatment_service, location, practitioner, **overrides)

    assert refusal.value.field == field
    assert not Appointment.objects.exists()


def test_a_past_visit_cannot_overlap_one_already_recorded(
    reception, client_person, treatment_service, location, practitioner
):
    record(reception, client_person, treatment_service, location, practitioner)

    with pytest.raises(SlotTaken):
        record(
            reception,
            client_person,
            treatment_service,
            location,
            practitioner,
            start_at=at(11, 30, day=MONDAY),
        )


def test_only_staff_record_past_visits(
    stranger, client_person, treatment_service, location, practitioner
):
    with pytest.raises(PermissionDenied):
        record(stranger, client_person, treatment_service, location, practitioner)


def test_the_booking_form_records_a_past_visit_when_a_reason_is_given(
    as_reception, client_person, treatment_service, location, practitioner
):
    response = as_reception.post(
        "/staff/appointments/new/",
        {
            "location": location.id,
            "start": "2026-11-30T11:00",
            "practitioner": practitioner.id,
            "service": treatment_service.id,
            "client": client_person.id,
            "past_reason": "Walk-in",
        },
    )

    assert response.status_code == 302
    visit = Appointment.objects.get()
    assert visit.status == Appointment.Status.COMPLETED
    assert visit.start_at == at(11, day=MONDAY)
