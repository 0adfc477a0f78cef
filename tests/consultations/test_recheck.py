from __future__ import annotations

from datetime import date, timedelta

import pytest

from bookings import signals
from bookings.models import AppointmentEvent, HealthRecheck
from bookings.selectors.consultations import (
    appointment_awaiting_recheck,
    health_recheck_states,
)
from bookings.services.consultations import health_recheck_answer, health_recheck_request
from clinic.errors import IllegalTransition
from reminders.models import Message
from tests import factories
from tests.consultations.conftest import at

pytestmark = pytest.mark.django_db

SECOND_SESSION = date(2027, 1, 4)


@pytest.fixture
def second_session(book_consultation, book_treatment, clear, client_person, clock):
    """A client cleared on Wednesday, first session completed on Monday, second booked 4 weeks on."""
    clear(book_consultation(client_person))
    first = book_treatment(client_person, at(10))
    second = book_treatment(client_person, at(10, day=SECOND_SESSION))
    first.status = "completed"
    first.save(update_fields=["status"])
    clock.move_to(at(12, day=SECOND_SESSION - timedelta(days=2)))
    return second


def test_the_later_session_awaits_a_recheck_within_the_window(second_session, client_person):
    assert appointment_awaiting_recheck(client=client_person) == second_session


def test_a_first_session_needs_no_recheck(
    book_consultation, book_treatment, clear, client_person, clock
):
    clear(book_consultation(client_person))
    book_treatment(client_person, at(10))
    clock.move_to(at(12, day=date(2026, 12, 5)))
    assert appointment_awaiting_recheck(client=client_person) is None


def test_no_change_is_recorded_and_nothing_is_flagged(second_session, client_person):
    health_recheck_request(appointment=second_session)
    recheck = health_recheck_answer(appointment=second_session, changed=False, via="sms")
    assert (recheck.changed, recheck.needs_review) == (False, False)
    assert appointment_awaiting_recheck(client=client_person) is None
    assert AppointmentEvent.objects.filter(
        appointment=second_session, kind="health_recheck_unchanged"
    ).exists()


def test_a_change_puts_the_appointment_in_review_and_alerts_the_practitioner(second_session):
    alerts = []

    def on_changed(sender, **kwargs):
        alerts.append(kwargs["appointment"].pk)

    signals.health_recheck_changed.connect(on_changed, weak=False)
    try:
        health_recheck_answer(appointment=second_session, changed=True, via="link")
    finally:
        signals.health_recheck_changed.disconnect(on_changed)
    assert alerts == [second_session.pk]
    assert HealthRecheck.objects.get(appointment=second_session).needs_review is True
    assert health_recheck_states(appointments=[second_session]) == {second_session.pk: "changed"}


def test_a_past_appointment_cannot_be_rechecked(second_session, clock):
    clock.move_to(at(11, day=SECOND_SESSION))
    with pytest.raises(IllegalTransition):
        health_recheck_answer(appointment=second_session, changed=False, via="link")


def test_other_clients_appointments_are_not_picked(second_session):
    assert appointment_awaiting_recheck(client=factories.ClientFactory()) is None


def test_calendar_states_show_unanswered_then_changed_for_later_sessions_only(
    second_session, client_person, django_assert_num_queries
):
    from bookings.models import Appointment
    from bookings.selectors.consultations import health_recheck_states

    visits = list(Appointment.objects.select_related("service").filter(client=client_person))
    with django_assert_num_queries(2):
        assert health_recheck_states(appointments=visits) == {second_session.pk: "unanswered"}
    health_recheck_answer(appointment=second_session, changed=True, via="sms")
    assert health_recheck_states(appointments=visits) == {second_session.pk: "changed"}


def test_a_practitioner_reviews_a_change_through_the_staff_api(
    client, second_session, practitioner_user, reception
):
    health_recheck_answer(appointment=second_session, changed=True, via="sms")
    client.force_login(reception)
    listed = client.get("/api/v1/staff/health-rechecks").json()
    assert [row["appointment_id"] for row in listed] == [second_session.pk]
    url = f"/api/v1/staff/health-rechecks/{second_session.pk}/review"
    assert client.post(url).status_code == 403
    client.force_login(practitioner_user)
    reviewed = client.post(url)
    assert reviewed.status_code == 200
    assert reviewed.json()["needs_review"] is False
    assert client.get("/api/v1/staff/health-rechecks").json() == []
    assert client.post(url).status_code == 409
    assert AppointmentEvent.objects.filter(
        appointment=second_session, kind="health_recheck_reviewed", actor=practitioner_user
    ).exists()


def test_the_staff_calendar_feed_flags_a_changed_recheck(second_session, client, reception):
    client.force_login(reception)
    day = SECOND_SESSION.isoformat()
    url = f"/api/v1/staff/appointments?start={day}&end={SECOND_SESSION + timedelta(days=1)}"

    before = {row["id"]: row for row in client.get(url).json()}
    assert before[second_session.pk]["health_recheck"] == "unanswered"

    health_recheck_answer(appointment=second_session, changed=True, via="sms")
    after = {row["id"]: row for row in client.get(url).json()}
    assert after[second_session.pk]["health_recheck"] == "changed"


def test_a_change_emails_the_practitioner_once_with_a_link_and_no_details(
    second_session, client_person, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core import mail

    from reminders import tasks
    from reminders.models import StaffAlert

    monkeypatch.setattr(tasks.send_staff_alert, "delay", lambda pk: tasks.send_staff_alert(pk))
    with django_capture_on_commit_callbacks(execute=True):
        health_recheck_answer(appointment=second_session, changed=True, via="link")
    with django_capture_on_commit_callbacks(execute=True):
        health_recheck_answer(appointment=second_session, changed=True, via="sms")

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [second_session.practitioner.user.email]
    assert f"/staff/appointments/{second_session.pk}/" in email.body
    assert "Mon 4 Jan" in email.body
    assert client_person.first_name not in email.body
    assert StaffAlert.objects.get().kind == "health_changed"


def test_with_sessions_one_and_two_booked_together_every_rule_calls_session_two_a_later_session(
    book_consultation, book_treatment, clear, client_person, clock
):
    clear(book_consultation(client_person))
    book_treatment(client_person, at(10))
    second = book_treatment(client_person, at(10, day=SECOND_SESSION))
    # Planning sends the re-check text for session 2 (session 1 is booked before it) ...
    assert Message.objects.filter(appointment=second, category="health_recheck").exists()

    # ... so the re-check rules must agree that session 2 is a later session, even while the
    # desk has not closed session 1 yet: the client's reply finds it and the calendar shows it.
    clock.move_to(at(12, day=SECOND_SESSION - timedelta(days=2)))
    assert appointment_awaiting_recheck(client=client_person) == second
    assert health_recheck_states(appointments=[second]) == {second.pk: "unanswered"}
