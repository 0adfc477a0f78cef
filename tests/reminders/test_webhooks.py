from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.utils import timezone
from twilio.request_validator import RequestValidator

from bookings.models import Appointment, Client
from reminders.models import InboundMessage, Message
from reminders.selectors import inbox_items
from tests import factories
from tests.reminders.conftest import utc

TOKEN = "webhook-test-token"
Status = Message.Status


@pytest.fixture(autouse=True)
def _twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.PUBLIC_BASE_URL = "https://clinic.example"


def _post(client, path: str, params: dict[str, str], *, signature: str | None = "valid"):
    url = f"https://clinic.example{path}"
    headers = {}
    if signature == "valid":
        headers["HTTP_X_TWILIO_SIGNATURE"] = RequestValidator(TOKEN).compute_signature(url, params)
    elif signature is not None:
        headers["HTTP_X_TWILIO_SIGNATURE"] = signature
    return client.post(
        path, urlencode(params), content_type="application/x-www-form-urlencoded", **headers
    )


def _status(client, sid: str, status: str, *, signature="valid", message_id=None, **extra):
    path = "/webhooks/twilio/status" + (f"?m={message_id}" if message_id else "")
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC1", **extra}
    return _post(client, path, params, signature=signature)


def _inbound(client, sender: str, body: str, sid: str = "SMin0001"):
    params = {"MessageSid": sid, "From": sender, "To": "+447700900001", "Body": body}
    return _post(client, "/webhooks/twilio/inbound", params)


@pytest.fixture
def sent_message(outbox_message):
    message = outbox_message(due_at=timezone.now())
    Message.objects.filter(pk=message.pk).update(status=Status.SENT, provider_sid="SMabc")
    message.refresh_from_db()
    return message


def test_a_signed_status_callback_advances_the_message(client, sent_message):
    response = _status(client, "SMabc", "delivered")

    sent_message.refresh_from_db()
    assert response.status_code == 204
    assert sent_message.status == Status.DELIVERED
    assert sent_message.delivered_at is not None


@pytest.mark.parametrize("signature", [None, "bm90IGEgc2lnbmF0dXJl"])
def test_a_status_callback_without_a_valid_signature_is_403_and_changes_nothing(
    client, sent_message, signature
):
    response = _status(client, "SMabc", "delivered", signature=signature)

    sent_message.refresh_from_db()
    assert response.status_code == 403
    assert sent_message.status == Status.SENT


def test_duplicate_and_out_of_order_callbacks_never_move_status_backwards(client, sent_message):
    for status in ("delivered", "sent", "delivered", "queued"):
        assert _status(client, "SMabc", status).status_code == 204

    sent_message.refresh_from_db()
    assert sent_message.status == Status.DELIVERED


def test_an_undelivered_callback_stores_the_error_code_and_reason(client, sent_message):
    _status(client, "SMabc", "undelivered", ErrorCode="30006")

    sent_message.refresh_from_db()
    assert sent_message.status == Status.UNDELIVERED
    assert sent_message.error_code == 30006
    assert "landline" in sent_message.status_reason


def test_a_callback_resolves_a_row_whose_worker_died_before_recording_the_sid(
    client, outbox_message
):
    message = outbox_message(due_at=timezone.now())
    Message.objects.filter(pk=message.pk).update(status=Status.SENDING)

    _status(client, "SMlost", "sent", message_id=message.pk)

    message.refresh_from_db()
    assert message.provider_sid == "SMlost"
    assert message.status == Status.SENT


def test_the_signature_is_checked_against_the_public_url_not_the_internal_one(client, sent_message):
    params = {"MessageSid": "SMabc", "MessageStatus": "delivered"}
    internal = "http://testserver/webhooks/twilio/status"
    signature = RequestValidator(TOKEN).compute_signature(internal, params)

    response = _post(client, "/webhooks/twilio/status", params, signature=signature)

    assert response.status_code == 403


def test_inbound_without_signature_is_403_and_stores_nothing(client, client_person):
    params = {"MessageSid": "SMx", "From": client_person.phone, "Body": "STOP"}

    response = _post(client, "/webhooks/twilio/inbound", params, signature=None)

    client_person.refresh_from_db()
    assert response.status_code == 403
    assert client_person.sms_opted_out_at is None
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize("word", ["STOP", "stop", "Unsubscribe", "end", "QUIT", "stopall"])
def test_opt_out_keywords_opt_the_client_out_and_cancel_unsent(
    client, client_person, outbox_message, word
):
    pending = outbox_message(due_at=timezone.now() + timedelta(days=1))

    response = _inbound(client, client_person.phone, word)

    client_person.refresh_from_db()
    pending.refresh_from_db()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    assert client_person.sms_opted_out_at is not None
    assert pending.status == Status.CANCELLED
    assert InboundMessage.objects.get().kind == InboundMessage.Kind.STOP


def test_cancel_opts_out_and_replies_with_the_manage_link(client, book, client_person):
    book(start_at=timezone.now() + timedelta(days=5))

    response = _inbound(client, client_person.phone, "CANCEL")

    client_person.refresh_from_db()
    assert client_person.sms_opted_out_at is not None
    assert b"https://clinic.example/b/" in response.content


def test_start_opts_back_in_and_records_how(client, client_person):
    Client.objects.filter(pk=client_person.pk).update(sms_opted_out_at=timezone.now())

    response = _inbound(client, client_person.phone, "START")

    client_person.refresh_from_db()
    assert client_person.sms_opted_out_at is None
    assert client_person.sms_consent_method == "sms_start"
    assert b"STOP" in response.content


def test_help_replies_with_the_clinic_contact(client, client_person, location):
    response = _inbound(client, client_person.phone, "help")

    assert b"<Message>" in response.content
    assert location.phone.encode() in response.content


def test_c_confirms_the_clients_next_booked_appointment(client, book, client_person):
    appointment = book(start_at=timezone.now() + timedelta(days=2))

    response = _inbound(client, client_person.phone, "C")

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED
    assert b"confirmed" in response.content
    assert InboundMessage.objects.get().kind == InboundMessage.Kind.CONFIRM


def test_yes_is_an_opt_in_not_a_confirmation(client, book, client_person):
    appointment = book(start_at=timezone.now() + timedelta(days=2))

    _inbound(client, client_person.phone, "YES")

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    assert InboundMessage.objects.get().kind == InboundMessage.Kind.START


def test_a_worrying_reply_after_aftercare_outside_hours_is_urgent_and_gives_the_urgent_number(
    client, client_person, outbox_message, location
):
    late_evening = utc(2026, 5, 12, 21)  # 22:00 BST, clinic closed
    with time_machine.travel(late_evening, tick=False):
        outbox_message(
            due_at=late_evening - timedelta(hours=3),
            status=Status.SENT,
            sent_at=late_evening - timedelta(hours=3),
        )
        response = _inbound(client, client_person.phone, "my face has a lot of swelling and pain")

    inbound = InboundMessage.objects.get()
    assert inbound.is_urgent
    assert inbound.handled_at is None
    assert location.urgent_phone.encode() in response.content
    assert list(inbox_items())[0] == inbound


def test_anything_else_is_stored_for_staff_without_a_reply(client, client_person):
    other = factories.ClientFactory()
    _inbound(client, other.phone, "Can I bring my sister?", sid="SMa")
    response = _inbound(client, client_person.phone, "Is parking free?", sid="SMb")

    assert response.content.endswith(b"<Response></Response>")
    assert [item.body for item in inbox_items()] == ["Is parking free?", "Can I bring my sister?"]
    assert all(item.kind == InboundMessage.Kind.OTHER for item in inbox_items())


def test_a_repeated_inbound_webhook_acts_once(client, client_person):
    _inbound(client, client_person.phone, "START", sid="SMdup")
    _inbound(client, client_person.phone, "START", sid="SMdup")

    assert InboundMessage.objects.count() == 1


def test_reply_1_is_stored_as_a_recheck_answer(client, client_person):
    _inbound(client, client_person.phone, "1")

    assert InboundMessage.objects.get().kind == InboundMessage.Kind.RECHECK


def test_urgent_words_without_recent_aftercare_are_not_flagged(client, client_person):
    _inbound(client, client_person.phone, "no pain no gain, see you Tuesday")

    assert not InboundMessage.objects.get().is_urgent


@pytest.mark.parametrize("error_code", ["²", "99999999999999999999", "-30007", "３０００７"])
def test_a_signed_callback_with_an_error_code_that_is_no_number_stores_none(
    client, sent_message, error_code
):
    response = _status(client, "SMabc", "undelivered", ErrorCode=error_code)

    assert response.status_code == 204
    sent_message.refresh_from_db()
    assert sent_message.status == Status.UNDELIVERED
    assert sent_message.error_code is None


@pytest.mark.parametrize("message_id", ["%C2%B2", "99999999999999999999999", "-1"])
def test_a_signed_callback_with_a_message_id_that_is_no_id_still_finds_the_row_by_sid(
    client, sent_message, message_id
):
    response = _status(client, "SMabc", "delivered", message_id=message_id)

    assert response.status_code == 204
    sent_message.refresh_from_db()
    assert sent_message.status == Status.DELIVERED


@pytest.mark.parametrize(
    "params",
    [
        {"MessageSid": "SMin0002", "From": "+44" + "7" * 40, "To": "+447700900001"},
        {"MessageSid": "SM" + "x" * 100, "From": "+447911123456", "To": "+447700900001"},
    ],
)
def test_a_signed_inbound_that_cannot_be_stored_is_400_and_stores_nothing(client, db, params):
    response = _post(client, "/webhooks/twilio/inbound", {**params, "Body": "Hello"})

    assert response.status_code == 400
    assert not InboundMessage.objects.exists()
