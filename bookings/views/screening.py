"""Client pages for health questions: the screening questionnaire before a consultation
(``/b/<token>/screening/``) and the "has anything changed?" re-check before a later session
(``/b/<token>/recheck/``). Both are reached through signed links; each view calls one service.

An answer that rules micro-needling out is never shown as a rejection: the page thanks the
client and explains kindly that the consultation will talk through alternatives.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from bookings import policy
from bookings.models import Appointment, ScreeningQuestion
from bookings.selectors.consultations import screening_questions_active
from bookings.services.consultations import (
    KIND_ABSOLUTE_MESSAGE,
    THANK_YOU_MESSAGE,
    consultation_for_screening,
    consultation_submit_screening,
    health_recheck_answer,
)
from bookings.tokens import appointment_id_from_manage_token
from clinic.errors import ApplicationError, Gone, NotFound, ValidationFailed


def _link_problem(request: HttpRequest, error: NotFound | Gone) -> HttpResponse:
    return render(
        request,
        "bookings/site/link_problem.html",
        {"error": error, "is_expired": isinstance(error, Gone)},
        status=error.status,
    )


def _shown_when(
    question: ScreeningQuestion, questions: list[ScreeningQuestion]
) -> dict[str, str] | None:
    """What the page's script needs to hide a follow-up (and the sentence shown without it).
    Whether the question counts is decided by the service, never here."""
    parent = next((q for q in questions if q.pk == question.shown_when_question_id), None)
    if parent is None:
        return None
    answer = question.shown_when_answer
    return {
        "key": parent.key,
        "answer": answer,
        "answer_label": {"yes": "Yes", "no": "No"}.get(answer, answer)
        if parent.answer_type == parent.AnswerType.YES_NO
        else answer,
        "text": parent.text,
    }


@require_http_methods(["GET", "POST"])
def screening_form(request: HttpRequest, token: str) -> HttpResponse:
    try:
        consultation = consultation_for_screening(
            appointment_id=appointment_id_from_manage_token(token)
        )
    except (NotFound, Gone) as problem:
        return _link_problem(request, problem)
    appointment = consultation.appointment
    questions = screening_questions_active()
    answers = {question.key: "" for question in questions}
    error: ApplicationError | None = None
    if request.method == "POST":
        answers = {question.key: request.POST.get(question.key, "") for question in questions}
        try:
            result = consultation_submit_screening(
                consultation=consultation, answers=answers, via="site"
            )
        except ValidationFailed as invalid:
            error = invalid
        except ApplicationError as refused:
            error = refused
        else:
            return render(
                request,
                "bookings/screening/done.html",
                {
                    "appointment": appointment,
                    "location": appointment.location,
                    "token": token,
                    "may_not_be_suitable": result.has_absolute_flag,
                    "message": (
                        KIND_ABSOLUTE_MESSAGE if result.has_absolute_flag else THANK_YOU_MESSAGE
                    ),
                },
            )
    return render(
        request,
        "bookings/screening/form.html",
        {
            "appointment": appointment,
            "location": appointment.location,
            "token": token,
            "already_submitted": consultation.submitted_at is not None,
            "is_closed": consultation.outcome in {"cleared", "not_suitable"}
            or appointment.status in policy.DID_NOT_HAPPEN_STATUSES,
            "questions": [
                {
                    "question": question,
                    "value": answers.get(question.key, ""),
                    "shown_when": _shown_when(question, questions),
                    "error": error.message
                    if error is not None and error.field == question.key
                    else "",
                }
                for question in questions
            ],
            "error": error,
        },
        status=error.status if error is not None else 200,
    )


def _recheck_page(request: HttpRequest, *, token: str) -> HttpResponse:
    try:
        appointment = (
            Appointment.objects.select_related("location", "service")
            .filter(pk=appointment_id_from_manage_token(token))
            .first()
        )
        if appointment is None:
            raise NotFound("We could not find this appointment. It may have been cancelled.")
    except (NotFound, Gone) as error:
        return _link_problem(request, error)
    context: dict[str, object] = {
        "appointment": appointment,
        "location": appointment.location,
        "error": None,
    }
    if request.method == "POST":
        choice = request.POST.get("changed", "")
        if choice not in {"yes", "no"}:
            context["error"] = "Please choose one of the two answers."
            return render(request, "bookings/screening/recheck.html", context, status=422)
        try:
            recheck = health_recheck_answer(
                appointment=appointment, changed=choice == "yes", via="link"
            )
        except ApplicationError as refused:
            context["error"] = refused.message
            return render(request, "bookings/screening/recheck.html", context, status=409)
        context["recheck"] = recheck
        return render(request, "bookings/screening/recheck_done.html", context)
    return render(request, "bookings/screening/recheck.html", context)


@require_http_methods(["GET", "POST"])
def health_recheck_from_manage_link(request: HttpRequest, token: str) -> HttpResponse:
    """``/b/<manage token>/recheck/``: the same page reached from the booking's manage link
    (the 48-hour reminder SMS links here)."""
    return _recheck_page(request, token=token)
