"""Public API: a client answers the health questionnaire for their consultation booking,
identified by the booking's signed manage token (no account, no other data exposed)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from bookings.models import ScreeningQuestion
from bookings.selectors.consultations import screening_questions_active
from bookings.services.consultations import (
    KIND_ABSOLUTE_MESSAGE,
    THANK_YOU_MESSAGE,
    consultation_for_screening,
    consultation_submit_screening,
)
from bookings.tokens import appointment_id_from_manage_token
from clinic.api import ErrorOut

router = Router(tags=["screening"])


class ShownWhenOut(Schema):
    question: str = Field(..., description="Key of the earlier question this one depends on")
    answer: str = Field(..., description="The answer to that question that shows this one")


class QuestionOut(Schema):
    key: str
    text: str
    help_text: str
    answer_type: str
    choices: list
    is_required: bool = Field(
        ..., description="Required whenever the question applies (see `shown_when`)"
    )
    shown_when: ShownWhenOut | None = Field(
        None,
        description="Ask only when the named question got this answer; otherwise the question "
        "does not apply: it is not required and an answer to it is discarded.",
    )

    @staticmethod
    def resolve_shown_when(question: ScreeningQuestion) -> dict[str, str] | None:
        parent = question.shown_when_question
        if parent is None or not parent.is_active:
            return None
        return {"question": parent.key, "answer": question.shown_when_answer}


class QuestionnaireOut(Schema):
    submitted: bool
    questions: list[QuestionOut]


class ScreeningIn(Schema):
    answers: dict[str, str | None] = Field(
        ...,
        description="Answers by question key: `yes`/`no`, a choice, free text or a date.",
        examples=[{"pregnant": "no", "accutane_last_6_months": "no"}],
    )


class ScreeningSubmittedOut(Schema):
    submitted_at: datetime
    message: str
    may_not_be_suitable: bool


@router.get(
    "/bookings/{token}/screening",
    response={200: QuestionnaireOut, 404: ErrorOut, 410: ErrorOut},
)
def get_questionnaire(request: HttpRequest, token: str) -> dict:
    """The questions to answer before the consultation (answers are never sent back)."""
    consultation = consultation_for_screening(
        appointment_id=appointment_id_from_manage_token(token)
    )
    return {
        "submitted": consultation.submitted_at is not None,
        "questions": screening_questions_active(),
    }


@router.post(
    "/bookings/{token}/screening",
    response={
        200: ScreeningSubmittedOut,
        404: ErrorOut,
        409: ErrorOut,
        410: ErrorOut,
        422: ErrorOut,
    },
)
def post_screening(request: HttpRequest, token: str, payload: ScreeningIn) -> dict:
    """Submit (or replace, until the consultation) the answers. 422 names the question key.
    Answers to questions that do not apply (their `shown_when` answer was not given) are
    discarded."""
    consultation = consultation_for_screening(
        appointment_id=appointment_id_from_manage_token(token)
    )
    result = consultation_submit_screening(
        consultation=consultation, answers=payload.answers, via="api"
    )
    return {
        "submitted_at": result.consultation.submitted_at,
        "message": KIND_ABSOLUTE_MESSAGE if result.has_absolute_flag else THANK_YOU_MESSAGE,
        "may_not_be_suitable": result.has_absolute_flag,
    }
