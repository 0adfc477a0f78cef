"""The manage page says what is true of the booking now: no questionnaire request once it was
answered, and no offer to hold a first treatment after the answers said it may not be right."""

from __future__ import annotations

import pytest

from bookings.services import consultation_submit_screening
from bookings.tokens import manage_token_for
from tests.consultations.test_screening import all_clear

pytestmark = pytest.mark.django_db


@pytest.fixture
def consultation_appointment(book_consultation, client_person):
    return book_consultation(client_person)


def manage_page(client, appointment) -> str:
    return client.get(f"/b/{manage_token_for(appointment)}/").content.decode()


def test_the_manage_page_asks_for_the_questionnaire_until_it_is_answered(
    client, consultation_appointment, treatment_service
):
    assert "Fill in the questionnaire" in manage_page(client, consultation_appointment)
    consultation_submit_screening(
        consultation=consultation_appointment.consultation, answers=all_clear()
    )

    page = manage_page(client, consultation_appointment)

    assert "Fill in the questionnaire" not in page
    assert "We have your health answers" in page
    assert "Hold a time for your first treatment" in page


def test_no_first_treatment_is_offered_after_answers_that_advise_against_it(
    client, consultation_appointment, treatment_service
):
    consultation_submit_screening(
        consultation=consultation_appointment.consultation,
        answers={**all_clear(), "pregnant_or_breastfeeding": "yes"},
    )

    page = manage_page(client, consultation_appointment)
    confirmed = client.get(
        f"/b/{manage_token_for(consultation_appointment)}/confirmed/"
    ).content.decode()

    assert "Hold a time for your first treatment" not in page
    assert "Hold your first treatment now?" not in confirmed
    # Nothing on the page says which answer mattered.
    assert "pregnan" not in page.lower()
