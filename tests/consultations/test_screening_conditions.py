"""Follow-up questions ("shown when"): a question asked only after the answer that makes it
relevant. The rule is data on the question, decided in one selector that the service (site form
and API alike) goes through: a hidden question is not required, and whatever was typed into it
is discarded, not stored."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from bookings.models import ScreeningQuestion
from bookings.selectors.consultations import (
    screening_questions_active,
    screening_questions_that_apply,
)
from bookings.services.consultations import consultation_submit_screening
from bookings.tokens import manage_token_for
from clinic.errors import ValidationFailed
from tests.consultations.conftest import at

pytestmark = pytest.mark.django_db

STOPPED_ON = "isotretinoin_stopped_on"


def all_no(**overrides: str) -> dict[str, str]:
    answers = {
        question.key: "no" if question.answer_type == "yes_no" else ""
        for question in ScreeningQuestion.objects.filter(is_active=True)
    }
    return answers | overrides


def applying_keys(answers: dict[str, str]) -> list[str]:
    questions = screening_questions_active()
    return [q.key for q in screening_questions_that_apply(questions=questions, answers=answers)]


@pytest.fixture
def consultation(book_consultation, client_person):
    return book_consultation(client_person).consultation


def stored_keys(consultation) -> list[str]:
    consultation.refresh_from_db()
    return [entry["key"] for entry in consultation.answers]


# --- the rule ----------------------------------------------------------------------------------


def test_the_isotretinoin_date_applies_only_after_yes_in_the_last_six_months():
    assert STOPPED_ON not in applying_keys(all_no())
    assert STOPPED_ON in applying_keys(all_no(isotretinoin_last_6_months="yes"))
    assert STOPPED_ON in applying_keys(all_no(isotretinoin_last_6_months=" YES "))


def test_a_hidden_question_hides_its_own_follow_ups():
    # Taking it now is already the answer: "in the last 6 months?" and its date are not asked,
    # even if a stale "yes" for the middle question is still in the form.
    keys = applying_keys(all_no(isotretinoin_current="yes", isotretinoin_last_6_months="yes"))
    assert "isotretinoin_last_6_months" not in keys
    assert STOPPED_ON not in keys


def test_the_default_questionnaire_ships_its_follow_ups_as_data():
    conditions = {
        q.key: (q.shown_when_question.key, q.shown_when_answer)
        for q in ScreeningQuestion.objects.filter(shown_when_question__isnull=False)
    }
    assert conditions[STOPPED_ON] == ("isotretinoin_last_6_months", "yes")
    assert conditions["isotretinoin_last_6_months"] == ("isotretinoin_current", "no")
    assert conditions["filler_on"] == ("filler_recent", "yes")
    assert conditions["pregnancy_details"] == ("pregnant_or_breastfeeding", "yes")
    assert conditions["allergy_details"] == ("allergies", "yes")
    assert ScreeningQuestion.objects.get(key=STOPPED_ON).is_required is True


def test_a_condition_on_a_retired_question_no_longer_hides_anything():
    ScreeningQuestion.objects.filter(key="filler_recent").update(is_active=False)
    assert "filler_on" in applying_keys(all_no())


# --- the condition is validated ------------------------------------------------------------------


def _follow_up(**fields) -> ScreeningQuestion:
    return ScreeningQuestion(key="follow_up", text="Tell us more", order=999, **fields)


def test_a_condition_must_use_an_answer_the_question_offers():
    parent = ScreeningQuestion.objects.get(key="allergies")
    with pytest.raises(ValidationError) as invalid:
        _follow_up(shown_when_question=parent, shown_when_answer="maybe").full_clean()
    assert "shown_when_answer" in invalid.value.message_dict


def test_only_a_yes_no_or_choice_question_can_show_another():
    parent = ScreeningQuestion.objects.get(key="anything_else")
    with pytest.raises(ValidationError) as invalid:
        _follow_up(shown_when_question=parent, shown_when_answer="x").full_clean()
    assert "shown_when_question" in invalid.value.message_dict


def test_a_condition_must_name_an_earlier_question():
    parent = ScreeningQuestion.objects.get(key="allergies")
    early = _follow_up(shown_when_question=parent, shown_when_answer="yes")
    early.order = parent.order - 1
    with pytest.raises(ValidationError) as invalid:
        early.full_clean()
    assert "shown_when_question" in invalid.value.message_dict
    _follow_up(shown_when_question=parent, shown_when_answer="yes").full_clean()


def test_an_answer_without_its_question_is_refused():
    with pytest.raises(ValidationError):
        _follow_up(shown_when_answer="yes").full_clean()


# --- the service ---------------------------------------------------------------------------------


def test_a_hidden_follow_up_is_not_required(consultation):
    consultation_submit_screening(consultation=consultation, answers=all_no())
    assert STOPPED_ON not in stored_keys(consultation)


def test_an_answer_to_a_hidden_question_is_discarded_not_stored(consultation):
    result = consultation_submit_screening(
        consultation=consultation, answers=all_no(**{STOPPED_ON: "2026-10-01"})
    )
    assert STOPPED_ON not in stored_keys(consultation)
    assert "2026-10-01" not in str(result.consultation.answers)
    assert result.consultation.screening_not_before is None
    assert result.consultation.screening_flags == []


def test_a_shown_follow_up_is_required(consultation):
    with pytest.raises(ValidationFailed) as invalid:
        consultation_submit_screening(
            consultation=consultation, answers=all_no(isotretinoin_last_6_months="yes")
        )
    assert invalid.value.field == STOPPED_ON


def test_a_shown_follow_up_counts(consultation):
    result = consultation_submit_screening(
        consultation=consultation,
        answers=all_no(isotretinoin_last_6_months="yes", **{STOPPED_ON: "01/10/2026"}),
    )
    answered = next(entry for entry in result.consultation.answers if entry["key"] == STOPPED_ON)
    assert answered["answer"] == "2026-10-01"  # typed day first (UK), stored as ISO
    assert result.consultation.screening_not_before == date(2027, 3, 30)


# --- the site form (no script: every question shows, the server decides) --------------------


def test_the_form_marks_follow_ups_for_the_script_and_explains_them_without_it(
    client, consultation
):
    page = client.get(f"/b/{manage_token_for(consultation.appointment)}/screening/")
    html = page.content.decode()
    assert 'data-shown-when="isotretinoin_last_6_months" data-shown-when-answer="yes"' in html
    assert "Only if you answered “Yes” to “Have you taken isotretinoin" in html
    assert f'name="{STOPPED_ON}" type="text" inputmode="numeric"' in html


def test_the_form_discards_a_date_typed_after_no(client, consultation):
    url = f"/b/{manage_token_for(consultation.appointment)}/screening/"
    response = client.post(url, all_no(**{STOPPED_ON: "01/10/2026"}))
    assert response.status_code == 200
    assert STOPPED_ON not in stored_keys(consultation)


def test_the_form_asks_for_the_date_after_yes(client, consultation):
    url = f"/b/{manage_token_for(consultation.appointment)}/screening/"
    response = client.post(url, all_no(isotretinoin_last_6_months="yes"))
    assert response.status_code == 422
    html = response.content.decode()
    assert f'href="#q-{STOPPED_ON}"' in html
    assert f'id="q-{STOPPED_ON}-error"' in html
    consultation.refresh_from_db()
    assert consultation.submitted_at is None


# --- the API (same rule) -----------------------------------------------------------------------


def test_the_api_lists_each_follow_ups_condition(client, consultation):
    token = manage_token_for(consultation.appointment)
    questions = client.get(f"/api/v1/bookings/{token}/screening").json()["questions"]
    by_key = {question["key"]: question for question in questions}
    assert by_key[STOPPED_ON]["shown_when"] == {
        "question": "isotretinoin_last_6_months",
        "answer": "yes",
    }
    assert by_key["pregnant_or_breastfeeding"]["shown_when"] is None


def test_the_api_discards_answers_to_questions_that_do_not_apply(client, consultation):
    token = manage_token_for(consultation.appointment)
    response = client.post(
        f"/api/v1/bookings/{token}/screening",
        {"answers": all_no(**{STOPPED_ON: "2026-10-01"})},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert STOPPED_ON not in stored_keys(consultation)


def test_the_api_requires_a_follow_up_that_applies(client, consultation):
    token = manage_token_for(consultation.appointment)
    response = client.post(
        f"/api/v1/bookings/{token}/screening",
        {"answers": all_no(isotretinoin_last_6_months="yes")},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["field"] == STOPPED_ON


# --- staff see only what applied -----------------------------------------------------------------


def test_staff_see_only_the_answers_that_applied(client, consultation, practitioner_user, clock):
    consultation_submit_screening(
        consultation=consultation, answers=all_no(**{STOPPED_ON: "2026-10-01"})
    )
    clock.move_to(at(9))
    client.force_login(practitioner_user)
    html = client.get(f"/staff/consultations/{consultation.appointment_id}/").content.decode()
    assert "Have you taken isotretinoin (Roaccutane, Accutane) in the last 6 months?" in html
    assert "When did you stop taking isotretinoin?" not in html
