from __future__ import annotations

from bookings.models import ConsentFormVersion, ScreeningAnswerRule, ScreeningQuestion


def test_default_questionnaire_ships_absolute_and_relative_rules_as_data(db):
    assert ScreeningQuestion.objects.filter(is_active=True).count() >= 15
    pregnancy = ScreeningAnswerRule.objects.get(question__key="pregnant_or_breastfeeding")
    assert (pregnancy.answer, pregnancy.flag) == ("yes", "absolute")
    isotretinoin = ScreeningAnswerRule.objects.get(question__key="isotretinoin_stopped_on")
    assert (isotretinoin.answer, isotretinoin.flag, isotretinoin.wait_days) == (
        "*",
        "relative",
        180,
    )
    sun = ScreeningAnswerRule.objects.get(question__key="recent_sun")
    assert sun.wait_days == 14


def test_one_consent_form_version_is_current(db):
    assert ConsentFormVersion.objects.filter(is_current=True).count() == 1
