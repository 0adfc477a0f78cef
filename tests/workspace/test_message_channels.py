"""Staff see the channel of every message, and an email sent because a text could not arrive
says so ("SMS failed: landline → sent by email"): appointment timeline, client page, outbox
(filterable by channel) and the messages API."""

from __future__ import annotations

import pytest

from reminders.models import Message, ReminderRule
from reminders.services import message_apply_provider_status
from tests.workspace.conftest import at

pytestmark = pytest.mark.django_db

API = "/api/v1/staff"
NOTE = "SMS failed: landline → sent by email"


@pytest.fixture
def landline_then_email(consultation, client_person, location):
    """The consultation's confirmation text bounced off a landline; the email went instead."""
    client_person.email = "olu@example.test"
    client_person.email_consent_at = at(8)
    client_person.save()
    text = Message.objects.get(appointment=consultation, category="confirmation")
    Message.objects.filter(pk=text.pk).update(status=Message.Status.SENT, provider_sid="SMland")
    message_apply_provider_status(
        provider_sid="SMland", provider_status="undelivered", error_code=30006
    )
    return text, Message.objects.get(fallback_of=text)


def test_the_appointment_timeline_shows_each_messages_channel_and_the_fallback(
    as_reception, consultation, landline_then_email
):
    page = as_reception.get(f"/staff/messages/appointment/{consultation.pk}/").content.decode()

    assert (
        page.count('data-testid="message-channel"')
        == Message.objects.filter(appointment=consultation).count()
    )
    assert ">SMS</span>" in page
    assert ">Email</span>" in page
    assert NOTE in page


def test_the_client_timeline_shows_the_channel_and_the_fallback(
    as_reception, client_person, landline_then_email
):
    page = as_reception.get(f"/staff/messages/client/{client_person.pk}/").content.decode()

    assert ">Email</span>" in page
    assert NOTE in page


def test_the_outbox_filters_by_channel(as_reception, landline_then_email):
    text, email = landline_then_email
    everything = as_reception.get("/staff/outbox/?from=2026-11-25&to=2026-12-09").content.decode()
    emails = as_reception.get(
        "/staff/outbox/?from=2026-11-25&to=2026-12-09&channel=email"
    ).content.decode()
    texts = as_reception.get(
        "/staff/outbox/?from=2026-11-25&to=2026-12-09&channel=sms"
    ).content.decode()

    assert "olu@example.test" in everything
    assert emails.count('data-testid="outbox-row"') == 1
    assert "olu@example.test" in emails
    assert NOTE in emails
    assert "olu@example.test" not in texts
    assert (
        texts.count('data-testid="outbox-row"')
        == Message.objects.filter(channel=Message.Channel.SMS).count()
    )
    # An unknown channel is no filter, not an error.
    assert as_reception.get("/staff/outbox/?channel=fax").status_code == 200


def test_the_messages_api_names_the_channel_and_links_the_fallback(
    as_reception, consultation, landline_then_email
):
    text, email = landline_then_email

    rows = {
        row["id"]: row
        for row in as_reception.get(f"{API}/appointments/{consultation.pk}/messages").json()
    }

    assert rows[text.pk]["channel"] == "sms"
    assert rows[text.pk]["fallback_of_id"] is None
    assert rows[email.pk]["channel"] == "email"
    assert rows[email.pk]["to"] == "olu@example.test"
    assert rows[email.pk]["subject"].startswith("Your appointment at ")
    assert rows[email.pk]["fallback_of_id"] == text.pk
    assert rows[email.pk]["fallback_note"] == NOTE
    assert rows[email.pk]["category"] == ReminderRule.Category.CONFIRMATION
