"""The consultation review queue and outcome form: clinical staff see the screening answers
(flagged ones highlighted) and record outcomes; reception sees the outcome only."""

from __future__ import annotations

from datetime import date

import pytest

from bookings import services
from bookings.models import Appointment, HealthDataAccess, ScreeningQuestion
from bookings.services.consultations import consultation_submit_screening
from tests.workspace.conftest import at

pytestmark = pytest.mark.django_db

MONDAY = date(2026, 12, 7)


def all_clear() -> dict[str, str]:
    return {
        question.key: "no" if question.answer_type == "yes_no" else ""
        for question in ScreeningQuestion.objects.filter(is_active=True)
    }


@pytest.fixture
def screened(consultation):
    consultation_submit_screening(
        consultation=consultation.consultation, answers=all_clear() | {"keloid_scarring": "yes"}
    )
    return consultation


@pytest.fixture
def tentative_treatment(consultation, client_person, treatment_service, location, practitioner):
    return services.appointment_book(
        client=client_person,
        service=treatment_service,
        location=location,
        start_at=at(10, day=MONDAY),
        practitioner=practitioner,
        awaiting_consultation=consultation,
    )


@pytest.mark.parametrize("who", ["as_reception", "as_practitioner", "as_manager"])
def test_the_review_queue_lists_consultations_needing_an_outcome(request, who, consultation):
    response = request.getfixturevalue(who).get("/staff/consultations/")
    assert response.status_code == 200
    assert f"/staff/consultations/{consultation.id}/" in response.content.decode()


def test_a_practitioner_sees_answers_with_the_flagged_one_highlighted(as_practitioner, screened):
    response = as_practitioner.get(f"/staff/consultations/{screened.id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-flagged="true"') == 1
    assert "keloid" in html.lower()
    assert 'id="outcome-form"' in html
    assert HealthDataAccess.objects.filter(action="read").exists()


def test_reception_sees_the_outcome_but_not_the_answers_or_the_form(as_reception, screened):
    html = as_reception.get(f"/staff/consultations/{screened.id}/").content.decode()
    assert "Not assessed yet" in html
    assert "keloid" not in html.lower()
    assert 'id="outcome-form"' not in html


def test_reception_cannot_record_an_outcome(as_reception, screened, treatment_service):
    response = as_reception.post(
        f"/staff/consultations/{screened.id}/",
        {"outcome": "cleared", "services": [treatment_service.id]},
    )
    assert response.status_code == 403
    screened.consultation.refresh_from_db()
    assert screened.consultation.outcome == "pending"


def test_clearing_turns_the_pending_treatment_into_booked(
    as_practitioner, practitioner_user, consultation, tentative_treatment, treatment_service, clock
):
    assert tentative_treatment.status == Appointment.Status.PENDING_CLEARANCE
    clock.move_to(at(10, 30))
    as_practitioner.force_login(practitioner_user)  # a day later: yesterday's session has ended
    response = as_practitioner.post(
        f"/staff/consultations/{consultation.id}/",
        {
            "outcome": "cleared",
            "services": [treatment_service.id],
            "contraindications": "none found\n",
            "notes": "Good candidate.",
            "screened_in_person": "on",
        },
    )
    assert response.status_code == 302
    tentative_treatment.refresh_from_db()
    assert tentative_treatment.status == Appointment.Status.BOOKED
    consultation.consultation.refresh_from_db()
    assert consultation.consultation.outcome == "cleared"
    assert consultation.consultation.contraindications == ["none found"]


def test_not_suitable_releases_the_pending_treatment(
    as_practitioner, practitioner_user, consultation, tentative_treatment, clock
):
    clock.move_to(at(10, 30))
    as_practitioner.force_login(practitioner_user)  # a day later: yesterday's session has ended
    as_practitioner.post(f"/staff/consultations/{consultation.id}/", {"outcome": "not_suitable"})
    tentative_treatment.refresh_from_db()
    assert tentative_treatment.status == Appointment.Status.CANCELLED


def test_an_invalid_outcome_is_shown_as_an_error(as_practitioner, consultation):
    response = as_practitioner.post(
        f"/staff/consultations/{consultation.id}/", {"outcome": "maybe"}
    )
    assert response.status_code == 422
    assert b'data-error-code="invalid"' in response.content


def test_a_malformed_date_names_the_field(as_practitioner, consultation, treatment_service):
    response = as_practitioner.post(
        f"/staff/consultations/{consultation.id}/",
        {"outcome": "cleared", "services": [treatment_service.id], "valid_until": "soon"},
    )
    assert response.status_code == 422
    assert "Enter a date as dd/mm/yyyy, for example 01/12/2026" in response.content.decode()


def test_a_treatment_appointment_has_no_consultation_page(as_practitioner, tentative_treatment):
    response = as_practitioner.get(f"/staff/consultations/{tentative_treatment.id}/")
    assert response.status_code == 404


def test_a_practitioner_cannot_open_a_colleagues_consultation(
    as_practitioner, colleagues_consultation
):
    response = as_practitioner.get(f"/staff/consultations/{colleagues_consultation.id}/")
    assert response.status_code == 403


def test_the_outcome_form_offers_not_signed_and_asks_for_in_person_screening(
    as_practitioner, practitioner_user, consultation, treatment_service, clock
):
    clock.move_to(at(10, 30))
    as_practitioner.force_login(practitioner_user)  # staff sessions end when idle
    page = as_practitioner.get(f"/staff/consultations/{consultation.id}/").content.decode()
    assert "Not signed yet" in page
    assert 'data-testid="no-screening"' in page
    assert 'name="screened_in_person"' in page

    refused = as_practitioner.post(
        f"/staff/consultations/{consultation.id}/",
        {"outcome": "cleared", "services": [treatment_service.id]},
    )
    assert refused.status_code == 422
    assert "screened in person" in refused.content.decode()

    as_practitioner.post(
        f"/staff/consultations/{consultation.id}/",
        {
            "outcome": "cleared",
            "services": [treatment_service.id],
            "consent_version": "not_signed",
            "screened_in_person": "on",
        },
    )
    record = consultation.consultation
    record.refresh_from_db()
    assert (record.outcome, record.consent_signed_at, record.screened_in_person) == (
        "cleared",
        None,
        True,
    )


def test_signed_consent_can_be_recorded_after_a_not_signed_clearance(
    as_practitioner, practitioner_user, consultation, treatment_service, clock
):
    clock.move_to(at(10, 30))
    as_practitioner.force_login(practitioner_user)  # staff sessions end when idle
    as_practitioner.post(
        f"/staff/consultations/{consultation.id}/",
        {
            "outcome": "cleared",
            "services": [treatment_service.id],
            "consent_version": "not_signed",
            "screened_in_person": "on",
        },
    )
    page = as_practitioner.get(f"/staff/consultations/{consultation.id}/").content.decode()
    assert 'data-testid="consent-not-signed"' in page

    as_practitioner.post(f"/staff/consultations/{consultation.id}/consent/")

    record = consultation.consultation
    record.refresh_from_db()
    assert record.consent_signed_at is not None
