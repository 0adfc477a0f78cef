from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from clinic.errors import PermissionDenied, PolicyViolation, ValidationFailed
from reminders.models import InboundMessage, Message, ReminderRule
from reminders.rendering import OPT_OUT_LINE, render_template_text, sample_summary
from reminders.selectors import outbox_counts
from reminders.services import (
    appointment_message_context,
    inbound_mark_handled,
    message_retry,
    message_send_adhoc,
)
from reminders.sms_text import segment_info
from reminders.tokens import care_token_for
from tests import factories
from tests.reminders.conftest import utc

Status = Message.Status


def test_segments_are_counted_as_a_handset_counts_them():
    assert segment_info("a" * 160).segments == 1
    assert segment_info("a" * 161).segments == 2
    assert segment_info("a" * 306).segments == 2
    assert segment_info("€" * 80).units == 160  # extension characters cost two septets
    curly = segment_info("It’s " + "a" * 66)  # one curly quote makes the whole text UCS-2
    assert curly.encoding == "UCS-2"
    assert curly.segments == 2
    assert segment_info("😀" * 35).units == 70


def test_a_broken_template_is_refused_on_validation():
    rule = ReminderRule(
        name="x",
        category="pre_care",
        template="{% if first_name %}Hi {{ first_name|nosuchfilter }}",
    )

    with pytest.raises(ValidationError) as raised:
        rule.full_clean()

    assert "template" in raised.value.message_dict


def test_staff_see_the_rendered_length_and_segments_of_a_template():
    assert sample_summary("Hi {{ first_name }}") == "12 characters, GSM-7, 1 segment(s)"


@time_machine.travel(utc(2026, 5, 1, 9), tick=False)
def test_every_default_template_is_gsm7_and_at_most_two_segments_even_with_the_opt_out_line(
    location, treatment_service, client_person
):
    appointment = factories.AppointmentFactory(
        # Links carry the appointment id, so the texts grow with it: a ten-digit id, not
        # whatever the test database's sequence happens to give (1 on a fresh SQLite file).
        id=9_999_999_999,
        location=location,
        service=treatment_service,
        client=client_person,
        start_at=utc(2026, 5, 22, 13),
    )
    client_person.first_name = "Alexandrina"  # a long name
    context = appointment_message_context(appointment=appointment)
    rules = list(ReminderRule.objects.all())
    assert len(rules) >= 12

    for rule in rules:
        rule.full_clean()
        body = f"{render_template_text(rule.template, context)} {OPT_OUT_LINE}"
        info = segment_info(body)
        assert info.encoding == "GSM-7", rule.name
        assert info.segments <= 2, (rule.name, len(body))


def test_care_page_shows_full_instructions_for_a_valid_link(client, location, treatment_service):
    appointment = factories.AppointmentFactory(location=location, service=treatment_service)
    token = care_token_for(appointment_id=appointment.pk, end_at=appointment.end_at)

    response = client.get(f"/c/{token}/")

    assert response.status_code == 200
    assert b"Pause retinoids" in response.content
    assert appointment.client.first_name.encode() in response.content
    assert location.urgent_phone.encode() in response.content


def test_care_page_refuses_a_tampered_link_and_explains_an_expired_one(client, location):
    appointment = factories.AppointmentFactory(location=location)
    token = care_token_for(appointment_id=appointment.pk, end_at=appointment.end_at)

    assert client.get(f"/c/{token}x/").status_code == 404
    with time_machine.travel(appointment.end_at + timedelta(days=60)):
        expired = client.get(f"/c/{token}/")
    assert expired.status_code == 410
    assert b"expired" in expired.content


def test_staff_can_send_an_adhoc_message_due_now(reception, client_person):
    message = message_send_adhoc(
        client=client_person, body=" Running 10 min late ", actor=reception
    )

    assert message.category == ReminderRule.Category.ADHOC
    assert message.body == "Running 10 min late"
    assert message.created_by == reception
    assert message.status == Status.SCHEDULED


def test_adhoc_messages_need_staff_a_body_and_consent(reception, stranger, client_person):
    with pytest.raises(PermissionDenied):
        message_send_adhoc(client=client_person, body="hi", actor=stranger)
    with pytest.raises(ValidationFailed) as empty:
        message_send_adhoc(client=client_person, body="  ", actor=reception)
    assert empty.value.field == "body"
    client_person.sms_opted_out_at = timezone.now()
    client_person.save()
    with pytest.raises(PolicyViolation):
        message_send_adhoc(client=client_person, body="hi", actor=reception)


def test_retrying_a_failed_message_creates_a_new_linked_row_once(reception, outbox_message):
    failed = outbox_message(due_at=timezone.now(), status=Status.FAILED, error_code=30003)

    retry = message_retry(message=failed, actor=reception)

    assert retry.pk != failed.pk
    assert retry.retry_of == failed
    assert retry.status == Status.SCHEDULED
    assert retry.body == failed.body
    failed.refresh_from_db()
    assert failed.status == Status.FAILED
    with pytest.raises(PolicyViolation):
        message_retry(message=failed, actor=reception)


def test_a_sent_message_cannot_be_retried(reception, outbox_message):
    sent = outbox_message(due_at=timezone.now(), status=Status.SENT)

    with pytest.raises(PolicyViolation):
        message_retry(message=sent, actor=reception)


def test_marking_an_inbound_reply_handled_records_who(reception, client_person):
    inbound = InboundMessage.objects.create(
        provider_sid="SMh", from_number=client_person.phone, body="hello", client=client_person
    )

    inbound_mark_handled(inbound=inbound, actor=reception)

    assert inbound.handled_by == reception
    assert inbound.handled_at is not None


def test_outbox_counts_cover_every_status(outbox_message):
    now = timezone.now()
    outbox_message(due_at=now, status=Status.SENT)
    outbox_message(due_at=now, status=Status.FAILED)
    outbox_message(due_at=now + timedelta(days=3))

    counts = outbox_counts(start=now - timedelta(hours=1), end=now + timedelta(hours=1))

    assert counts[Status.SENT] == 1
    assert counts[Status.FAILED] == 1
    assert counts[Status.SCHEDULED] == 0
    assert set(counts) == set(Status.values)
