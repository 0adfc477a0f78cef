"""Reminders-side staff pages: message timelines, ad-hoc texts, the inbox, the outbox
dashboard with explicit retry, and manager reports with CSV."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from reminders.models import InboundMessage, Message, StaffAlert
from tests import factories
from tests.workspace.conftest import WEDNESDAY, at

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def failed_message(client, **fields) -> Message:
    defaults = {
        "client": client,
        "category": "day_before",
        "to": client.phone,
        "body": "See you tomorrow",
        "due_at": at(9, day=WEDNESDAY),
        "status": "failed",
        "status_reason": "Unknown destination handset",
        "error_code": 30005,
    }
    return Message.objects.create(**(defaults | fields))


def test_the_panel_lists_the_appointments_planned_messages(as_reception, consultation):
    assert Message.objects.filter(appointment=consultation).exists()
    response = as_reception.get(f"/staff/messages/appointment/{consultation.id}/", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="appointment-messages"' in html
    assert "Booking confirmation" in html
    assert "msg-status" in html


def test_the_panel_warns_that_planned_texts_will_be_skipped_without_consent(
    as_reception, consultation
):
    url = f"/staff/messages/appointment/{consultation.id}/"
    assert b'data-testid="sms-blocked"' not in as_reception.get(url, **HTMX).content
    client = consultation.client
    client.sms_opted_out_at = at(8, day=WEDNESDAY)
    client.save()
    html = as_reception.get(url, **HTMX).content.decode()
    assert "The client opted out of SMS, so this will be skipped." in html


def test_a_practitioner_cannot_read_a_colleagues_appointment_messages(
    as_practitioner, colleagues_consultation
):
    url = f"/staff/messages/appointment/{colleagues_consultation.id}/"
    assert as_practitioner.get(url).status_code == 403


def test_the_staff_api_lists_messages_for_an_appointment_and_a_client(as_reception, consultation):
    by_appointment = as_reception.get(f"/api/v1/staff/appointments/{consultation.id}/messages")
    by_client = as_reception.get(f"/api/v1/staff/clients/{consultation.client_id}/messages")
    assert by_appointment.status_code == by_client.status_code == 200
    assert {row["category"] for row in by_appointment.json()} >= {"confirmation"}
    assert {row["id"] for row in by_appointment.json()} <= {row["id"] for row in by_client.json()}


def test_the_messages_api_needs_a_staff_role(as_stranger, consultation):
    response = as_stranger.get(f"/api/v1/staff/appointments/{consultation.id}/messages")
    assert response.status_code == 403


def test_the_client_timeline_shows_outbound_statuses_and_inbound_replies(
    as_reception, consultation
):
    client = consultation.client
    InboundMessage.objects.create(
        from_number=client.phone, provider_sid="SM-in-1", client=client, body="STOP", kind="stop"
    )
    html = as_reception.get(f"/staff/messages/client/{client.id}/").content.decode()
    assert "Opt-out" in html
    assert "“STOP”" in html
    assert "Booking confirmation" in html


def test_an_adhoc_message_goes_through_the_outbox(
    as_reception, reception, consultation, django_capture_on_commit_callbacks
):
    client = consultation.client
    with django_capture_on_commit_callbacks() as callbacks:
        response = as_reception.post(
            f"/staff/messages/client/{client.id}/send/",
            {"body": "Your aftercare leaflet is ready at the desk."},
            **HTMX,
        )
    assert response.status_code == 200
    message = Message.objects.get(category="adhoc")
    assert (message.client, message.created_by, message.status) == (client, reception, "scheduled")
    assert callbacks, "the dispatcher is nudged after commit"


def test_an_adhoc_message_to_an_opted_out_client_is_refused(as_reception, location):
    client = factories.ClientFactory(sms_opted_out_at=at(8, day=WEDNESDAY))
    response = as_reception.post(
        f"/staff/messages/client/{client.id}/send/", {"body": "Hello"}, **HTMX
    )
    assert response.status_code == 409
    assert not Message.objects.filter(category="adhoc").exists()


def test_the_inbox_puts_urgent_replies_first_and_can_reply_and_mark_handled(
    as_reception, consultation
):
    client = consultation.client
    calm = InboundMessage.objects.create(
        from_number=client.phone, provider_sid="SM-1", client=client, body="Thanks!"
    )
    urgent = InboundMessage.objects.create(
        from_number=client.phone,
        provider_sid="SM-2",
        client=client,
        appointment=consultation,
        body="My skin is very swollen",
        is_urgent=True,
    )
    InboundMessage.objects.create(from_number="+447911000111", provider_sid="SM-3", body="who?")
    StaffAlert.objects.create(
        kind="urgent_reply",
        recipient=consultation.practitioner.user,
        appointment=consultation,
        inbound=urgent,
        dedupe_key="urgent_reply:test",
        subject="s",
        body="b",
        sent_at=at(9, day=WEDNESDAY),
    )
    html = as_reception.get("/staff/inbox/").content.decode()
    assert html.index("very swollen") < html.index("Thanks!") < html.index("who?")
    assert "Pat Lee" in html  # the practitioner of the urgent reply's appointment
    assert "Emailed pat_practitioner at 09:00" in html

    response = as_reception.post(
        f"/staff/inbox/{urgent.id}/handle/", {"reply": "Please call us on the urgent line."}
    )
    assert response.status_code == 302
    urgent.refresh_from_db()
    assert urgent.handled_at is not None
    assert Message.objects.filter(category="adhoc", client=client).count() == 1
    calm.refresh_from_db()
    assert calm.handled_at is None


def test_the_outbox_counts_by_status_and_filters(as_reception, consultation):
    failed_message(consultation.client)
    response = as_reception.get("/staff/outbox/?start=2026-11-25&end=2026-12-10")
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts["failed"] == 1
    assert counts["scheduled"] >= 1
    only_failed = as_reception.get("/staff/outbox/?start=2026-11-25&end=2026-12-10&status=failed")
    assert [row.status for row in only_failed.context["rows"]] == ["failed"]
    assert b"Unknown destination handset" in only_failed.content


def test_retry_creates_a_new_linked_attempt_and_never_a_second_one(as_reception, consultation):
    original = failed_message(consultation.client)
    response = as_reception.post(f"/staff/outbox/{original.id}/retry/")
    assert response.status_code == 302
    retry = Message.objects.get(retry_of=original)
    assert retry.status == "scheduled"
    original.refresh_from_db()
    assert original.status == "failed"
    again = as_reception.post(f"/staff/outbox/{original.id}/retry/")
    assert again.status_code == 409
    assert Message.objects.filter(retry_of=original).count() == 1


def test_reports_are_for_managers_only(as_reception, as_practitioner, location):
    assert as_reception.get("/staff/reports/").status_code == 403
    assert as_practitioner.get("/staff/reports/").status_code == 403
    assert as_reception.get("/staff/reports/csv/").status_code == 403


def test_reports_show_rates_and_weekly_bookings(
    as_manager,
    consultation,
    colleagues_consultation,
    treatment_service,
    location,
    practitioner,
    settings,
):
    # Twilio reports delivery (status callbacks), so a delivery rate means something.
    settings.SMS_BACKEND = "twilio"
    # One consultation completed and followed by a treatment, one missed.
    consultation.status = "completed"
    consultation.save(update_fields=["status"])
    colleagues_consultation.status = "no_show"
    colleagues_consultation.save(update_fields=["status"])
    factories.AppointmentFactory(
        client=consultation.client,
        service=treatment_service,
        practitioner=practitioner,
        location=location,
        start_at=at(10, day=WEDNESDAY.replace(day=9)),
    )
    Message.objects.filter(appointment=consultation).update(status="delivered")
    failed_message(consultation.client)

    response = as_manager.get("/staff/reports/?start=2026-11-30&end=2026-12-14")
    assert response.status_code == 200
    context = response.context
    assert context["no_shows"] == {"due": 2, "no_shows": 1, "rate": 0.5}
    assert context["conversion"] == {"consultations": 1, "converted": 1, "rate": 1.0}
    assert context["sms"]["rate"] == context["sms"]["delivered"] / context["sms"]["settled"]
    html = response.content.decode()
    assert "<svg" in html
    assert "Bookings per week" in html
    assert 'data-testid="no-show-rate"' in html

    bookings_csv = as_manager.get(
        "/staff/reports/csv/?report=bookings&start=2026-11-30&end=2026-12-14"
    )
    rows = list(csv.reader(io.StringIO(bookings_csv.content.decode())))
    assert rows[0] == ["week_starting", "service", "practitioner", "bookings"]
    assert ["2026-11-30", "Skin consultation", "Pat Lee", "1"] in rows
    assert ["2026-12-07", "Micro-needling – face", "Pat Lee", "1"] in rows

    summary = as_manager.get("/staff/reports/csv/?report=summary&start=2026-11-30&end=2026-12-14")
    rows = list(csv.reader(io.StringIO(summary.content.decode())))
    assert ["no_show_rate", "1", "2", "0.5000"] in rows
    assert ["consultation_to_treatment", "1", "1", "1.0000"] in rows


def test_reports_default_to_weeks_around_today_and_show_no_delivery_rate_without_reports(
    as_manager, consultation, location
):
    # The frozen today is Tuesday 1 December 2026; the consultation is the next day.
    Message.objects.filter(appointment=consultation).update(status="sent")

    response = as_manager.get("/staff/reports/")

    period = response.context["period"]
    assert (period.start_on, period.end_on) == (date(2026, 11, 2), date(2026, 12, 28))
    # A booking for later this week counts in "bookings per week".
    assert sum(response.context["weekly_totals"].values()) == 1
    # The locmem backend (like the console one) never reports delivery: no "0 % delivered".
    assert response.context["sms"]["rate"] is None
    html = response.content.decode()
    assert "Delivery is not reported" in html
    assert "SMS delivered" not in html


def test_outbox_shows_status_labels_not_codes(as_manager, consultation):
    html = as_manager.get("/staff/outbox/").content.decode()
    assert '<option value="undelivered" >Undelivered</option>' in html
    assert ">undelivered<" not in html
