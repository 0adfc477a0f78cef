from __future__ import annotations

from datetime import date, timedelta

import pytest

from bookings import availability, services, signals
from bookings.models import Appointment, Consultation, HealthDataAccess
from bookings.services.consultations import (
    RELEASED_REASON,
    consultation_read,
    consultation_record_outcome,
    tentative_holds_release_due,
)
from clinic.errors import IllegalTransition, PermissionDenied, ValidationFailed
from tests.consultations.conftest import MONDAY, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def tentative(book_consultation, book_treatment, client_person):
    """A consultation on Wednesday and a treatment held tentatively on Monday."""
    consultation_appointment = book_consultation(client_person)
    treatment = book_treatment(
        client_person, at(10), awaiting_consultation=consultation_appointment
    )
    return consultation_appointment, treatment


def received(signal):
    calls = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    signal.connect(receiver, weak=False)
    return calls, lambda: signal.disconnect(receiver)


def test_booking_a_consultation_opens_its_record(book_consultation, client_person):
    appointment = book_consultation(client_person)
    consultation = Consultation.objects.get(appointment=appointment)
    assert consultation.client == client_person
    assert consultation.outcome == "pending"


def test_a_treatment_can_be_held_tentatively_a_day_after_the_consultation(tentative):
    _, treatment = tentative
    assert treatment.status == Appointment.Status.PENDING_CLEARANCE


def test_clearing_the_consultation_books_the_tentative_treatment(tentative, clear):
    consultation_appointment, treatment = tentative
    booked, disconnect = received(signals.appointment_booked)
    try:
        clear(consultation_appointment)
    finally:
        disconnect()
    treatment.refresh_from_db()
    assert treatment.status == Appointment.Status.BOOKED
    assert [call["appointment"].pk for call in booked] == [treatment.pk]


def test_not_suitable_cancels_the_tentative_hold_and_frees_its_slot(
    tentative, clear, treatment_service, location
):
    consultation_appointment, treatment = tentative
    cancelled, disconnect = received(signals.appointment_cancelled)
    try:
        clear(consultation_appointment, outcome="not_suitable")
    finally:
        disconnect()
    treatment.refresh_from_db()
    assert treatment.status == Appointment.Status.CANCELLED
    assert treatment.cancellation_reason == RELEASED_REASON
    assert [call["appointment"].pk for call in cancelled] == [treatment.pk]
    assert availability.slot_at(service=treatment_service, location=location, start_at=at(10))


def test_needs_review_keeps_the_tentative_hold_waiting(tentative, clear):
    consultation_appointment, treatment = tentative
    clear(consultation_appointment, outcome="needs_review")
    treatment.refresh_from_db()
    assert treatment.status == Appointment.Status.PENDING_CLEARANCE
    clear(consultation_appointment)
    treatment.refresh_from_db()
    assert treatment.status == Appointment.Status.BOOKED


def test_clearing_with_a_later_not_before_cancels_a_tentative_treatment_that_is_too_early(
    tentative, clear
):
    consultation_appointment, treatment = tentative
    clear(consultation_appointment, not_before=MONDAY + timedelta(days=14))
    treatment.refresh_from_db()
    assert treatment.status == Appointment.Status.CANCELLED


def test_cancelling_the_consultation_releases_its_tentative_treatment(tentative):
    consultation_appointment, treatment = tentative
    services.appointment_cancel(appointment=consultation_appointment, actor_label="client")
    treatment.refresh_from_db()
    assert treatment.status == Appointment.Status.CANCELLED


def test_unassessed_consultation_releases_the_hold_at_the_margin(tentative, clock, settings):
    settings.CLEARANCE_MARGIN_HOURS = 12
    _, treatment = tentative
    assert tentative_holds_release_due(now=at(21, day=MONDAY - timedelta(days=1))) == 0
    clock.move_to(at(22, 1, day=MONDAY - timedelta(days=1)))
    assert tentative_holds_release_due() == 1
    treatment.refresh_from_db()
    assert treatment.status == Appointment.Status.CANCELLED


def test_release_due_leaves_holds_whose_consultation_is_upcoming(tentative):
    assert tentative_holds_release_due() == 0


def test_only_clinical_staff_record_outcomes(tentative, reception, stranger, treatment_service):
    consultation_appointment, _ = tentative
    for actor in (reception, stranger, None):
        with pytest.raises(PermissionDenied):
            consultation_record_outcome(
                consultation=consultation_appointment.consultation,
                actor=actor,
                outcome="cleared",
                services=[treatment_service],
            )


def test_manager_can_record_an_outcome(tentative, clear, manager):
    consultation_appointment, _ = tentative
    consultation = clear(consultation_appointment, actor=manager)
    assert consultation.assessed_by == manager


def test_clearing_needs_services_and_records_the_consent_version(
    tentative, clear, practitioner_user
):
    consultation_appointment, _ = tentative
    with pytest.raises(ValidationFailed) as invalid:
        clear(consultation_appointment, services=[])
    assert invalid.value.field == "services"
    consultation = clear(consultation_appointment)
    assert consultation.consent_version.version == "1"
    assert consultation.consent_signed_at is not None


def test_a_final_outcome_cannot_be_changed(tentative, clear):
    consultation_appointment, _ = tentative
    clear(consultation_appointment)
    with pytest.raises(IllegalTransition):
        clear(consultation_appointment, outcome="not_suitable")


def test_a_cancelled_consultation_cannot_be_cleared(book_consultation, clear, client_person):
    appointment = book_consultation(client_person)
    services.appointment_cancel(appointment=appointment, actor_label="client")
    with pytest.raises(IllegalTransition):
        clear(appointment)


def test_every_outcome_change_is_audited(tentative, clear, practitioner_user):
    consultation_appointment, _ = tentative
    consultation = clear(consultation_appointment, notes="Mild rosacea, calm today")
    row = HealthDataAccess.objects.get(consultation=consultation, action="change")
    assert row.actor == practitioner_user
    assert "notes" in row.fields
    assert "Mild rosacea" not in str(row.fields)


def test_practitioner_reads_health_data_and_the_read_is_audited(
    book_consultation, client_person, practitioner_user
):
    consultation = book_consultation(client_person).consultation
    record = consultation_read(consultation=consultation, actor=practitioner_user)
    assert record.includes_health_data
    assert record.answers == []
    row = HealthDataAccess.objects.get(consultation=consultation, action="read")
    assert (row.actor, row.actor_label) == (practitioner_user, "staff:pat_practitioner")


def test_reception_sees_the_outcome_only_and_is_refused_screening_answers(
    book_consultation, client_person, reception
):
    consultation = book_consultation(client_person).consultation
    record = consultation_read(
        consultation=consultation, actor=reception, include_health_data=False
    )
    assert record.answers is None
    assert record.notes is None
    with pytest.raises(PermissionDenied):
        consultation_read(consultation=consultation, actor=reception)
    actions = sorted(
        HealthDataAccess.objects.filter(consultation=consultation).values_list("action", flat=True)
    )
    assert actions == ["denied", "read"]


def test_a_stranger_cannot_see_a_consultation_at_all(book_consultation, client_person, stranger):
    consultation = book_consultation(client_person).consultation
    with pytest.raises(PermissionDenied):
        consultation_read(consultation=consultation, actor=stranger, include_health_data=False)


def test_tentative_hold_must_be_a_day_after_the_consultation(
    book_consultation, book_treatment, client_person
):
    consultation_appointment = book_consultation(client_person, at(10, day=date(2026, 12, 3)))
    with pytest.raises(ValidationFailed):
        book_treatment(
            client_person,
            at(9, day=date(2026, 12, 4)),
            awaiting_consultation=consultation_appointment,
        )


def test_the_release_runs_every_five_minutes_from_beat(tentative, clock, settings):
    from bookings.tasks import release_tentative_treatments

    entry = settings.CELERY_BEAT_SCHEDULE["bookings.release-tentative-treatments"]
    assert entry == {"task": "bookings.tentative_holds_release_due", "schedule": 300.0}
    settings.CLEARANCE_MARGIN_HOURS = 12
    _, treatment = tentative
    clock.move_to(at(23, day=MONDAY - timedelta(days=1)))
    assert release_tentative_treatments() == 1
    treatment.refresh_from_db()
    assert treatment.status == Appointment.Status.CANCELLED


def test_moving_the_consultation_too_close_releases_the_tentative_treatment(tentative, clock):
    consultation_appointment, treatment = tentative
    services.appointment_reschedule(
        appointment=consultation_appointment, start_at=at(9, day=MONDAY - timedelta(days=3))
    )
    treatment.refresh_from_db()
    assert treatment.status == Appointment.Status.PENDING_CLEARANCE
    services.appointment_reschedule(appointment=consultation_appointment, start_at=at(9))
    treatment.refresh_from_db()
    assert treatment.status == Appointment.Status.CANCELLED
    assert treatment.cancellation_reason == RELEASED_REASON
