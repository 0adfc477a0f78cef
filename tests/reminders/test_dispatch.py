from __future__ import annotations

from datetime import timedelta

import time_machine

from bookings.models import HealthRecheck
from reminders.backends import SmsError, locmem
from reminders.dispatch import (
    MAX_ATTEMPTS,
    DispatchReport,
    messages_claim_due,
    messages_dispatch_due,
    messages_reconcile_stuck,
    quiet_hours_end_after,
)
from reminders.models import Message, ReminderRule
from reminders.rendering import OPT_OUT_LINE
from reminders.services import inbound_receive
from tests import factories
from tests.reminders.conftest import utc

Status = Message.Status
NOON = utc(2026, 5, 12, 11)  # 12:00 BST, outside quiet hours


@time_machine.travel(NOON, tick=False)
def test_a_due_message_is_sent_once_and_its_sid_recorded(outbox_message):
    message = outbox_message(due_at=NOON - timedelta(minutes=1))
    outbox_message(due_at=NOON + timedelta(hours=1))  # not due yet

    report = messages_dispatch_due()
    messages_dispatch_due()

    message.refresh_from_db()
    assert report.sent == 1
    assert [sms.message_id for sms in locmem.outbox] == [message.pk]
    assert message.status == Status.SENT
    assert message.provider_sid == locmem.outbox[0].sid
    assert message.attempts == 1
    assert message.lease_expires_at is None


@time_machine.travel(NOON, tick=False)
def test_the_first_message_to_a_client_says_how_to_opt_out_and_later_ones_do_not(
    outbox_message,
):
    first = outbox_message(due_at=NOON - timedelta(minutes=2))
    messages_dispatch_due()
    second = outbox_message(due_at=NOON - timedelta(minutes=1), rule_name="Downtime check: day 2")
    messages_dispatch_due()

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.body.endswith(OPT_OUT_LINE)
    assert OPT_OUT_LINE not in second.body


@time_machine.travel(NOON, tick=False)
def test_no_sms_without_consent_or_after_opt_out(outbox_message, client_person):
    from tests.factories import ClientFactory

    unconsented = ClientFactory(sms_consent_at=None)
    never = outbox_message(due_at=NOON, client=unconsented, to=unconsented.phone)
    client_person.sms_opted_out_at = NOON - timedelta(days=1)
    client_person.save()
    opted_out = outbox_message(due_at=NOON)

    messages_dispatch_due()

    never.refresh_from_db()
    opted_out.refresh_from_db()
    assert locmem.outbox == []
    assert never.status == opted_out.status == Status.SKIPPED
    assert "not agreed" in never.status_reason
    assert "opted out" in opted_out.status_reason


def test_quiet_hours_end_at_0800_local_on_both_sides_of_the_spring_change(location):
    zone = location.zone
    # Saturday 28 March 2026 (GMT) and Sunday 29 March 2026 (BST, UTC+1).
    assert quiet_hours_end_after(moment=utc(2026, 3, 28, 7, 30), zone=zone) == utc(2026, 3, 28, 8)
    assert quiet_hours_end_after(moment=utc(2026, 3, 28, 22), zone=zone) == utc(2026, 3, 29, 7)
    assert quiet_hours_end_after(moment=utc(2026, 3, 29, 6, 30), zone=zone) == utc(2026, 3, 29, 7)
    assert quiet_hours_end_after(moment=utc(2026, 3, 29, 7, 30), zone=zone) is None


def test_quiet_hours_end_at_0800_local_on_both_sides_of_the_autumn_change(location):
    zone = location.zone
    # Saturday 24 October 2026 is BST; Sunday 25 October 2026 is GMT.
    assert quiet_hours_end_after(moment=utc(2026, 10, 24, 6, 30), zone=zone) == utc(2026, 10, 24, 7)
    assert quiet_hours_end_after(moment=utc(2026, 10, 24, 21), zone=zone) == utc(2026, 10, 25, 8)
    assert quiet_hours_end_after(moment=utc(2026, 10, 25, 7, 30), zone=zone) == utc(2026, 10, 25, 8)
    assert quiet_hours_end_after(moment=utc(2026, 10, 24, 12), zone=zone) is None


@time_machine.travel(utc(2026, 3, 28, 22, 30), tick=False)
def test_a_reminder_due_in_quiet_hours_moves_to_the_morning_but_a_code_goes_at_once(
    outbox_message,
):
    reminder = outbox_message(due_at=utc(2026, 3, 28, 22), rule_name="Downtime check: day 5")
    code = outbox_message(
        due_at=utc(2026, 3, 28, 22, 29),
        rule_name=None,
        category=ReminderRule.Category.VERIFICATION,
        body="123456 is your code",
    )

    messages_dispatch_due()

    reminder.refresh_from_db()
    code.refresh_from_db()
    assert reminder.status == Status.SCHEDULED
    assert reminder.due_at == utc(2026, 3, 29, 7)  # 08:00 BST
    assert code.status == Status.SENT


@time_machine.travel(NOON, tick=False)
def test_aftercare_more_than_twelve_hours_late_is_skipped_with_a_reason(outbox_message):
    late = outbox_message(due_at=NOON - timedelta(hours=13))
    on_time = outbox_message(due_at=NOON - timedelta(hours=11), body="Another one")

    messages_dispatch_due()

    late.refresh_from_db()
    on_time.refresh_from_db()
    assert late.status == Status.SKIPPED
    assert "Too late" in late.status_reason
    assert on_time.status == Status.SENT


@time_machine.travel(NOON, tick=False)
def test_the_daily_cap_sends_two_reminders_and_moves_the_lowest_priority_to_tomorrow(
    outbox_message,
):
    low = outbox_message(due_at=NOON, rule_name="Downtime check: day 5", body="low")  # 50
    high = outbox_message(due_at=NOON, rule_name="Day-before reminder", body="high")  # 90
    mid = outbox_message(due_at=NOON, rule_name="Aftercare: same evening", body="mid")  # 80
    confirmation = outbox_message(due_at=NOON, rule_name="Booking confirmation", body="conf")

    messages_dispatch_due()

    for message in (low, high, mid, confirmation):
        message.refresh_from_db()
    assert {high.status, mid.status, confirmation.status} == {Status.SENT}
    assert low.status == Status.SCHEDULED
    assert low.due_at == utc(2026, 5, 13, 7)  # 08:00 BST tomorrow
    assert "Daily limit" in low.status_reason


@time_machine.travel(NOON, tick=False)
def test_a_capped_message_that_would_be_stale_tomorrow_is_skipped(outbox_message):
    for body in ("a", "b"):
        outbox_message(due_at=NOON, rule_name="Day-before reminder", body=body)
    aftercare = outbox_message(due_at=NOON, body="c")  # stale after 12 h, lowest priority

    messages_dispatch_due()

    aftercare.refresh_from_db()
    assert aftercare.status == Status.SKIPPED


def test_stop_mid_course_cancels_everything_unsent_and_nothing_more_is_sent(
    outbox_message, client_person
):
    with time_machine.travel(NOON, tick=False):
        outbox_message(due_at=NOON)
        messages_dispatch_due()
        later = [outbox_message(due_at=NOON + timedelta(days=d), body=str(d)) for d in (1, 2)]
        inbound_receive(
            provider_sid="SMin1", from_number=client_person.phone, to_number="+44", body="Stop"
        )
    with time_machine.travel(NOON + timedelta(days=3), tick=False):
        messages_dispatch_due()

    client_person.refresh_from_db()
    assert client_person.sms_opted_out_at is not None
    assert len(locmem.outbox) == 1
    for message in later:
        message.refresh_from_db()
        assert message.status == Status.CANCELLED


@time_machine.travel(NOON, tick=False)
def test_a_429_is_retried_later_with_backoff_and_then_sent(outbox_message):
    message = outbox_message(due_at=NOON)
    locmem.faults.append(SmsError("slow down", permanent=False, code=20429))

    messages_dispatch_due()
    message.refresh_from_db()
    assert message.status == Status.SCHEDULED
    assert NOON < message.due_at <= NOON + timedelta(seconds=2)
    assert locmem.outbox == []

    with time_machine.travel(NOON + timedelta(minutes=1), tick=False):
        messages_dispatch_due()
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.attempts == 2
    assert len(locmem.outbox) == 1


def test_retryable_errors_give_up_after_bounded_attempts(outbox_message):
    message = outbox_message(due_at=NOON, rule_name="Day-before reminder")
    for attempt in range(MAX_ATTEMPTS):
        locmem.faults.append(SmsError("busy", permanent=False, code=20429))
        with time_machine.travel(NOON + timedelta(minutes=10 * attempt), tick=False):
            messages_dispatch_due()

    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert f"after {MAX_ATTEMPTS} attempts" in message.status_reason
    assert locmem.outbox == []


@time_machine.travel(NOON, tick=False)
def test_21610_fails_the_message_and_opts_the_client_out(outbox_message, client_person):
    message = outbox_message(due_at=NOON)
    later = outbox_message(due_at=NOON + timedelta(days=1))
    locmem.faults.append(SmsError("unsubscribed", permanent=True, code=21610))

    messages_dispatch_due()

    message.refresh_from_db()
    later.refresh_from_db()
    client_person.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.error_code == 21610
    assert client_person.sms_opted_out_at is not None
    assert later.status == Status.CANCELLED


def test_an_answer_lost_after_acceptance_is_reconciled_not_resent(outbox_message):
    with time_machine.travel(NOON, tick=False):
        message = outbox_message(due_at=NOON)
        locmem.faults.append(SmsError("timeout", permanent=False, maybe_accepted=True))
        messages_dispatch_due()
        message.refresh_from_db()
        assert message.status == Status.SENDING
        assert len(locmem.outbox) == 1  # the provider has it

    with time_machine.travel(NOON + timedelta(minutes=10), tick=False):
        report = messages_reconcile_stuck()
        messages_dispatch_due()

    message.refresh_from_db()
    assert report.confirmed_sent == 1
    assert message.status == Status.SENT
    assert message.provider_sid == locmem.outbox[0].sid
    assert len(locmem.outbox) == 1


def test_a_row_claimed_by_a_worker_that_died_before_sending_is_sent_exactly_once(
    outbox_message,
):
    with time_machine.travel(NOON, tick=False):
        message = outbox_message(due_at=NOON)
        claimed = messages_claim_due(report=DispatchReport())  # …and the worker dies here
        assert [m.pk for m in claimed] == [message.pk]
    with time_machine.travel(NOON + timedelta(minutes=1), tick=False):
        assert messages_reconcile_stuck().checked == 0  # lease still running
    with time_machine.travel(NOON + timedelta(minutes=10), tick=False):
        assert messages_reconcile_stuck().resent == 1
        messages_dispatch_due()
    with time_machine.travel(NOON + timedelta(minutes=30), tick=False):
        messages_reconcile_stuck()
        messages_dispatch_due()

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.was_resent_after_reconciliation
    assert len(locmem.outbox) == 1


def test_two_dispatchers_never_claim_the_same_rows(outbox_message):
    with time_machine.travel(NOON, tick=False):
        for n in range(5):
            outbox_message(due_at=NOON, rule_name="Booking confirmation", body=str(n))
        first = messages_claim_due(batch_size=3, report=DispatchReport())
        second = messages_claim_due(batch_size=3, report=DispatchReport())

    assert len(first) == 3
    assert len(second) == 2
    assert not {m.pk for m in first} & {m.pk for m in second}
    assert Message.objects.filter(status=Status.SENDING).count() == 5


def test_a_worker_whose_claim_expired_before_sending_releases_the_row_instead(outbox_message):
    from reminders.backends import get_backend
    from reminders.dispatch import message_send_claimed

    with time_machine.travel(NOON, tick=False):
        message = outbox_message(due_at=NOON)
        [claimed] = messages_claim_due(report=DispatchReport())
    with time_machine.travel(NOON + timedelta(minutes=5), tick=False):
        report = DispatchReport()
        message_send_claimed(message=claimed, backend=get_backend(), report=report)

    message.refresh_from_db()
    assert report.released == 1
    assert locmem.outbox == []
    assert message.status == Status.SCHEDULED


@time_machine.travel(NOON, tick=False)
def test_sending_the_recheck_text_records_when_the_client_was_asked(
    outbox_message, client_person, location
):
    appointment = factories.AppointmentFactory(
        client=client_person, location=location, start_at=NOON + timedelta(days=2)
    )
    outbox_message(
        due_at=NOON - timedelta(minutes=1),
        rule_name="Health re-check before a later session",
        appointment=appointment,
    )
    assert not HealthRecheck.objects.filter(appointment=appointment).exists()

    messages_dispatch_due()

    recheck = HealthRecheck.objects.get(appointment=appointment)
    assert (recheck.asked_at, recheck.answered_at) == (NOON, None)


@time_machine.travel(NOON, tick=False)
def test_a_claim_takes_the_same_statements_for_any_batch_and_sets_each_row_once(outbox_message):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def claim(people: int) -> tuple[int, list[Message]]:
        clients = [factories.ClientFactory(sms_consent_at=NOON) for _ in range(people)]
        outbox_message(  # the first client has had a text before
            due_at=NOON - timedelta(days=3), client=clients[0], status=Status.SENT, body="old"
        )
        for n, person in enumerate(clients):
            outbox_message(due_at=NOON, client=person, to=person.phone, body=f"b{n}")
        with CaptureQueriesContext(connection) as queries:
            claimed = messages_claim_due(now=NOON, batch_size=100, report=DispatchReport())
        assert sorted(m.client_id for m in claimed) == sorted(c.pk for c in clients)
        return len(queries), claimed

    small, _ = claim(3)
    Message.objects.filter(status=Status.SENDING).update(status=Status.SENT)
    big, claimed = claim(20)  # more clients' rows, not more statements

    assert big == small
    fresh = {m.pk: m for m in Message.objects.filter(pk__in=[m.pk for m in claimed])}
    assert {(fresh[m.pk].status, fresh[m.pk].attempts) for m in claimed} == {(Status.SENDING, 1)}
    assert all(fresh[m.pk].lease_expires_at == NOON + timedelta(minutes=2) for m in claimed)
    with_line = sorted(m.body for m in fresh.values() if m.body.endswith(OPT_OUT_LINE))
    assert len(with_line) == 19  # every first text, not the client texted before
    assert all(m.client is not None and m.client.sms_consent_at == NOON for m in claimed)


@time_machine.travel(NOON, tick=False)
def test_a_batch_of_day_before_reminders_reads_its_visits_in_one_statement(
    outbox_message, location
):
    """The gate asks each pre-visit text whether its visit has started: the visits are read
    with the batch, not one query per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def claim(visits: int) -> int:
        for n in range(visits):
            person = factories.ClientFactory(sms_consent_at=NOON)
            visit = factories.AppointmentFactory(
                client=person, location=location, start_at=NOON + timedelta(days=1, minutes=n)
            )
            outbox_message(
                due_at=NOON,
                rule_name="Day-before reminder",
                client=person,
                to=person.phone,
                appointment=visit,
            )
        with CaptureQueriesContext(connection) as queries:
            claimed = messages_claim_due(now=NOON, batch_size=100, report=DispatchReport())
        assert len(claimed) == visits
        assert all(
            Message.appointment.is_cached(message)  # type: ignore[attr-defined]
            and message.appointment.start_at > NOON
            for message in claimed
        )
        Message.objects.filter(status=Status.SENDING).update(status=Status.SENT)
        return len(queries)

    assert claim(12) == claim(2)


@time_machine.travel(NOON, tick=False)
def test_a_visit_that_has_started_skips_its_day_before_reminder_read_with_the_batch(
    outbox_message, client_person, location
):
    visit = factories.AppointmentFactory(
        client=client_person, location=location, start_at=NOON - timedelta(minutes=5)
    )
    late = outbox_message(
        due_at=NOON - timedelta(minutes=1), rule_name="Day-before reminder", appointment=visit
    )

    claimed = messages_claim_due(now=NOON, batch_size=100, report=DispatchReport())

    late.refresh_from_db()
    assert claimed == []
    assert (late.status, late.status_reason) == (Status.SKIPPED, "The visit has already started")


@time_machine.travel(NOON, tick=False)
def test_texts_that_went_out_earlier_today_count_towards_the_cap_and_yesterdays_do_not(
    outbox_message,
):
    def sent(at, rule_name):
        outbox_message(due_at=at, rule_name=rule_name, status=Status.SENT, last_attempt_at=at)

    sent(NOON - timedelta(hours=2), "Downtime check: day 2")  # today: counts
    sent(utc(2026, 5, 11, 22, 30), "Downtime check: day 2")  # 23:30 BST yesterday
    sent(NOON - timedelta(hours=1), "Booking confirmation")  # exempt from the cap
    high = outbox_message(due_at=NOON, rule_name="Aftercare: same evening", body="high")
    low = outbox_message(due_at=NOON, rule_name="Downtime check: day 5", body="low")
    confirmation = outbox_message(due_at=NOON, rule_name="Booking confirmation", body="c")

    claimed = messages_claim_due(report=DispatchReport())

    low.refresh_from_db()
    assert {m.pk for m in claimed} == {high.pk, confirmation.pk}
    assert (low.status, low.due_at) == (Status.SCHEDULED, utc(2026, 5, 13, 7))
    assert "Daily limit" in low.status_reason


@time_machine.travel(NOON, tick=False)
def test_a_client_at_the_cap_still_gets_texts_the_cap_does_not_limit(outbox_message):
    for hours in (1, 2):
        outbox_message(
            due_at=NOON - timedelta(hours=hours),
            rule_name="Downtime check: day 2",
            status=Status.SENT,
            last_attempt_at=NOON - timedelta(hours=hours),
        )
    confirmation = outbox_message(due_at=NOON, rule_name="Booking confirmation", body="c")
    capped = outbox_message(due_at=NOON, rule_name="Downtime check: day 5", body="d")

    claimed = messages_claim_due(report=DispatchReport())

    capped.refresh_from_db()
    assert [m.pk for m in claimed] == [confirmation.pk]
    assert claimed[0].body == "c"  # texted before: no opt-out line
    assert capped.status == Status.SCHEDULED
    assert "Daily limit" in capped.status_reason
