"""Data-protection rights (issue 14, point 7): a manager exports or erases a client with a
written reason, both audited; a nightly job enforces retention."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client as Client_
from django.utils import timezone

from bookings.models import (
    Appointment,
    Client,
    Consultation,
    DataProtectionAction,
    HealthDataAccess,
    PhoneVerification,
)
from bookings.services.consultations import consultation_open_for_appointment
from bookings.services.data_protection import (
    client_data_export,
    client_erase,
    retention_enforce,
)
from bookings.tokens import manage_token_for
from clinic.errors import IllegalTransition, PermissionDenied, ValidationFailed
from reminders.models import InboundMessage, Message, ReminderRule, StaffAlert
from reminders.services.retention import messages_retention_enforce
from tests.workspace.conftest import at

pytestmark = pytest.mark.django_db

REASON = "Client's written request of 1 December"
MOBILE = "+447911123456"


@pytest.fixture
def history(consultation, location):
    """Pat's client has a consultation with screening answers, a text and a reply."""
    record = consultation_open_for_appointment(appointment=consultation)
    record.answers = [{"question": "Pregnant or breastfeeding?", "answer": "yes"}]
    record.notes = "Advised to wait."
    record.save()
    client = consultation.client
    Message.objects.create(
        client=client,
        appointment=consultation,
        location=location,
        category=ReminderRule.Category.CONFIRMATION,
        to=client.phone,
        body="See you on Wednesday at 10:00",
        due_at=at(9),
        status=Message.Status.DELIVERED,
    )
    InboundMessage.objects.create(
        from_number=client.phone, body="My skin is a bit red", provider_sid="SMx", client=client
    )
    return client, record


def test_a_manager_exports_everything_held_about_a_client(manager, history):
    client, record = history

    export = client_data_export(actor=manager, client=client, reason=REASON)

    assert export["client"]["phone"] == client.phone
    assert (
        export["consents"]["sms_consent_at"] is not None or "sms_consent_at" in export["consents"]
    )
    assert export["appointments"][0]["history"][0]["kind"] == "booked"
    assert export["consultations"][0]["answers"] == record.answers
    assert export["consultations"][0]["notes"] == "Advised to wait."
    assert "See you on Wednesday at 10:00" in [message["body"] for message in export["messages"]]
    assert export["replies"][0]["body"] == "My skin is a bit red"
    assert "audit" in export
    json.dumps(export)  # JSON-ready
    action = DataProtectionAction.objects.get(kind="export")
    assert (action.actor, action.reason, action.client_ref) == (manager, REASON, client.pk)
    assert HealthDataAccess.objects.filter(record=f"client:{client.pk}", action="read").exists()


@pytest.mark.parametrize("who", ["reception", "practitioner_user"])
def test_only_a_manager_may_export_or_erase(request, who, history):
    actor = request.getfixturevalue(who)
    client, _ = history

    with pytest.raises(PermissionDenied):
        client_data_export(actor=actor, client=client, reason=REASON)
    with pytest.raises(PermissionDenied):
        client_erase(actor=actor, client=client, reason=REASON)
    assert not DataProtectionAction.objects.exists()


def test_export_and_erase_need_a_written_reason(manager, history):
    client, _ = history

    with pytest.raises(ValidationFailed) as refused:
        client_erase(actor=manager, client=client, reason="  ")
    assert refused.value.field == "reason"
    client.refresh_from_db()
    assert client.erased_at is None


def test_erasing_anonymises_the_client_and_their_texts_but_keeps_the_clinical_record(
    manager, history, consultation, clock
):
    client, record = history
    phone = client.phone
    PhoneVerification.objects.create(phone=phone, code_hash="x", expires_at=at(12))

    erased = client_erase(actor=manager, client=client, reason=REASON)

    assert erased.first_name == "Erased"
    assert phone not in {erased.phone, erased.email}
    assert erased.sms_opted_out_at is not None
    assert not Client.objects.filter(phone=phone).exists()
    assert not PhoneVerification.objects.filter(phone=phone).exists()
    assert set(Message.objects.values_list("body", "to")) == {("", "")}
    assert set(InboundMessage.objects.values_list("body", "from_number")) == {("", "")}
    consultation.refresh_from_db()
    assert consultation.status == Appointment.Status.CANCELLED  # it was still upcoming
    record.refresh_from_db()
    assert record.answers  # kept for the clinical-record retention period
    assert DataProtectionAction.objects.get(kind="erase").reason == REASON
    with pytest.raises(IllegalTransition):
        client_erase(actor=manager, client=erased, reason=REASON)


def test_retention_purges_clinical_records_of_erased_clients_after_the_period(
    manager, history, settings
):
    client, record = history
    client_erase(actor=manager, client=client, reason=REASON)
    erased_at = Client.objects.get(pk=client.pk).erased_at

    assert retention_enforce(now=erased_at + timedelta(days=30))["consultations_purged"] == 0
    later = erased_at + timedelta(days=settings.CLINICAL_RECORD_RETENTION_DAYS + 1)
    assert retention_enforce(now=later)["consultations_purged"] == 1
    assert retention_enforce(now=later)["consultations_purged"] == 0

    record.refresh_from_db()
    assert (record.answers, record.notes) == ([], "")
    assert Consultation.objects.filter(pk=record.pk).exists()  # the skeleton stays
    assert DataProtectionAction.objects.filter(kind="clinical_purged").count() == 1


def test_message_and_reply_texts_are_blanked_after_their_retention(history, settings):
    message = Message.objects.get(body="See you on Wednesday at 10:00")
    reply = InboundMessage.objects.get()
    soon = min(message.due_at, reply.created_at) + timedelta(
        days=settings.MESSAGE_RETENTION_DAYS - 1
    )
    later = max(message.due_at, reply.created_at) + timedelta(
        days=settings.MESSAGE_RETENTION_DAYS + 1
    )

    assert messages_retention_enforce(now=soon) == {
        "message_bodies_blanked": 0,
        "reply_bodies_blanked": 0,
    }
    assert messages_retention_enforce(now=later) == {
        "message_bodies_blanked": 1,
        "reply_bodies_blanked": 1,
    }
    message.refresh_from_db()
    reply.refresh_from_db()
    assert (message.body, reply.body) == ("", "")
    assert message.status == Message.Status.DELIVERED  # the record that it was sent stays


def test_the_retention_jobs_run_nightly(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["bookings.retention"]["task"] == "bookings.retention_enforce"
    assert schedule["reminders-messages-retention"]["schedule"] == 24 * 3600.0


def test_the_manager_page_exports_json_and_a_printable_summary(as_manager, history):
    client, _ = history
    url = f"/staff/clients/{client.pk}/data/"

    assert as_manager.get(url).status_code == 200
    download = as_manager.post(url, {"action": "export_json", "reason": REASON})
    summary = as_manager.post(url, {"action": "export_html", "reason": REASON})
    no_reason = as_manager.post(url, {"action": "export_json", "reason": ""})

    assert download["Content-Disposition"] == f'attachment; filename="client-{client.pk}.json"'
    assert json.loads(download.content)["client"]["id"] == client.pk
    assert "Pregnant or breastfeeding?" in summary.content.decode()
    assert summary["Cache-Control"] == "no-store"
    assert no_reason.status_code == 422
    assert DataProtectionAction.objects.filter(kind="export").count() == 2


def test_the_manager_page_erases(as_manager, history):
    client, _ = history

    response = as_manager.post(
        f"/staff/clients/{client.pk}/data/", {"action": "erase", "reason": REASON}
    )

    assert response.status_code == 302
    assert Client.objects.get(pk=client.pk).erased_at is not None


def test_a_client_can_ask_for_their_data_from_the_manage_page(client, manager, consultation):
    token = manage_token_for(consultation)

    response = client.post(f"/b/{token}/my-data/")

    assert response.status_code == 302
    assert "data_requested=1" in response["Location"]
    request = DataProtectionAction.objects.get(kind="export_requested")
    assert request.client_ref == consultation.client_id
    alert = StaffAlert.objects.get(kind=StaffAlert.Kind.DATA_REQUEST)
    assert alert.recipient == manager
    assert consultation.client.phone not in alert.body
    assert consultation.client.first_name not in alert.body


def _ask_for_my_data(client, appointment) -> str:
    """Press the button on the manage page (the client's phone a real mobile, as verification
    texts only go to those); return the path of the link texted to the client."""
    Client.objects.filter(pk=appointment.client_id).update(phone=MOBILE)
    client.post(f"/b/{manage_token_for(appointment)}/my-data/")
    text = Message.objects.get(category=ReminderRule.Category.DATA_EXPORT)
    return re.search(r"/my-data/[^/\s]+/", text.body).group(0)


def _code_texted_to(phone: str) -> str:
    text = Message.objects.filter(category=ReminderRule.Category.VERIFICATION, to=phone).last()
    return re.search(r"\b(\d{6})\b", text.body).group(1)


def test_asking_for_my_data_texts_one_link_and_no_health_data(client, manager, history):
    person, record = history
    appointment = record.appointment

    _ask_for_my_data(client, appointment)
    client.post(f"/b/{manage_token_for(appointment)}/my-data/")  # pressed twice

    text = Message.objects.get(category=ReminderRule.Category.DATA_EXPORT)
    assert (text.to, text.client, text.status) == (MOBILE, person, Message.Status.SCHEDULED)
    for private in ("Pregnant", "yes", "Advised to wait", person.first_name, person.last_name):
        assert private not in text.body
    assert "/my-data/" in text.body
    assert "only the client sees it" in text.body_for_staff
    assert DataProtectionAction.objects.filter(kind="export_requested").count() == 1


def test_the_texted_link_and_a_fresh_code_download_the_clients_own_data(client, manager, history):
    person, record = history
    link = _ask_for_my_data(client, record.appointment)

    page = client.get(link)
    assert page.status_code == 200
    assert MOBILE[-3:] in page.content.decode()
    assert not Message.objects.filter(category=ReminderRule.Category.VERIFICATION).exists()

    client.post(link, {"action": "send"})
    download = client.post(link, {"action": "json", "code": _code_texted_to(MOBILE)})

    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="my-data.json"'
    assert download["Cache-Control"] == "no-store"
    export = json.loads(download.content)
    assert export["client"]["id"] == person.pk
    assert export["consultations"][0]["answers"] == record.answers
    action = DataProtectionAction.objects.get(kind="export")
    assert (action.client_ref, action.actor, action.actor_label) == (person.pk, None, "client")
    assert HealthDataAccess.objects.filter(
        client=person, record=f"client:{person.pk}", via="client_export"
    ).exists()


def test_a_wrong_code_or_another_browser_gets_nothing(client, manager, history, clock):
    person, record = history
    link = _ask_for_my_data(client, record.appointment)
    client.post(link, {"action": "send"})
    code = _code_texted_to(MOBILE)
    wrong = "000000" if code != "000000" else "111111"

    refused = client.post(link, {"action": "json", "code": wrong})
    stranger = Client_().post(link, {"action": "json", "code": code})

    assert refused.status_code == 422
    assert "not right" in refused.content.decode()
    assert stranger.status_code == 404  # the code was sent for the other browser
    assert not DataProtectionAction.objects.filter(kind="export").exists()
    assert not HealthDataAccess.objects.filter(via="client_export").exists()
    summary = client.post(link, {"action": "html", "code": code})
    assert summary.status_code == 200
    assert "Pregnant or breastfeeding?" in summary.content.decode()


def test_a_tampered_or_expired_link_is_refused_kindly(client, manager, history):
    _, record = history
    link = _ask_for_my_data(client, record.appointment)

    tampered = client.get(link[:-3] + "xx/")
    not_for_this = client.get(f"/my-data/{manage_token_for(record.appointment)}/")
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        expired = client.get(link)

    assert tampered.status_code == 404
    assert not_for_this.status_code == 404
    assert expired.status_code == 410
    assert "expired" in expired.content.decode()


def test_retention_deletes_expired_sessions(client, location):
    client.get("/book/")
    session = client.session
    session["booking"] = {"hold_id": 1}
    session.save()
    assert Session.objects.count() == 1

    later = timezone.now() + timedelta(days=2)
    assert retention_enforce(now=later)["sessions_deleted"] == 1
    assert not Session.objects.exists()


def test_the_export_includes_the_details_staff_added_and_the_clinical_alert(manager, history):
    client, _record = history
    client.date_of_birth = date(1990, 4, 3)
    client.notes = "Prefers afternoons"
    client.alert = "Allergic to lidocaine"
    client.save()

    export = client_data_export(actor=manager, client=client, reason=REASON)

    assert export["client"]["date_of_birth"] == "1990-04-03"
    assert export["client"]["desk_notes"] == "Prefers afternoons"
    assert export["client"]["clinical_alert"] == "Allergic to lidocaine"
