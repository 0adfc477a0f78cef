"""The consultation rules on PostgreSQL: row locks across nullable joins, the exclusion
constraints when a released tentative slot is booked again, and the property run once more."""

from __future__ import annotations

from datetime import date

import pytest

from bookings import eligibility, services
from bookings.models import Appointment
from bookings.services.consultations import tentative_holds_release_due
from clinic.errors import NotEligible
from tests import factories
from tests.consultations.conftest import at
from tests.consultations.test_properties import (
    test_no_booked_treatment_without_clearance_or_audited_override as property_run,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_not_suitable_frees_the_tentative_slot_for_someone_else_on_postgres(
    book_consultation, book_treatment, clear, client_person, manager
):
    consultation_appointment = book_consultation(client_person)
    tentative = book_treatment(
        client_person, at(10), awaiting_consultation=consultation_appointment
    )
    clear(consultation_appointment, outcome="not_suitable")
    tentative.refresh_from_db()
    assert tentative.status == Appointment.Status.CANCELLED
    other = factories.ClientFactory()
    taken = book_treatment(other, at(10), actor=manager, override_reason="Known client")
    assert (taken.start_at, taken.room_id) == (tentative.start_at, tentative.room_id)


def test_clearing_books_and_rescheduling_rechecks_eligibility_on_postgres(
    book_consultation, book_treatment, clear, client_person
):
    consultation_appointment = book_consultation(client_person)
    tentative = book_treatment(
        client_person, at(10), awaiting_consultation=consultation_appointment
    )
    clear(consultation_appointment, valid_until=date(2026, 12, 31))
    tentative.refresh_from_db()
    assert tentative.status == Appointment.Status.BOOKED
    with pytest.raises(NotEligible) as refused:
        services.appointment_reschedule(
            appointment=tentative, start_at=at(10, day=date(2027, 1, 11))
        )
    assert refused.value.code == "clearance_expired"


def test_release_due_locks_and_cancels_on_postgres(
    book_consultation, book_treatment, client_person, treatment_service
):
    consultation_appointment = book_consultation(client_person)
    tentative = book_treatment(
        client_person, at(10), awaiting_consultation=consultation_appointment
    )
    services.appointment_cancel(appointment=consultation_appointment, actor_label="client")
    tentative.refresh_from_db()
    assert tentative.status == Appointment.Status.CANCELLED
    assert tentative_holds_release_due() == 0
    assert (
        eligibility.check(client=client_person, service=treatment_service, start_at=at(10)).reason
        == "consultation_required"
    )


def test_the_clearance_property_holds_on_postgres(
    location,
    practitioner,
    consultation_service,
    treatment_service,
    practitioner_user,
    manager,
):
    property_run(
        location=location,
        practitioner=practitioner,
        consultation_service=consultation_service,
        treatment_service=treatment_service,
        practitioner_user=practitioner_user,
        manager=manager,
    )


@pytest.mark.django_db(transaction=True)
def test_two_practitioners_recording_at_once_leave_exactly_one_outcome(
    book_consultation, client_person, practitioner_user, manager, treatment_service, clock
):
    import threading

    from django.db import connection

    from bookings.models import Consultation
    from bookings.services.consultations import consultation_record_outcome
    from clinic.errors import IllegalTransition

    appointment = book_consultation(client_person)
    clock.move_to(appointment.start_at)  # outcomes are recorded from the consultation's start
    consultation = appointment.consultation
    barrier = threading.Barrier(2)
    results: list[str] = []

    def record(actor, outcome):
        try:
            barrier.wait(timeout=5)
            consultation_record_outcome(
                consultation=consultation,
                actor=actor,
                outcome=outcome,
                services=[treatment_service] if outcome == "cleared" else [],
                screened_in_person=True,
            )
            results.append(outcome)
        except IllegalTransition:
            results.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=record, args=(practitioner_user, "cleared")),
        threading.Thread(target=record, args=(manager, "not_suitable")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 2
    assert results.count("refused") == 1
    winner = next(result for result in results if result != "refused")
    assert Consultation.objects.get(pk=consultation.pk).outcome == winner
