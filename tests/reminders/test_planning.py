from __future__ import annotations

from datetime import timedelta

import time_machine

from bookings import signals
from bookings.models import Appointment
from reminders.models import Message, ReminderRule
from reminders.services import rule_due_at
from tests import factories
from tests.reminders.conftest import days, utc

Status = Message.Status
Category = ReminderRule.Category


def _by_rule(appointment):
    return {m.rule.name: m for m in Message.objects.filter(appointment=appointment)}


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_booking_a_treatment_three_weeks_ahead_plans_the_whole_protocol(book):
    appointment = book(start_at=utc(2026, 5, 22, 13))  # Friday 14:00 BST

    planned = _by_rule(appointment)

    assert set(planned) == {
        "Booking confirmation",
        "Pre-care: 14 days before",
        "Pre-care: 5 days before",
        "Day-before reminder",
        "Aftercare: same evening",
        "Downtime check: day 2",
        "Downtime check: day 5",
    }
    assert all(m.status == Status.SCHEDULED for m in planned.values())
    assert planned["Booking confirmation"].due_at == utc(2026, 5, 1, 9)
    assert planned["Pre-care: 14 days before"].due_at == utc(2026, 5, 8, 13)
    assert planned["Day-before reminder"].due_at == utc(2026, 5, 21, 9)  # 10:00 BST
    assert planned["Aftercare: same evening"].due_at == appointment.end_at + timedelta(hours=2)
    assert planned["Downtime check: day 2"].due_at == utc(2026, 5, 24, 9)
    assert all(m.appointment_version == 1 for m in planned.values())


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_message_bodies_carry_no_treatment_name_and_link_to_the_care_page(book, client_person):
    appointment = book(start_at=utc(2026, 5, 22, 13))

    for message in Message.objects.filter(appointment=appointment):
        assert "eedling" not in message.body
        assert message.to == client_person.phone
        assert client_person.first_name in message.body
    aftercare = Message.objects.get(appointment=appointment, category=Category.AFTERCARE)
    assert "/c/" in aftercare.body


@time_machine.travel(utc(2026, 5, 20, 9), tick=False)
def test_steps_already_past_at_booking_time_are_replaced_by_one_catch_up_not_sent_late(book):
    appointment = book(start_at=utc(2026, 5, 22, 13))  # two days ahead

    planned = _by_rule(appointment)

    assert planned["Pre-care: 14 days before"].status == Status.SKIPPED
    assert planned["Pre-care: 5 days before"].status == Status.SKIPPED
    assert "replaced by “Pre-care: catch-up”" in planned["Pre-care: 14 days before"].status_reason
    assert planned["Pre-care: catch-up"].status == Status.SCHEDULED
    assert planned["Pre-care: catch-up"].due_at == utc(2026, 5, 20, 9, 5)
    assert planned["Day-before reminder"].status == Status.SCHEDULED
    assert "Day-before reminder: catch-up" not in planned


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_consultation_booking_plans_confirmation_and_preparation_but_no_aftercare(
    book, consultation_service
):
    appointment = book(start_at=utc(2026, 5, 6, 10), service=consultation_service)

    categories = set(
        Message.objects.filter(appointment=appointment).values_list("category", flat=True)
    )

    assert categories == {Category.CONFIRMATION, Category.CONSULTATION_PREP, Category.DAY_BEFORE}
    prep = Message.objects.get(appointment=appointment, category=Category.CONSULTATION_PREP)
    assert "/b/" in prep.body
    assert prep.body.rstrip("/").endswith("/screening")


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_planning_twice_for_the_same_version_creates_nothing_new(book):
    appointment = book(start_at=utc(2026, 5, 22, 13))
    count = Message.objects.count()

    signals.appointment_booked.send(sender=Appointment, appointment=appointment, actor_label="x")

    assert Message.objects.count() == count


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_reschedule_cancels_unsent_old_version_rows_and_plans_the_new_time(book):
    appointment = book(start_at=utc(2026, 5, 22, 13))
    old_ids = set(Message.objects.filter(appointment=appointment).values_list("id", flat=True))
    Message.objects.filter(appointment=appointment, category=Category.CONFIRMATION).update(
        status=Status.SENT
    )

    appointment.start_at = utc(2026, 6, 5, 13)
    appointment.end_at = appointment.start_at + timedelta(hours=1)
    appointment.blocked_start_at = appointment.start_at
    appointment.blocked_end_at = appointment.end_at + timedelta(minutes=15)
    appointment.version = 2
    appointment.save()
    signals.appointment_rescheduled.send(
        sender=Appointment,
        appointment=appointment,
        actor_label="client",
        previous_start_at=utc(2026, 5, 22, 13),
        previous_version=1,
    )

    old = Message.objects.filter(id__in=old_ids)
    assert set(old.values_list("status", flat=True)) == {Status.CANCELLED, Status.SENT}
    new_rows = Message.objects.filter(appointment=appointment, appointment_version=2)
    assert new_rows.filter(rule__name="Day-before reminder").get().due_at == utc(2026, 6, 4, 9)
    assert new_rows.filter(category=Category.CONFIRMATION).exists()


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_cancellation_cancels_unsent_and_plans_a_cancellation_confirmation(book):
    appointment = book(start_at=utc(2026, 5, 22, 13))
    appointment.status = Appointment.Status.CANCELLED
    appointment.save()

    signals.appointment_cancelled.send(
        sender=Appointment, appointment=appointment, actor_label="client", reason="ill"
    )

    rows = Message.objects.filter(appointment=appointment)
    assert not rows.filter(status=Status.SCHEDULED).exclude(category=Category.CANCELLATION).exists()
    cancellation = rows.get(category=Category.CANCELLATION)
    assert cancellation.status == Status.SCHEDULED
    assert cancellation.due_at == utc(2026, 5, 1, 9)
    assert "cancelled" in cancellation.body


def test_no_show_cancels_unsent_aftercare_and_downtime_checks_only(book):
    with time_machine.travel(utc(2026, 5, 1, 9), tick=False):
        appointment = book(start_at=utc(2026, 5, 22, 13))
    with time_machine.travel(utc(2026, 5, 22, 14, 30), tick=False):
        signals.appointment_no_show.send(
            sender=Appointment, appointment=appointment, actor_label="staff:x"
        )

    rows = Message.objects.filter(appointment=appointment)
    for message in rows.filter(category__in=[Category.AFTERCARE, Category.DOWNTIME_CHECK]):
        assert message.status == Status.CANCELLED
    assert rows.get(rule__name="Day-before reminder").status == Status.SCHEDULED


def test_completion_plans_a_rebook_nudge_only_while_the_course_is_unfinished(book, client_person):
    with time_machine.travel(utc(2026, 5, 1, 9), tick=False):
        first = book(start_at=utc(2026, 5, 4, 9))
        first.status = Appointment.Status.COMPLETED
        first.save()
        signals.appointment_completed.send(sender=Appointment, appointment=first, actor_label="s")
        assert Message.objects.filter(appointment=first, category=Category.REBOOK).exists()

        rebook = Message.objects.get(appointment=first, category=Category.REBOOK)
        assert rebook.due_at.date() == (first.end_at + days(28)).date()

        later = []
        for start in (utc(2026, 6, 1, 9), utc(2026, 6, 29, 9)):
            session = book(start_at=start, send=False)
            session.status = Appointment.Status.COMPLETED
            session.save()
            later.append(session)
        signals.appointment_completed.send(
            sender=Appointment, appointment=later[-1], actor_label="s"
        )

    # Third completed session of a course of three: the course is finished.
    assert not Message.objects.filter(appointment=later[-1], category=Category.REBOOK).exists()


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_health_recheck_is_planned_only_for_later_sessions_of_a_course(book):
    first = book(start_at=utc(2026, 5, 11, 9))
    second = book(start_at=utc(2026, 6, 8, 9))

    assert not Message.objects.filter(appointment=first, category=Category.HEALTH_RECHECK).exists()
    recheck = Message.objects.get(appointment=second, category=Category.HEALTH_RECHECK)
    assert recheck.due_at == utc(2026, 6, 6, 9)
    assert "reply 1 = no change, 2 = something changed" in recheck.body


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_pending_clearance_plans_only_a_tentative_confirmation(book):
    appointment = book(
        start_at=utc(2026, 5, 22, 13), status=Appointment.Status.PENDING_CLEARANCE, send=False
    )

    signals.appointment_pending_clearance.send(
        sender=Appointment, appointment=appointment, actor_label="client"
    )

    rows = Message.objects.filter(appointment=appointment)
    assert [m.category for m in rows] == [Category.CONFIRMATION]
    assert "holding" in rows.get().body


def test_day_before_at_ten_is_ten_local_on_both_sides_of_the_dst_changes(location):
    rule = ReminderRule.objects.get(name="Day-before reminder")
    spring = factories.AppointmentFactory(location=location, start_at=utc(2026, 3, 30, 8))
    autumn = factories.AppointmentFactory(location=location, start_at=utc(2026, 10, 26, 9))

    # Sunday 29 March 2026 is BST (UTC+1); Sunday 25 October 2026 is GMT again.
    assert rule_due_at(rule=rule, appointment=spring, now=utc(2026, 3, 1)) == utc(2026, 3, 29, 9)
    assert rule_due_at(rule=rule, appointment=autumn, now=utc(2026, 10, 1)) == utc(2026, 10, 25, 10)


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_booking_something_due_now_nudges_the_dispatcher_after_commit(
    book, django_capture_on_commit_callbacks, monkeypatch
):
    nudged = []
    monkeypatch.setattr(
        "reminders.tasks.dispatch_due_messages.delay", lambda *a, **k: nudged.append(1)
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        book(start_at=utc(2026, 5, 22, 13))

    assert len(callbacks) == 1
    assert nudged == [1]


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_phone_verification_request_queues_a_code_due_now_without_consent(location):
    signals.phone_verification_requested.send(
        sender=None, phone="+447700900555", code="482913", location=location
    )

    message = Message.objects.get(category=Category.VERIFICATION)
    assert message.to == "+447700900555"
    assert "482913" in message.body
    assert message.due_at == utc(2026, 5, 1, 9)
    assert message.client is None


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_rescheduling_a_tentative_booking_plans_only_a_new_tentative_confirmation(book):
    appointment = book(
        start_at=utc(2026, 5, 22, 13), status=Appointment.Status.PENDING_CLEARANCE, send=False
    )
    signals.appointment_pending_clearance.send(
        sender=Appointment, appointment=appointment, actor_label="client"
    )
    appointment.start_at += timedelta(days=7)
    appointment.end_at += timedelta(days=7)
    appointment.blocked_start_at += timedelta(days=7)
    appointment.blocked_end_at += timedelta(days=7)
    appointment.version = 2
    appointment.save()

    signals.appointment_rescheduled.send(
        sender=Appointment,
        appointment=appointment,
        actor_label="client",
        previous_start_at=utc(2026, 5, 22, 13),
        previous_version=1,
    )

    new_rows = Message.objects.filter(appointment=appointment, appointment_version=2)
    assert [m.rule.name for m in new_rows] == ["Tentative booking confirmation"]


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_a_rule_limited_to_services_is_planned_for_those_services_only(
    book, treatment_service, location
):
    other_treatment = factories.ServiceFactory(kind=treatment_service.kind)
    day_before = ReminderRule.objects.get(name="Day-before reminder")
    day_before.services.add(other_treatment)

    limited_away = book(start_at=utc(2026, 5, 22, 13))
    limited_to = book(start_at=utc(2026, 5, 25, 13), service=other_treatment)

    assert "Day-before reminder" not in _by_rule(limited_away)
    assert "Day-before reminder" in _by_rule(limited_to)
    assert "Aftercare: same evening" in _by_rule(limited_away)  # not limited: every treatment
