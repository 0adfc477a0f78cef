"""The course outcome rating: a protocol rule asks the client, weeks after the session that
finishes a course, to rate the results by SMS; a digit reply to that question is stored as
their rating (and a digit reply to the health re-check is still a re-check answer)."""

from __future__ import annotations

import time_machine

from bookings import signals
from bookings.models import Appointment
from records.models import CourseRating
from reminders.models import InboundMessage, Message, ReminderRule
from reminders.services import inbound_receive
from tests.reminders.conftest import utc

Category = ReminderRule.Category


def _complete(appointment: Appointment) -> None:
    appointment.status = Appointment.Status.COMPLETED
    appointment.save()
    signals.appointment_completed.send(sender=Appointment, appointment=appointment, actor_label="s")


def _course_of_three(book) -> list[Appointment]:
    with time_machine.travel(utc(2026, 3, 1, 9), tick=False):
        return [
            book(start_at=start, send=False)
            for start in (utc(2026, 3, 2, 10), utc(2026, 3, 30, 9), utc(2026, 4, 27, 9))
        ]


def test_the_rating_is_asked_three_weeks_after_the_session_that_finishes_the_course(book):
    sessions = _course_of_three(book)
    with time_machine.travel(utc(2026, 4, 27, 11), tick=False):
        for session in sessions[:2]:
            _complete(session)
            assert not Message.objects.filter(
                appointment=session, category=Category.OUTCOME_RATING
            ).exists()
        _complete(sessions[2])

    ask = Message.objects.get(appointment=sessions[2], category=Category.OUTCOME_RATING)
    assert ask.due_at == utc(2026, 5, 18, 10)  # 11:00 London summer time, 21 days after
    assert "1 (not happy) to 5 (very happy)" in ask.body
    assert "eedling" not in ask.body


def _asked(book, client_person) -> Message:
    sessions = _course_of_three(book)
    with time_machine.travel(utc(2026, 4, 27, 11), tick=False):
        for session in sessions:
            _complete(session)
    ask = Message.objects.get(category=Category.OUTCOME_RATING)
    Message.objects.filter(pk=ask.pk).update(status="delivered", sent_at=utc(2026, 5, 18, 10))
    return ask


def test_a_digit_reply_to_the_rating_question_is_the_clients_rating(book, client_person):
    ask = _asked(book, client_person)
    with time_machine.travel(utc(2026, 5, 18, 12), tick=False):
        result = inbound_receive(
            provider_sid="SM-rating-1", from_number=client_person.phone, to_number="+1", body="4"
        )
    rating = CourseRating.objects.get()
    assert (rating.client, rating.service, rating.rating) == (
        client_person,
        ask.appointment.service,
        4,
    )
    assert rating.via == "sms"
    assert result.inbound.kind == InboundMessage.Kind.RATING
    assert result.inbound.handled_at is not None
    assert "Thank you" in result.reply


def test_a_digit_after_a_later_recheck_question_is_not_a_rating(book, client_person, location):
    _asked(book, client_person)
    recheck_for = book(start_at=utc(2026, 6, 8, 9), send=False)
    Message.objects.create(
        client=client_person,
        appointment=recheck_for,
        location=location,
        category=Category.HEALTH_RECHECK,
        to=client_person.phone,
        body="Any changes? Reply 1 = no change, 2 = something changed",
        due_at=utc(2026, 6, 6, 9),
        status="delivered",
        sent_at=utc(2026, 6, 6, 9),
    )
    with time_machine.travel(utc(2026, 6, 6, 12), tick=False):
        result = inbound_receive(
            provider_sid="SM-rating-2", from_number=client_person.phone, to_number="+1", body="1"
        )
    assert not CourseRating.objects.exists()
    assert result.inbound.kind == InboundMessage.Kind.RECHECK


def test_a_digit_long_after_the_question_is_just_a_reply(book, client_person):
    _asked(book, client_person)
    with time_machine.travel(utc(2026, 7, 30, 12), tick=False):
        result = inbound_receive(
            provider_sid="SM-rating-3", from_number=client_person.phone, to_number="+1", body="5"
        )
    assert not CourseRating.objects.exists()
    assert result.inbound.kind != InboundMessage.Kind.RATING
