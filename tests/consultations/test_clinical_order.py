"""Clinical records in clinical order: an outcome from the consultation's start, clearance
without online answers only when screened in person, completion after the start and with signed
consent, a no-show from 15 minutes after the start and revertible on the day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookings import policy, services
from bookings.models import Appointment, AppointmentEvent
from bookings.services.consultations import (
    consultation_record_consent,
    consultation_record_outcome,
    consultation_submit_screening,
)
from clinic.errors import IllegalTransition, ValidationFailed
from reminders.models import Message
from tests import factories
from tests.consultations.conftest import WEDNESDAY, at
from tests.consultations.test_screening import all_clear

pytestmark = pytest.mark.django_db
Status = Appointment.Status


@pytest.fixture
def consultation(book_consultation, client_person):
    return book_consultation(client_person)  # Wednesday 10:00–10:30


def _record(appointment, actor, **kwargs):
    kwargs.setdefault("services", [])
    return consultation_record_outcome(consultation=appointment.consultation, actor=actor, **kwargs)


def test_an_outcome_cannot_be_recorded_before_the_consultation_starts(
    consultation, practitioner_user, treatment_service, clock
):
    clock.move_to(at(9, 59, day=WEDNESDAY))
    with pytest.raises(IllegalTransition, match="from the consultation's start"):
        _record(
            consultation,
            practitioner_user,
            outcome="cleared",
            services=[treatment_service],
            screened_in_person=True,
        )

    clock.move_to(at(10, 0, day=WEDNESDAY))
    recorded = _record(
        consultation,
        practitioner_user,
        outcome="cleared",
        services=[treatment_service],
        screened_in_person=True,
    )
    assert recorded.outcome == "cleared"


def test_clearing_without_screening_answers_needs_screened_in_person_and_says_so(
    consultation, practitioner_user, treatment_service, clock
):
    clock.move_to(at(10, 20, day=WEDNESDAY))
    with pytest.raises(ValidationFailed) as refused:
        _record(consultation, practitioner_user, outcome="cleared", services=[treatment_service])
    assert refused.value.field == "screened_in_person"
    consultation.consultation.refresh_from_db()
    assert consultation.consultation.outcome == "pending"

    recorded = _record(
        consultation,
        practitioner_user,
        outcome="cleared",
        services=[treatment_service],
        screened_in_person=True,
    )
    assert recorded.screened_in_person is True


def test_with_screening_answers_on_file_no_in_person_tick_is_needed(
    consultation, practitioner_user, treatment_service, clock
):
    consultation_submit_screening(consultation=consultation.consultation, answers=all_clear())
    clock.move_to(at(10, 20, day=WEDNESDAY))

    recorded = _record(
        consultation, practitioner_user, outcome="cleared", services=[treatment_service]
    )

    assert recorded.screened_in_person is False


def test_not_suitable_needs_no_screening_answers(consultation, practitioner_user, clock):
    clock.move_to(at(10, 20, day=WEDNESDAY))

    assert _record(consultation, practitioner_user, outcome="not_suitable").outcome == (
        "not_suitable"
    )


@pytest.fixture
def treatment(consultation, practitioner_user, treatment_service, book_treatment, clock):
    """Cleared on Wednesday with consent "not signed"; treatment booked Monday 10:00."""
    clock.move_to(at(10, 20, day=WEDNESDAY))
    _record(
        consultation,
        practitioner_user,
        outcome="cleared",
        services=[treatment_service],
        screened_in_person=True,
        consent_signed=False,
    )
    return book_treatment(consultation.client, at(10))


def test_completed_only_after_the_start_and_no_show_only_from_fifteen_minutes_after(
    treatment, reception, practitioner_user, clock
):
    consultation_record_consent(
        consultation=treatment.client.consultations.get(), actor=practitioner_user
    )
    clock.move_to(at(9, 10))
    services.appointment_mark_arrived(appointment=treatment, actor=reception)
    with pytest.raises(IllegalTransition, match="only after its start time"):
        services.appointment_complete(appointment=treatment, actor=reception)

    clock.move_to(at(11, 5))
    factories.sign_treatment_record(treatment)
    assert services.appointment_complete(appointment=treatment, actor=reception).status == (
        Status.COMPLETED
    )


def test_a_no_show_thirteen_seconds_after_the_start_is_refused(treatment, reception, clock):
    clock.move_to(at(10) + timedelta(seconds=13))
    with pytest.raises(IllegalTransition, match="15 minutes after the start"):
        services.appointment_mark_no_show(appointment=treatment, actor=reception)

    clock.move_to(at(10, 15))
    assert services.appointment_mark_no_show(appointment=treatment, actor=reception).status == (
        Status.NO_SHOW
    )


def test_a_late_client_marked_no_show_is_put_back_to_arrived_the_same_day_with_aftercare(
    treatment, reception, clock
):
    clock.move_to(at(10, 20))
    services.appointment_mark_no_show(appointment=treatment, actor=reception)
    aftercare = Message.objects.get(appointment=treatment, category="aftercare")
    assert aftercare.status == Message.Status.CANCELLED

    clock.move_to(at(10, 25))
    arrived = services.appointment_revert_no_show(
        appointment=treatment, actor=reception, reason="Came in 25 minutes late"
    )

    assert arrived.status == Status.ARRIVED
    event = AppointmentEvent.objects.filter(appointment=treatment).latest("id")
    assert (event.from_status, event.to_status, event.actor, event.reason) == (
        Status.NO_SHOW,
        Status.ARRIVED,
        reception,
        "Came in 25 minutes late",
    )
    restored = Message.objects.get(retry_of=aftercare)
    assert restored.status == Message.Status.SCHEDULED
    assert restored.due_at == aftercare.due_at


def test_a_no_show_cannot_be_reverted_the_next_day(treatment, reception, clock):
    clock.move_to(at(10, 20))
    services.appointment_mark_no_show(appointment=treatment, actor=reception)

    clock.move_to(at(9, 0, day=WEDNESDAY + timedelta(days=6)))
    with pytest.raises(IllegalTransition, match="only on the day"):
        services.appointment_revert_no_show(appointment=treatment, actor=reception)


def test_a_no_show_cannot_be_reverted_once_its_time_is_booked_for_someone_else(
    treatment, reception, clock, treatment_service, location, practitioner
):
    from tests import factories

    clock.move_to(at(10, 20))
    services.appointment_mark_no_show(appointment=treatment, actor=reception)
    factories.AppointmentFactory(
        service=treatment_service,
        location=location,
        practitioner=practitioner,
        start_at=at(10, 30),
        status=Status.BOOKED,
    )

    with pytest.raises(IllegalTransition, match="booked for someone else"):
        services.appointment_revert_no_show(appointment=treatment, actor=reception)


def test_a_treatment_cannot_be_completed_until_consent_is_signed(
    treatment, reception, practitioner_user, clock
):
    clock.move_to(at(9, 55))
    services.appointment_mark_arrived(appointment=treatment, actor=reception)
    clock.move_to(at(11, 5))

    with pytest.raises(IllegalTransition, match="consent has not been signed"):
        services.appointment_complete(appointment=treatment, actor=reception)
    decision = policy.decide(
        appointment=treatment, action=policy.Action.COMPLETE, actor=reception, now=at(11, 5)
    )
    assert decision.refusal == policy.Refusal.CONSENT_NOT_SIGNED

    consultation_record_consent(
        consultation=treatment.client.consultations.get(), actor=practitioner_user
    )
    # With consent signed, the treatment record is what is still missing.
    with pytest.raises(IllegalTransition, match="Sign the treatment record"):
        services.appointment_complete(appointment=treatment, actor=reception)
    factories.sign_treatment_record(treatment)
    assert services.appointment_complete(appointment=treatment, actor=reception).status == (
        Status.COMPLETED
    )


def test_consent_is_recorded_only_by_clinical_staff(treatment, reception):
    from clinic.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        consultation_record_consent(
            consultation=treatment.client.consultations.get(), actor=reception
        )


def test_the_staff_api_answers_409_for_an_early_no_show_and_reverts_one_as_arrived(
    treatment, reception, clock, client
):
    url = f"/api/v1/staff/appointments/{treatment.pk}/status"
    clock.move_to(at(10, 5))
    client.force_login(reception)  # after the clock moves: staff sessions end when idle
    early = client.post(url, {"action": "no_show"}, content_type="application/json")
    assert early.status_code == 409
    assert early.json()["error"] == "illegal_transition"

    clock.move_to(at(10, 16))
    assert (
        client.post(url, {"action": "no_show"}, content_type="application/json").json()["status"]
        == Status.NO_SHOW
    )
    reverted = client.post(
        url, {"action": "arrived", "reason": "Came late"}, content_type="application/json"
    )
    assert reverted.status_code == 200
    assert reverted.json()["status"] == Status.ARRIVED


def test_the_staff_api_records_consent_signed_after_a_not_signed_clearance(
    treatment, practitioner_user, client
):
    consultation = treatment.client.consultations.get()
    client.force_login(practitioner_user)
    before = client.get(f"/api/v1/staff/consultations/{consultation.pk}").json()
    assert before["consent_signed_at"] is None
    assert before["screened_in_person"] is True

    response = client.post(f"/api/v1/staff/consultations/{consultation.pk}/consent")

    assert response.status_code == 200
    assert response.json()["consent_signed_at"] is not None
    assert client.post(f"/api/v1/staff/consultations/{consultation.pk}/consent").status_code == 409


def _desk_buttons(client, appointment) -> list[str]:
    import re

    html = client.get(f"/staff/appointments/{appointment.id}/").content.decode()
    section = html.split('aria-label="Actions"', 1)[1].split("</section>", 1)[0]
    return [
        re.sub(r"\s+", " ", label).strip()
        for label in re.findall(r"<button[^>]*>(.*?)</button>", section, flags=re.S)
    ]


def test_on_the_day_of_a_no_show_the_desk_offers_arrived_as_an_undo(
    client, treatment, reception, clock
):
    clock.move_to(at(10, 5))
    client.force_login(reception)
    assert "Arrived" in _desk_buttons(client, treatment)

    clock.move_to(at(10, 20))
    services.appointment_mark_no_show(appointment=treatment, actor=reception)
    client.force_login(reception)
    buttons = _desk_buttons(client, treatment)
    assert "Undo no-show — arrived" in buttons
    assert "Arrived" not in buttons

    clock.move_to(at(9, 0, day=WEDNESDAY + timedelta(days=6)))
    client.force_login(reception)
    assert (
        "Undo no-show — arrived"
        not in client.get(f"/staff/appointments/{treatment.id}/").content.decode()
    )
