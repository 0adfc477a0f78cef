"""Short-notice bookings: a pre-care or day-before step whose time has passed at booking is
replaced by one catch-up message at the next allowed time, and skipped only when even that
would arrive after the visit has started."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
import time_machine

from reminders import dispatch
from reminders.models import Message
from tests.reminders.conftest import utc

pytestmark = pytest.mark.django_db

Status = Message.Status
BOOKED_AT = utc(2026, 5, 18, 10)  # Monday 11:00 BST
PRE_CARE_CATCH_UP = "Pre-care: catch-up"
DAY_BEFORE_CATCH_UP = "Day-before reminder: catch-up"


def _statuses(appointment) -> dict[str, str]:
    return {m.rule.name: m.status for m in Message.objects.filter(appointment=appointment)}


def _scheduled(appointment) -> set[str]:
    return {name for name, status in _statuses(appointment).items() if status == Status.SCHEDULED}


@pytest.mark.parametrize(
    ("days_ahead", "expected_before_the_visit"),
    [
        # 15:00 BST on the day of booking: both steps are caught up.
        (0, {PRE_CARE_CATCH_UP, DAY_BEFORE_CATCH_UP}),
        # Tomorrow, booked after 10:00: the day-before reminder's time has gone.
        (1, {PRE_CARE_CATCH_UP, DAY_BEFORE_CATCH_UP}),
        (2, {PRE_CARE_CATCH_UP, "Day-before reminder"}),
        (4, {PRE_CARE_CATCH_UP, "Day-before reminder"}),
        # Only the 14-day step has passed; the 5-day step still goes on time.
        (6, {PRE_CARE_CATCH_UP, "Pre-care: 5 days before", "Day-before reminder"}),
        (20, {"Pre-care: 14 days before", "Pre-care: 5 days before", "Day-before reminder"}),
    ],
)
def test_short_notice_bookings_get_catch_up_pre_care_and_day_before(
    book, days_ahead, expected_before_the_visit
):
    with time_machine.travel(BOOKED_AT, tick=False):
        appointment = book(start_at=utc(2026, 5, 18, 14) + timedelta(days=days_ahead))

    before_visit = _scheduled(appointment) - {
        "Booking confirmation",
        "Aftercare: same evening",
        "Downtime check: day 2",
        "Downtime check: day 5",
    }
    assert before_visit == expected_before_the_visit
    skipped = {name for name, status in _statuses(appointment).items() if status == Status.SKIPPED}
    passed_steps = {"Pre-care: 14 days before", "Pre-care: 5 days before", "Day-before reminder"}
    assert skipped == passed_steps - expected_before_the_visit


@time_machine.travel(BOOKED_AT, tick=False)
def test_one_catch_up_replaces_both_missed_pre_care_steps_and_says_what_to_do(
    book, location, client_person
):
    appointment = book(start_at=utc(2026, 5, 20, 14))

    catch_up = Message.objects.get(appointment=appointment, rule__name=PRE_CARE_CATCH_UP)
    assert catch_up.due_at == BOOKED_AT + timedelta(minutes=5)
    assert "from now no sun, sunbeds or self-tan" in catch_up.body
    assert "pause retinoids" in catch_up.body
    assert "Isotretinoin in 6 months" in catch_up.body
    assert location.phone in catch_up.body
    assert "eedling" not in catch_up.body


def test_a_catch_up_booked_late_at_night_waits_for_the_morning_before_the_visit(book):
    late_evening = utc(2026, 5, 18, 21, 30)  # 22:30 BST, quiet hours until 08:00
    with time_machine.travel(late_evening, tick=False):
        appointment = book(start_at=utc(2026, 5, 19, 8, 30))  # 09:30 BST tomorrow
    assert {PRE_CARE_CATCH_UP, DAY_BEFORE_CATCH_UP} <= _scheduled(appointment)

    with time_machine.travel(late_evening + timedelta(minutes=15), tick=False):
        dispatch.messages_claim_due(report=dispatch.DispatchReport())

    catch_up = Message.objects.get(appointment=appointment, rule__name=PRE_CARE_CATCH_UP)
    assert catch_up.status == Status.SCHEDULED
    assert catch_up.due_at == utc(2026, 5, 19, 7)  # 08:00 BST


def test_a_catch_up_that_could_only_go_after_the_visit_has_started_is_skipped(book, settings):
    settings.QUIET_HOURS = (time(21), time(10))
    with time_machine.travel(utc(2026, 5, 18, 21, 30), tick=False):
        appointment = book(start_at=utc(2026, 5, 19, 8, 30))  # 09:30 BST, quiet until 10:00

    catch_up = Message.objects.get(appointment=appointment, rule__name=PRE_CARE_CATCH_UP)
    assert catch_up.status == Status.SKIPPED
    assert "after the visit" in catch_up.status_reason


def test_the_dispatcher_never_sends_pre_care_once_the_visit_has_started(book):
    with time_machine.travel(BOOKED_AT, tick=False):
        appointment = book(start_at=utc(2026, 5, 18, 10, 30))
    with time_machine.travel(utc(2026, 5, 18, 10, 31), tick=False):
        dispatch.messages_claim_due(report=dispatch.DispatchReport())

    catch_up = Message.objects.get(appointment=appointment, rule__name=PRE_CARE_CATCH_UP)
    assert catch_up.status == Status.SKIPPED
    assert catch_up.status_reason == "The visit has already started"


def test_a_reschedule_does_not_repeat_a_catch_up_already_sent(book):
    from bookings import signals
    from bookings.models import Appointment

    with time_machine.travel(BOOKED_AT, tick=False):
        appointment = book(start_at=utc(2026, 5, 20, 14))
        Message.objects.filter(rule__name=PRE_CARE_CATCH_UP).update(status=Status.SENT)
        for field in ("start_at", "end_at", "blocked_start_at", "blocked_end_at"):
            setattr(appointment, field, getattr(appointment, field) + timedelta(days=1))
        appointment.version += 1
        appointment.save()
        signals.appointment_rescheduled.send(
            sender=Appointment,
            appointment=appointment,
            actor_label="client",
            previous_start_at=appointment.start_at - timedelta(days=1),
            previous_version=1,
        )

    assert Message.objects.filter(rule__name=PRE_CARE_CATCH_UP).count() == 1
