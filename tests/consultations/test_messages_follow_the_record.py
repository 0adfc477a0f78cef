"""Texts follow the state of the record: preparation stops once the questions are answered or
the consultation is held, a cleared client is told so, a moved visit says it moved, a released
tentative booking is told kindly, staff replies are signed, copy never offers an online change
that has closed, and the calendar file updates one event instead of adding another."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from icalendar import Calendar

from bookings import services
from bookings.services.consultations import consultation_submit_screening
from bookings.tokens import manage_token_for
from reminders.models import Message
from reminders.services import message_send_adhoc
from tests import factories
from tests.consultations.conftest import WEDNESDAY, at
from tests.consultations.test_screening import all_clear

pytestmark = pytest.mark.django_db
Status = Message.Status


def _texts(appointment, **filters):
    return Message.objects.filter(appointment=appointment, **filters).order_by("id")


def test_consultation_preparation_stops_once_the_questions_are_answered(
    book_consultation, client_person
):
    consultation = book_consultation(client_person)
    prep = _texts(consultation, category="consultation_prep").get()
    assert prep.status == Status.SCHEDULED

    consultation_submit_screening(consultation=consultation.consultation, answers=all_clear())

    prep.refresh_from_db()
    assert prep.status == Status.CANCELLED
    assert prep.status_reason == "The screening questions were answered"


def test_holding_the_consultation_stops_preparation_and_tells_a_cleared_client(
    book_consultation, clear, client_person, treatment_service
):
    consultation = book_consultation(client_person)

    clear(consultation)

    prep = _texts(consultation, category="consultation_prep").get()
    assert prep.status == Status.CANCELLED
    cleared = _texts(consultation, category="clearance").get()
    assert cleared.status == Status.SCHEDULED
    assert "you're cleared for treatment" in cleared.body
    assert treatment_service.name not in cleared.body  # lock screens are public
    assert "/book/" in cleared.body


def test_a_clinic_that_opts_in_names_the_treatments_in_the_cleared_text(
    book_consultation, clear, client_person, treatment_service, location
):
    location.texts_name_treatments = True
    location.save()
    consultation = book_consultation(client_person)

    clear(consultation)

    assert treatment_service.name in _texts(consultation, category="clearance").get().body


def test_not_suitable_sends_no_cleared_text(book_consultation, clear, client_person):
    consultation = book_consultation(client_person)

    clear(consultation, outcome="not_suitable")

    assert not _texts(consultation, category="clearance").exists()


def test_a_tentative_booking_released_after_not_suitable_is_told_kindly_and_invited_to_call(
    book_consultation, book_treatment, clear, client_person, location
):
    consultation = book_consultation(client_person)
    treatment = book_treatment(client_person, at(10), awaiting_consultation=consultation)

    clear(consultation, outcome="not_suitable")

    released = _texts(treatment, category="cancellation").get()
    assert "released the time we were holding" in released.body
    assert location.phone in released.body
    assert "Book again" not in released.body
    assert "cancelled" not in released.body


def test_a_moved_visit_says_it_moved_from_when_to_when(
    book_consultation, client_person, location, reception
):
    consultation = book_consultation(client_person)  # Wednesday 10:00

    services.appointment_reschedule(
        appointment=consultation, start_at=at(15, day=WEDNESDAY), actor=reception
    )

    new_texts = _texts(consultation, appointment_version=2)
    moved = new_texts.get(category="confirmation")
    assert moved.rule.name == "Appointment moved"
    assert "has moved: now Wed 2 Dec at 15:00, was 10:00" in moved.body
    assert "you're booked" not in moved.body


def test_a_move_to_another_day_names_the_old_day(book_consultation, client_person, reception):
    consultation = book_consultation(client_person)

    services.appointment_reschedule(
        appointment=consultation,
        start_at=at(14, day=WEDNESDAY + timedelta(days=1)),
        actor=reception,
    )

    moved = _texts(consultation, appointment_version=2).get(category="confirmation")
    assert "now Thu 3 Dec at 14:00, was Wed 2 Dec at 10:00" in moved.body


def test_a_same_day_confirmation_does_not_offer_online_changes_that_have_closed(
    book_consultation, client_person, location, client
):
    same_day = book_consultation(client_person, at(15, day=WEDNESDAY - timedelta(days=1)))
    next_week = book_consultation(factories.ClientFactory(), at(15))

    closed = _texts(same_day, category="confirmation").get().body
    assert "Change or cancel" not in closed
    assert f"To change it, please call {location.phone}" in closed
    assert "Change or cancel: " in _texts(next_week, category="confirmation").get().body
    page = client.get(reverse("site-confirmed", args=[manage_token_for(same_day)])).content
    assert b'data-testid="changes-closed"' in page
    assert b"up to 24 hours before" not in page


def test_a_staff_reply_is_signed_with_the_clinic_name(client_person, reception, location):
    message = message_send_adhoc(
        client=client_person, body="Please call us today.", actor=reception
    )

    assert message.body == f"Please call us today. - {location.name}"


def _ics(client, appointment) -> Calendar:
    response = client.get(reverse("site-calendar", args=[manage_token_for(appointment)]))
    assert response.status_code == 200
    return Calendar.from_ical(response.content)


def test_the_calendar_file_keeps_its_uid_raises_its_sequence_and_cancels(
    book_consultation, client_person, reception, client
):
    consultation = book_consultation(client_person)
    first = _ics(client, consultation)
    services.appointment_reschedule(
        appointment=consultation, start_at=at(15, day=WEDNESDAY), actor=reception
    )
    moved = _ics(client, consultation)
    services.appointment_cancel(appointment=consultation, actor=reception, reason="Unwell")
    cancelled = _ics(client, consultation)

    events = [calendar.walk("VEVENT")[0] for calendar in (first, moved, cancelled)]
    assert len({str(event["uid"]) for event in events}) == 1
    sequences = [int(event["sequence"]) for event in events]
    assert sequences == [1, 2, 3]
    assert str(first["method"]) == "PUBLISH"
    assert str(cancelled["method"]) == "CANCEL"
    assert str(events[2]["status"]) == "CANCELLED"
