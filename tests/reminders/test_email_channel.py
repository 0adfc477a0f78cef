"""Email as a second channel of the outbox (issue 13 point 6): twins of the confirmation and the
care-page link for clients who agreed to email, and one email in place of a care text whose SMS
could not reach the client."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction

from bookings import signals
from bookings.models import Appointment
from reminders.backends import SmsError, locmem
from reminders.dispatch import messages_dispatch_due, messages_reconcile_stuck
from reminders.models import Message, ReminderRule
from reminders.rendering import OPT_OUT_LINE
from reminders.services import message_apply_provider_status
from reminders.services.email_channel import message_plan_email_fallback
from reminders.services.outbox import client_opt_out
from reminders.tokens import email_unsubscribe_token_for
from tests import factories
from tests.reminders.conftest import utc
from tests.reminders.test_webhooks import TOKEN, _status

Status = Message.Status
Channel = Message.Channel
Category = ReminderRule.Category
NOON = utc(2026, 5, 12, 11)  # 12:00 BST, outside quiet hours


@pytest.fixture
def emailable(client_person):
    client_person.email = "maya@example.test"
    client_person.email_consent_at = NOON - timedelta(days=30)
    client_person.email_consent_method = "online_form"
    client_person.email_consent_wording = "Also email me"
    client_person.save()
    return client_person


def _rows(appointment, channel):
    return {
        m.rule.name: m
        for m in Message.objects.filter(
            appointment=appointment, channel=channel, rule__isnull=False
        )
    }


# -- planning -----------------------------------------------------------------------------


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_a_client_who_agreed_to_email_gets_the_confirmation_and_care_link_by_email_too(
    book, emailable
):
    appointment = book(start_at=utc(2026, 5, 22, 13))

    sms = _rows(appointment, Channel.SMS)
    email = _rows(appointment, Channel.EMAIL)

    assert len(sms) == 7  # the whole protocol still goes by text
    assert set(email) == {"Booking confirmation", "Aftercare: same evening"}
    for name, row in email.items():
        assert row.to == "maya@example.test"
        assert row.body == sms[name].body  # the rule's own text
        assert row.due_at == sms[name].due_at
        assert row.appointment_version == sms[name].appointment_version
        assert row.status == Status.SCHEDULED
        assert "eedling" not in row.body
        assert "eedling" not in row.subject
    assert email["Booking confirmation"].subject.startswith("Your appointment at ")
    assert "/c/" in email["Aftercare: same evening"].body


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_no_email_rows_without_consent_without_an_address_or_after_unsubscribing(
    book, client_person
):
    without_consent = book(start_at=utc(2026, 5, 22, 13))  # has an address, never agreed
    no_address = factories.ClientFactory(email="", email_consent_at=NOON)
    unsubscribed = factories.ClientFactory(email_consent_at=NOON, email_opted_out_at=NOON)
    # Separate times: one practitioner cannot see two clients at once (PostgreSQL refuses it).
    others = [
        book(start_at=utc(2026, 5, 22, hour), client=client)
        for hour, client in ((15, no_address), (17, unsubscribed))
    ]

    for appointment in [without_consent, *others]:
        assert not Message.objects.filter(appointment=appointment, channel=Channel.EMAIL).exists()


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_planning_twice_makes_no_second_email_and_the_database_refuses_one(book, emailable):
    appointment = book(start_at=utc(2026, 5, 22, 13))
    signals.appointment_booked.send(
        sender=Appointment, appointment=appointment, actor_label="client"
    )

    assert Message.objects.filter(appointment=appointment, channel=Channel.EMAIL).count() == 2
    twin = Message.objects.get(
        appointment=appointment, channel=Channel.EMAIL, category=Category.CONFIRMATION
    )
    twin.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_a_reschedule_cancels_the_old_emails_and_plans_new_ones(book, emailable):
    appointment = book(start_at=utc(2026, 5, 22, 13))
    appointment.start_at = utc(2026, 5, 23, 13)
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

    old = Message.objects.get(
        appointment=appointment, channel=Channel.EMAIL, appointment_version=1, category="aftercare"
    )
    new = Message.objects.get(
        appointment=appointment, channel=Channel.EMAIL, appointment_version=2, category="aftercare"
    )
    assert old.status == Status.CANCELLED
    assert new.status == Status.SCHEDULED
    assert new.due_at > old.due_at


# -- dispatch -----------------------------------------------------------------------------


@time_machine.travel(NOON, tick=False)
def test_an_email_row_is_sent_through_djangos_email_backend_with_an_unsubscribe_link(
    outbox_message, emailable, settings
):
    settings.PUBLIC_BASE_URL = "https://clinic.example"
    email = outbox_message(
        due_at=NOON - timedelta(minutes=1),
        channel=Channel.EMAIL,
        to=emailable.email,
        subject="Your aftercare from Riverside",
    )

    report = messages_dispatch_due()
    messages_dispatch_due()

    email.refresh_from_db()
    assert report.sent == 1
    assert locmem.outbox == []  # nothing went to the SMS provider
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [emailable.email]
    assert sent.subject == "Your aftercare from Riverside"
    assert sent.body.startswith("Hi, a generic care reminder.")
    unsubscribe = (
        f"https://clinic.example/e/unsubscribe/{email_unsubscribe_token_for(emailable.pk)}/"
    )
    assert unsubscribe in sent.body
    assert sent.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert OPT_OUT_LINE not in sent.body
    assert email.status == Status.SENT
    assert email.provider_sid
    assert email.provider_sid in sent.extra_headers["Message-ID"]


@time_machine.travel(NOON, tick=False)
def test_an_email_does_not_use_up_the_first_texts_opt_out_line(outbox_message, emailable):
    outbox_message(due_at=NOON - timedelta(minutes=2), channel=Channel.EMAIL, to=emailable.email)
    text = outbox_message(due_at=NOON - timedelta(minutes=1), rule_name="Downtime check: day 2")

    messages_dispatch_due()

    text.refresh_from_db()
    assert text.body.endswith(OPT_OUT_LINE)


@time_machine.travel(utc(2026, 5, 12, 1), tick=False)  # 02:00 BST
def test_an_email_reminder_respects_quiet_hours_like_a_text(outbox_message, emailable):
    email = outbox_message(due_at=utc(2026, 5, 12, 0), channel=Channel.EMAIL, to=emailable.email)

    messages_dispatch_due()

    email.refresh_from_db()
    assert mail.outbox == []
    assert email.status == Status.SCHEDULED
    assert email.due_at == utc(2026, 5, 12, 7)  # 08:00 BST


@time_machine.travel(NOON, tick=False)
def test_emails_neither_count_towards_nor_wait_for_the_daily_text_cap(outbox_message, emailable):
    texts = [
        outbox_message(due_at=NOON - timedelta(minutes=5 - n), rule_name="Downtime check: day 2")
        for n in range(2)
    ]
    email = outbox_message(due_at=NOON, channel=Channel.EMAIL, to=emailable.email)

    messages_dispatch_due()

    email.refresh_from_db()
    assert email.status == Status.SENT
    assert all(Message.objects.get(pk=t.pk).status == Status.SENT for t in texts)


@time_machine.travel(NOON, tick=False)
def test_no_email_to_a_client_who_unsubscribed_or_never_agreed(outbox_message, client_person):
    never = outbox_message(due_at=NOON, channel=Channel.EMAIL, to=client_person.email)

    messages_dispatch_due()

    never.refresh_from_db()
    assert mail.outbox == []
    assert never.status == Status.SKIPPED
    assert never.status_reason == "The client has not agreed to email"


class _FailingBackend:
    error: Exception

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise self.error


@pytest.mark.parametrize(
    ("error", "status", "permanent"),
    [
        (smtplib.SMTPRecipientsRefused({"x@example.test": (550, b"no such user")}), "failed", True),
        (smtplib.SMTPDataError(554, b"rejected"), "failed", True),
        (smtplib.SMTPDataError(451, b"try later"), "scheduled", False),
        (smtplib.SMTPConnectError(421, b"busy"), "scheduled", False),
        (ConnectionRefusedError(), "scheduled", False),
        (smtplib.SMTPAuthenticationError(535, b"bad login"), "scheduled", False),
    ],
)
@time_machine.travel(NOON, tick=False)
def test_an_smtp_error_is_classified_retryable_or_permanent(
    outbox_message, emailable, settings, monkeypatch, error, status, permanent
):
    _FailingBackend.error = error
    monkeypatch.setattr(
        "reminders.backends.email.get_connection", lambda **kwargs: _FailingBackend()
    )
    email = outbox_message(due_at=NOON, channel=Channel.EMAIL, to=emailable.email)

    report = messages_dispatch_due(max_batches=1)

    email.refresh_from_db()
    assert email.status == status
    assert (report.failed, report.retrying) == ((1, 0) if permanent else (0, 1))


@time_machine.travel(NOON, tick=False)
def test_an_interrupted_email_send_is_failed_for_staff_and_never_sent_twice(
    outbox_message, emailable, monkeypatch
):
    _FailingBackend.error = smtplib.SMTPServerDisconnected("lost after DATA")
    monkeypatch.setattr(
        "reminders.backends.email.get_connection", lambda **kwargs: _FailingBackend()
    )
    email = outbox_message(due_at=NOON, channel=Channel.EMAIL, to=emailable.email)
    report = messages_dispatch_due(max_batches=1)
    assert report.uncertain == 1

    with time_machine.travel(NOON + timedelta(minutes=10), tick=False):
        messages_reconcile_stuck()
        messages_dispatch_due()

    email.refresh_from_db()
    assert email.status == Status.FAILED
    assert "may or may not" in email.status_reason


# -- fallback -----------------------------------------------------------------------------


FALLBACK_CODES = [21211, 21614, 21408, 30004, 30005, 30006, 30007, 21610]


@pytest.mark.parametrize("code", FALLBACK_CODES)
@time_machine.travel(NOON, tick=False)
def test_a_care_text_that_failed_permanently_at_sending_goes_by_email_once(
    outbox_message, emailable, code
):
    text = outbox_message(due_at=NOON - timedelta(minutes=1), rule_name="Downtime check: day 2")
    locmem.faults.append(SmsError("no", permanent=True, code=code))

    messages_dispatch_due()
    messages_dispatch_due()

    text.refresh_from_db()
    email = Message.objects.get(fallback_of=text)
    assert text.status == Status.FAILED
    assert email.channel == Channel.EMAIL
    assert email.to == emailable.email
    assert email.status == Status.SENT
    assert email.fallback_note.startswith("SMS failed: ")
    assert email.fallback_note.endswith(" → sent by email")
    assert len(mail.outbox) == 1
    assert OPT_OUT_LINE not in mail.outbox[0].body
    assert Message.objects.filter(channel=Channel.EMAIL).count() == 1


@pytest.mark.parametrize("code", FALLBACK_CODES)
@time_machine.travel(NOON, tick=False)
def test_a_delivery_failure_reported_twice_makes_one_email(
    client, outbox_message, emailable, settings, code
):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.PUBLIC_BASE_URL = "https://clinic.example"
    text = outbox_message(due_at=NOON - timedelta(minutes=1), rule_name="Aftercare: same evening")
    Message.objects.filter(pk=text.pk).update(status=Status.SENT, provider_sid="SMland")

    for _ in range(2):
        response = _status(client, "SMland", "undelivered", ErrorCode=str(code))
        assert response.status_code == 204

    email = Message.objects.get(fallback_of=text)
    assert Message.objects.filter(channel=Channel.EMAIL).count() == 1
    assert email.status == Status.SCHEDULED
    assert email.due_at == text.due_at
    assert email.category == Category.AFTERCARE


@time_machine.travel(NOON, tick=False)
def test_the_fallback_says_why_in_words_staff_read(outbox_message, emailable):
    text = outbox_message(due_at=NOON, rule_name="Aftercare: same evening")
    message_apply_provider_status(provider_sid="SMx", provider_status="sent", message_id=text.pk)
    message_apply_provider_status(
        provider_sid="SMx", provider_status="undelivered", error_code=30006
    )

    email = Message.objects.get(fallback_of=text)
    assert email.status_reason == "SMS failed: landline → sent by email"
    assert email.fallback_note == "SMS failed: landline → sent by email"


@pytest.mark.parametrize("code", [30003, 30008, None])
@time_machine.travel(NOON, tick=False)
def test_a_temporary_or_unknown_delivery_failure_makes_no_email(outbox_message, emailable, code):
    text = outbox_message(due_at=NOON, rule_name="Aftercare: same evening")
    Message.objects.filter(pk=text.pk).update(status=Status.SENT, provider_sid="SMy")

    message_apply_provider_status(
        provider_sid="SMy", provider_status="undelivered", error_code=code
    )

    assert not Message.objects.filter(channel=Channel.EMAIL).exists()


@time_machine.travel(NOON, tick=False)
def test_no_fallback_without_email_consent(outbox_message, client_person):
    text = outbox_message(due_at=NOON, rule_name="Aftercare: same evening")
    locmem.faults.append(SmsError("landline", permanent=True, code=30006))

    messages_dispatch_due()

    text.refresh_from_db()
    assert text.status == Status.FAILED
    assert not Message.objects.filter(channel=Channel.EMAIL).exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    "category", [Category.VERIFICATION, Category.DATA_EXPORT, Category.REBOOK, Category.ADHOC]
)
@time_machine.travel(NOON, tick=False)
def test_codes_links_nudges_and_staff_replies_never_fall_back_to_email(
    outbox_message, emailable, category
):
    text = outbox_message(due_at=NOON, rule_name=None, category=category)
    Message.objects.filter(pk=text.pk).update(status=Status.FAILED)
    text.refresh_from_db()

    assert message_plan_email_fallback(sms=text, why="landline") is None


@time_machine.travel(NOON, tick=False)
def test_no_fallback_when_the_email_twin_already_carries_the_message(book, emailable):
    with time_machine.travel(utc(2026, 5, 1, 9), tick=False):
        appointment = book(start_at=utc(2026, 5, 22, 13))
    confirmation = Message.objects.get(
        appointment=appointment, channel=Channel.SMS, category=Category.CONFIRMATION
    )

    assert message_plan_email_fallback(sms=confirmation, why="landline") is None


@time_machine.travel(NOON, tick=False)
def test_opting_out_of_sms_sends_the_remaining_care_texts_by_email_and_keeps_the_emails(
    book, emailable
):
    with time_machine.travel(utc(2026, 5, 1, 9), tick=False):
        appointment = book(start_at=utc(2026, 5, 22, 13))
    twin = Message.objects.get(
        appointment=appointment, channel=Channel.EMAIL, category=Category.AFTERCARE
    )

    client_opt_out(client=emailable, method="stop_keyword")

    texts = Message.objects.filter(appointment=appointment, channel=Channel.SMS)
    assert {t.status for t in texts if t.category != Category.CONFIRMATION} == {Status.CANCELLED}
    twin.refresh_from_db()
    assert twin.status == Status.SCHEDULED  # the SMS opt-out leaves email alone
    fallbacks = Message.objects.filter(appointment=appointment, fallback_of__isnull=False)
    assert {m.fallback_of.rule.name for m in fallbacks} == {
        "Pre-care: 14 days before",
        "Pre-care: 5 days before",
        "Day-before reminder",
        "Downtime check: day 2",
        "Downtime check: day 5",
    }
    assert all(m.due_at == m.fallback_of.due_at for m in fallbacks)
    assert all(
        m.status_reason == "SMS failed: client opted out of SMS → sent by email" for m in fallbacks
    )


# -- unsubscribe ----------------------------------------------------------------------------


@time_machine.travel(NOON, tick=False)
def test_the_unsubscribe_link_asks_first_and_one_click_stops_emails_only(
    client, outbox_message, emailable
):
    email = outbox_message(
        due_at=NOON + timedelta(hours=1), channel=Channel.EMAIL, to=emailable.email
    )
    text = outbox_message(due_at=NOON + timedelta(hours=1))
    path = f"/e/unsubscribe/{email_unsubscribe_token_for(emailable.pk)}/"

    page = client.get(path)
    assert page.status_code == 200
    assert b"Stop emails" in page.content
    emailable.refresh_from_db()
    assert emailable.email_opted_out_at is None

    done = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    emailable.refresh_from_db()
    email.refresh_from_db()
    text.refresh_from_db()
    assert emailable.email_opted_out_at is not None
    assert emailable.sms_opted_out_at is None
    assert email.status == Status.CANCELLED
    assert text.status == Status.SCHEDULED


def test_a_tampered_unsubscribe_link_changes_nothing(client, emailable):
    response = client.post("/e/unsubscribe/not-a-token/")

    assert response.status_code == 404
    emailable.refresh_from_db()
    assert emailable.email_opted_out_at is None


@time_machine.travel(NOON, tick=False)
def test_emails_are_not_counted_as_sms_sends(outbox_message, emailable):
    from prometheus_client import REGISTRY

    def accepted() -> float:
        labels = {"outcome": "accepted", "error_code": ""}
        return REGISTRY.get_sample_value("aftercare_sms_sends_total", labels) or 0.0

    before = accepted()
    outbox_message(due_at=NOON, channel=Channel.EMAIL, to=emailable.email)
    messages_dispatch_due()

    assert len(mail.outbox) == 1
    assert accepted() == before


@time_machine.travel(NOON, tick=False)
def test_a_care_text_to_a_client_who_had_opted_out_of_sms_goes_by_email_at_dispatch(
    outbox_message, emailable
):
    emailable.sms_opted_out_at = NOON - timedelta(days=3)
    emailable.save()
    text = outbox_message(due_at=NOON - timedelta(minutes=1), rule_name="Downtime check: day 2")
    nudge = outbox_message(due_at=NOON - timedelta(minutes=1), rule_name=None, category="rebook")

    messages_dispatch_due()

    text.refresh_from_db()
    nudge.refresh_from_db()
    assert text.status == nudge.status == Status.SKIPPED
    email = Message.objects.get(fallback_of=text)
    assert email.status == Status.SENT
    assert email.fallback_note == "SMS failed: client opted out of SMS → sent by email"
    assert not Message.objects.filter(fallback_of=nudge).exists()
    assert [m.to for m in mail.outbox] == [[emailable.email]]


@time_machine.travel(NOON, tick=False)
def test_staff_retry_of_a_failed_email_is_a_new_email_row_and_needs_email_consent(
    outbox_message, emailable, reception
):
    from clinic.errors import PolicyViolation
    from reminders.services import message_retry

    failed = outbox_message(
        due_at=NOON, channel=Channel.EMAIL, to="old@example.test", subject="Your aftercare"
    )
    Message.objects.filter(pk=failed.pk).update(status=Status.FAILED)

    retry = message_retry(message=failed, actor=reception)

    assert retry.channel == Channel.EMAIL
    assert retry.to == emailable.email  # the address on file now
    assert retry.subject == "Your aftercare"
    assert retry.retry_of_id == failed.pk
    Message.objects.filter(pk=retry.pk).update(status=Status.FAILED)
    emailable.email_opted_out_at = NOON
    emailable.save()
    with pytest.raises(PolicyViolation):
        message_retry(message=retry, actor=reception)
