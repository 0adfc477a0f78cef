from __future__ import annotations

from datetime import date

import pytest

from bookings import eligibility
from bookings.models import HealthDataAccess, ScreeningAnswerRule, ScreeningQuestion
from bookings.services.consultations import consultation_submit_screening
from clinic.errors import IllegalTransition, ValidationFailed
from tests.consultations.conftest import at

pytestmark = pytest.mark.django_db


def all_clear() -> dict[str, str]:
    return {
        question.key: "no" if question.answer_type == "yes_no" else ""
        for question in ScreeningQuestion.objects.filter(is_active=True)
    }


@pytest.fixture
def consultation(book_consultation, client_person):
    return book_consultation(client_person).consultation


def test_answers_keep_the_wording_and_version_they_were_given_with(consultation):
    consultation_submit_screening(consultation=consultation, answers=all_clear())
    question = ScreeningQuestion.objects.get(key="recent_sun")
    question.text = "Any sunburn lately?"
    question.version = 2
    question.save()
    consultation.refresh_from_db()
    answered = next(entry for entry in consultation.answers if entry["key"] == "recent_sun")
    assert answered["version"] == 1
    assert answered["text"].startswith("Have you had sunburn")
    assert answered["answer"] == "no"


def test_all_clear_answers_flag_nothing(consultation):
    result = consultation_submit_screening(consultation=consultation, answers=all_clear())
    assert result.has_absolute_flag is False
    assert result.consultation.screening_flags == []
    assert result.consultation.screening_not_before is None


def test_an_absolute_contraindication_is_flagged_but_the_consultation_stays_booked(
    consultation,
):
    answers = all_clear() | {"keloid_scarring": "yes"}
    result = consultation_submit_screening(consultation=consultation, answers=answers)
    assert result.has_absolute_flag is True
    assert result.consultation.screening_flags[0]["flag"] == "absolute"
    assert result.consultation.appointment.status == "booked"


def test_recent_sunburn_suggests_waiting_two_weeks(consultation):
    answers = all_clear() | {"recent_sun": "YES"}
    result = consultation_submit_screening(consultation=consultation, answers=answers)
    assert result.consultation.screening_not_before == date(2026, 12, 15)
    assert result.has_absolute_flag is False


def test_isotretinoin_stopped_recently_waits_six_months_from_the_date_given(consultation):
    answers = all_clear() | {
        "isotretinoin_last_6_months": "yes",
        "isotretinoin_stopped_on": "2026-10-01",
    }
    result = consultation_submit_screening(consultation=consultation, answers=answers)
    assert result.consultation.screening_not_before == date(2027, 3, 30)


def test_isotretinoin_stopped_long_ago_flags_nothing(consultation):
    answers = all_clear() | {
        "isotretinoin_last_6_months": "yes",
        "isotretinoin_stopped_on": "2025-01-10",
    }
    result = consultation_submit_screening(consultation=consultation, answers=answers)
    assert result.consultation.screening_flags == []


def test_the_wait_is_data_a_clinic_can_change(consultation):
    rule = ScreeningAnswerRule.objects.get(question__key="filler_on")
    rule.wait_days = 180
    rule.save()
    answers = all_clear() | {"filler_recent": "yes", "filler_on": "2026-11-01"}
    result = consultation_submit_screening(consultation=consultation, answers=answers)
    assert result.consultation.screening_not_before == date(2027, 4, 30)


def test_the_screening_wait_becomes_the_outcomes_not_before(
    consultation, clear, client_person, treatment_service
):
    consultation_submit_screening(
        consultation=consultation, answers=all_clear() | {"recent_sun": "yes"}
    )
    cleared = clear(consultation.appointment)
    assert cleared.not_before == date(2026, 12, 15)
    refused = eligibility.check(client=client_person, service=treatment_service, start_at=at(10))
    assert (refused.reason, refused.not_before) == ("not_before", date(2026, 12, 15))


@pytest.mark.parametrize(
    ("key", "answer"),
    [
        ("recent_sun", "maybe"),
        ("isotretinoin_stopped_on", "last spring"),
        ("isotretinoin_stopped_on", "2030-01-01"),
        ("anything_else", "x" * 2001),
        ("no_such_question", "yes"),
    ],
)
def test_bad_answers_are_refused_naming_the_question(consultation, key, answer):
    with pytest.raises(ValidationFailed) as invalid:
        consultation_submit_screening(
            consultation=consultation,
            answers=all_clear()
            | {
                "isotretinoin_last_6_months": "yes",
                "isotretinoin_stopped_on": "2026-10-01",
                key: answer,
            },
        )
    assert invalid.value.field == key
    consultation.refresh_from_db()
    assert consultation.submitted_at is None


def test_inactive_questions_are_not_asked_and_late_answers_to_them_are_ignored(consultation):
    answers = all_clear()
    ScreeningQuestion.objects.filter(key="under_18").update(is_active=False)
    result = consultation_submit_screening(consultation=consultation, answers=answers)
    assert "under_18" not in [entry["key"] for entry in result.consultation.answers]


def test_answers_cannot_change_after_the_outcome(consultation, clear):
    clear(consultation.appointment)
    with pytest.raises(IllegalTransition):
        consultation_submit_screening(consultation=consultation, answers=all_clear())


def test_submitting_answers_is_audited_without_the_answers(consultation):
    consultation_submit_screening(
        consultation=consultation, answers=all_clear() | {"pregnant_or_breastfeeding": "yes"}
    )
    row = HealthDataAccess.objects.get(consultation=consultation, action="change")
    assert row.actor_label == "client"
    assert "pregnant" not in str(row.fields)


def test_answers_and_notes_never_reach_the_logs(consultation, clear, caplog):
    caplog.set_level("DEBUG")
    consultation_submit_screening(
        consultation=consultation,
        answers=all_clear() | {"anything_else": "private-detail-on-warfarin"},
    )
    clear(consultation.appointment, notes="private-note-rosacea")
    assert "private-detail" not in caplog.text
    assert "private-note" not in caplog.text
    assert "screening submitted" in caplog.text
