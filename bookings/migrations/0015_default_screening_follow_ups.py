"""Follow-up questions in the default questionnaire: asked only when an earlier answer makes
them relevant (the isotretinoin stop date only after "yes, in the last 6 months", the filler
date only after "yes, filler in the area", details after a "yes" on pregnancy, allergies and
medical conditions).

Only rows still worded as this project seeded them are changed: a clinic that reworded a
question in the admin keeps its wording.
"""

from __future__ import annotations

from django.db import migrations

YES_NO = "yes_no"
DATE = "date"
TEXT = "text"

# key, order, text, help_text, answer_type, required, (depends on, answer), rules
NEW_QUESTIONS = [
    (
        "isotretinoin_last_6_months",
        25,
        "Have you taken isotretinoin (Roaccutane, Accutane) in the last 6 months?",
        "",
        YES_NO,
        True,
        ("isotretinoin_current", "no"),
        [],
    ),
    (
        "pregnancy_details",
        45,
        "Would you like to tell us more, for example your due date or when you expect to stop "
        "breastfeeding?",
        "",
        TEXT,
        False,
        ("pregnant_or_breastfeeding", "yes"),
        [],
    ),
    (
        "allergy_details",
        85,
        "What are you allergic to, and what happened?",
        "For example: lidocaine numbing cream, a rash.",
        TEXT,
        True,
        ("allergies", "yes"),
        [],
    ),
    (
        "medical_conditions_details",
        115,
        "Which condition or medicine?",
        "",
        TEXT,
        False,
        ("medical_conditions", "yes"),
        [],
    ),
    (
        "filler_recent",
        165,
        "Have you had dermal filler in the area in the last 6 months?",
        "",
        YES_NO,
        True,
        None,
        [],
    ),
]

# key, seeded text, new text, new help text, depends on, answer
REWORDED = [
    (
        "isotretinoin_stopped_on",
        "If you took isotretinoin in the last year, when did you stop?",
        "When did you stop taking isotretinoin?",
        "An approximate date is fine.",
        "isotretinoin_last_6_months",
        "yes",
    ),
    (
        "filler_on",
        "If you've had dermal filler in the area, when was it?",
        "When did you have the filler?",
        "An approximate date is fine.",
        "filler_recent",
        "yes",
    ),
]


def add_follow_ups(apps, schema_editor):
    ScreeningQuestion = apps.get_model("bookings", "ScreeningQuestion")
    ScreeningAnswerRule = apps.get_model("bookings", "ScreeningAnswerRule")
    by_key = {question.key: question for question in ScreeningQuestion.objects.all()}
    for key, order, text, help_text, answer_type, required, condition, rules in NEW_QUESTIONS:
        if key in by_key:
            continue
        parent = by_key.get(condition[0]) if condition else None
        if condition and parent is None:
            continue
        question = ScreeningQuestion.objects.create(
            key=key,
            order=order,
            text=text,
            help_text=help_text,
            answer_type=answer_type,
            is_required=required,
            shown_when_question=parent,
            shown_when_answer=condition[1] if parent else "",
        )
        by_key[key] = question
        for answer, flag, wait_days, note in rules:
            ScreeningAnswerRule.objects.create(
                question=question, answer=answer, flag=flag, wait_days=wait_days, note=note
            )
    for key, seeded_text, text, help_text, parent_key, answer in REWORDED:
        question = by_key.get(key)
        parent = by_key.get(parent_key)
        if question is None or parent is None or question.text != seeded_text:
            continue
        question.text = text
        question.help_text = help_text
        question.is_required = True
        question.shown_when_question = parent
        question.shown_when_answer = answer
        question.version += 1
        question.save()


def remove_follow_ups(apps, schema_editor):
    ScreeningQuestion = apps.get_model("bookings", "ScreeningQuestion")
    ScreeningQuestion.objects.filter(shown_when_question__isnull=False).update(
        shown_when_question=None, shown_when_answer=""
    )
    ScreeningQuestion.objects.filter(key__in=[row[0] for row in NEW_QUESTIONS]).delete()


class Migration(migrations.Migration):
    dependencies = [("bookings", "0014_screening_question_shown_when")]

    operations = [migrations.RunPython(add_follow_ups, remove_follow_ups)]
