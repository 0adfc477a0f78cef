from __future__ import annotations

from datetime import date, timedelta

import pytest

from bookings import eligibility, services
from bookings.models import Appointment, AppointmentEvent
from clinic.errors import NotEligible
from tests.consultations.conftest import MONDAY, WEDNESDAY, at

pytestmark = pytest.mark.django_db


def test_a_consultation_can_always_be_booked(consultation_service, client_person):
    result = eligibility.check(
        client=client_person, service=consultation_service, start_at=at(10, day=WEDNESDAY)
    )
    assert result.allowed


def test_treatment_without_any_consultation_is_refused_through_the_service(
    book_treatment, client_person
):
    with pytest.raises(NotEligible) as refused:
        book_treatment(client_person, at(10))
    assert refused.value.code == "consultation_required"
    assert refused.value.status == 409
    assert not Appointment.objects.filter(client=client_person).exists()


def test_treatment_is_pending_while_the_consultation_is_booked_but_not_assessed(
    book_consultation, book_treatment, client_person
):
    book_consultation(client_person)
    with pytest.raises(NotEligible) as refused:
        book_treatment(client_person, at(10))
    assert refused.value.code == "consultation_pending"


def test_cleared_consultation_allows_booking_the_treatment(
    book_consultation, book_treatment, clear, client_person
):
    clear(book_consultation(client_person))
    appointment = book_treatment(client_person, at(10))
    assert appointment.status == Appointment.Status.BOOKED


def test_clearance_covers_only_the_services_it_names(
    book_consultation, clear, client_person, treatment_service, room, practitioner
):
    from tests import factories

    body = factories.ServiceFactory(kind="treatment", requires_consultation=True)
    clear(book_consultation(client_person), services=[body])
    result = eligibility.check(client=client_person, service=treatment_service, start_at=at(10))
    assert result.reason == "consultation_required"


def test_expired_clearance_blocks_and_says_so(
    book_consultation, book_treatment, clear, client_person
):
    clear(book_consultation(client_person), valid_until=date(2026, 12, 31))
    assert book_treatment(client_person, at(10)).status == "booked"
    with pytest.raises(NotEligible) as refused:
        book_treatment(client_person, at(10, day=date(2027, 1, 11)))
    assert refused.value.code == "clearance_expired"


def test_clearance_is_valid_through_its_last_local_day(
    book_consultation, clear, client_person, treatment_service
):
    clear(book_consultation(client_person), valid_until=MONDAY)
    assert eligibility.check(
        client=client_person, service=treatment_service, start_at=at(16, day=MONDAY)
    ).allowed
    assert (
        eligibility.check(
            client=client_person,
            service=treatment_service,
            start_at=at(9, day=MONDAY + timedelta(days=1)),
        ).reason
        == "clearance_expired"
    )


def test_default_validity_is_the_consultation_services_validity(
    book_consultation, clear, client_person
):
    consultation = clear(book_consultation(client_person))  # held on Wednesday 2 December
    assert consultation.valid_until == date(2026, 12, 2) + timedelta(days=180)


def test_not_suitable_refuses_treatment(book_consultation, clear, client_person, treatment_service):
    clear(book_consultation(client_person), outcome="not_suitable")
    result = eligibility.check(client=client_person, service=treatment_service, start_at=at(10))
    assert (result.allowed, result.reason) == (False, "not_suitable")


def test_not_before_is_enforced_and_returned_with_the_date(
    book_consultation, book_treatment, clear, client_person
):
    clear(book_consultation(client_person), not_before=date(2026, 12, 21))
    with pytest.raises(NotEligible) as refused:
        book_treatment(client_person, at(10))
    assert refused.value.code == "not_before"
    assert refused.value.extra["not_before"] == "2026-12-21"
    assert book_treatment(client_person, at(10, day=date(2026, 12, 21))).status == "booked"


def test_course_interval_is_enforced_on_both_sides(
    book_consultation, book_treatment, clear, client_person, treatment_service
):
    clear(book_consultation(client_person))
    book_treatment(client_person, at(10, day=date(2027, 1, 4)))
    too_soon_after = eligibility.check(
        client=client_person, service=treatment_service, start_at=at(10, day=date(2027, 1, 25))
    )
    assert too_soon_after.reason == "too_soon_in_course"
    assert too_soon_after.not_before == date(2027, 2, 1)
    too_soon_before = eligibility.check(
        client=client_person, service=treatment_service, start_at=at(10, day=date(2026, 12, 14))
    )
    assert too_soon_before.reason == "too_soon_in_course"
    assert eligibility.check(
        client=client_person, service=treatment_service, start_at=at(10, day=date(2027, 2, 1))
    ).allowed


def test_rescheduling_into_the_course_gap_is_refused(
    book_consultation, book_treatment, clear, client_person
):
    clear(book_consultation(client_person))
    book_treatment(client_person, at(10, day=date(2027, 1, 4)))
    second = book_treatment(client_person, at(10, day=date(2027, 2, 1)))
    with pytest.raises(NotEligible) as refused:
        services.appointment_reschedule(appointment=second, start_at=at(10, day=date(2027, 1, 18)))
    assert refused.value.code == "too_soon_in_course"


def test_a_new_clearance_after_not_suitable_allows_treatment(
    book_consultation, clear, client_person, treatment_service, clock
):
    clear(book_consultation(client_person), outcome="not_suitable")
    clock.shift(timedelta(days=1, hours=4))  # after that consultation
    clear(book_consultation(client_person, at(10, day=date(2026, 12, 3))))
    assert eligibility.check(
        client=client_person, service=treatment_service, start_at=at(10)
    ).allowed


def test_manager_override_books_despite_refusal_and_is_audited(
    book_treatment, client_person, manager
):
    appointment = book_treatment(
        client_person,
        at(10),
        actor=manager,
        channel="staff",
        override_reason="Seen at partner clinic",
    )
    assert appointment.status == "booked"
    assert appointment.override_by == manager
    assert appointment.override_reason == "Seen at partner clinic"
    event = AppointmentEvent.objects.get(appointment=appointment, kind="override")
    assert event.details["refusal"] == "consultation_required"
    assert event.actor == manager


def test_only_a_manager_can_override(book_treatment, client_person, practitioner_user, reception):
    for actor in (practitioner_user, reception):
        with pytest.raises(NotEligible):
            book_treatment(client_person, at(10), actor=actor, override_reason="Because")


def test_an_override_needs_a_written_reason(book_treatment, client_person, manager):
    with pytest.raises(NotEligible) as refused:
        book_treatment(client_person, at(10), actor=manager, override_reason="   ")
    assert refused.value.code == "consultation_required"


def test_a_manager_override_on_reschedule_is_audited(
    book_consultation, book_treatment, clear, client_person, manager
):
    clear(book_consultation(client_person), valid_until=date(2026, 12, 31))
    treatment = book_treatment(client_person, at(10))
    moved = services.appointment_reschedule(
        appointment=treatment,
        start_at=at(10, day=date(2027, 1, 11)),
        actor=manager,
        override_reason="Client travelling; practitioner agreed by phone",
    )
    assert moved.override_by == manager
    assert moved.override_reason == "Client travelling; practitioner agreed by phone"
    event = AppointmentEvent.objects.get(appointment=moved, kind="override")
    assert event.details["refusal"] == "clearance_expired"


def test_the_booking_calendar_can_start_from_the_not_before_date(
    book_consultation, clear, client_person, treatment_service
):
    from bookings.selectors.consultations import treatment_not_before

    assert treatment_not_before(client=client_person, service=treatment_service) is None
    clear(book_consultation(client_person), not_before=date(2026, 12, 21))
    assert treatment_not_before(client=client_person, service=treatment_service) == date(
        2026, 12, 21
    )


def test_not_suitable_gives_no_booking_date_even_with_a_reassessment_date(
    book_consultation, clear, client_person, treatment_service
):
    clear(book_consultation(client_person), outcome="not_suitable", not_before=date(2027, 6, 1))
    result = eligibility.check(
        client=client_person, service=treatment_service, start_at=at(10, day=date(2027, 6, 7))
    )
    assert (result.reason, result.not_before) == ("not_suitable", None)
