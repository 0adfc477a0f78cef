"""The probe as curious staff (issue 14, point 1): lists and timelines that showed clients
outside a practitioner's own, and verification codes visible to reception."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as HttpClient

from bookings.access import visible_clients
from bookings.services.consultations import consultation_open_for_appointment
from clinic.models import Location
from clinic.templatetags.phone_format import phone
from reminders.models import InboundMessage, Message, ReminderRule
from reminders.services.planning import message_plan_verification
from tests.workspace.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def olive_wrote(colleagues_consultation, location):
    """Olive, whom only Cara has seen, was texted and replied."""
    olive = colleagues_consultation.client
    Message.objects.create(
        client=olive,
        appointment=colleagues_consultation,
        location=location,
        category=ReminderRule.Category.CONFIRMATION,
        to=olive.phone,
        body="See you tomorrow",
        due_at=at(9),
    )
    InboundMessage.objects.create(
        from_number=olive.phone, body="Olive here, thanks", provider_sid="SM1", client=olive
    )
    return olive


def test_the_outbox_search_shows_a_practitioner_only_their_own_clients(
    as_practitioner, as_reception, olive_wrote, consultation
):
    mine = as_practitioner.get("/staff/outbox/?q=Olive&start=2026-12-01&end=2026-12-03")
    desk = as_reception.get("/staff/outbox/?q=Olive&start=2026-12-01&end=2026-12-03")

    # Numbers are shown as people dial them (the national format).
    shown = phone(olive_wrote.phone, "GB")
    assert mine.status_code == 200
    assert shown not in mine.content.decode()
    assert shown in desk.content.decode()


def test_the_inbox_shows_a_practitioner_only_their_own_clients(
    as_practitioner, as_reception, olive_wrote
):
    assert "Olive here" not in as_practitioner.get("/staff/inbox/").content.decode()
    assert "Olive here" in as_reception.get("/staff/inbox/").content.decode()


def test_the_inbox_api_shows_a_practitioner_only_their_own_clients(
    as_practitioner, as_reception, olive_wrote
):
    assert olive_wrote.pk not in {
        reply["client_id"] for reply in as_practitioner.get("/api/v1/staff/inbox").json()
    }
    assert olive_wrote.pk in {
        reply["client_id"] for reply in as_reception.get("/api/v1/staff/inbox").json()
    }


def test_the_consultation_queue_shows_a_practitioner_only_their_own_clients(
    as_practitioner, as_manager, consultation, colleagues_consultation
):
    for appointment in (consultation, colleagues_consultation):
        consultation_open_for_appointment(appointment=appointment)

    mine = as_practitioner.get("/api/v1/staff/consultations").json()
    everyone = as_manager.get("/api/v1/staff/consultations").json()

    assert [row["client_id"] for row in mine] == [consultation.client_id]
    assert len(everyone) == 2


def test_a_practitioner_cannot_read_or_clear_a_colleagues_client(
    as_practitioner, colleagues_consultation
):
    """The probe read a colleague's client's screening answers and recorded "cleared"."""
    record = consultation_open_for_appointment(appointment=colleagues_consultation)
    base = f"/api/v1/staff/consultations/{record.pk}"

    screening = as_practitioner.get(f"{base}/screening")
    outcome = as_practitioner.post(
        f"{base}/outcome", {"outcome": "cleared"}, content_type="application/json"
    )

    assert screening.status_code == 403
    assert outcome.status_code == 403
    record.refresh_from_db()
    assert record.outcome == "pending"
    assert record.accesses.filter(action="denied").exists()


def test_a_location_can_let_its_practitioners_see_the_whole_clinic(
    practitioner_user, location, consultation, colleagues_consultation
):
    assert list(visible_clients(actor=practitioner_user)) == [consultation.client]

    location.practitioners_see = Location.PractitionersSee.WHOLE_CLINIC
    location.save()

    assert set(visible_clients(actor=practitioner_user)) == {
        consultation.client,
        colleagues_consultation.client,
    }


def test_staff_never_see_a_verification_code(as_reception, as_manager, consultation, location):
    """The probe: reception read clients' live verification codes in the message timeline."""
    client = consultation.client
    message_plan_verification(phone=client.phone, code="493817", location=location)

    timeline = as_reception.get(f"/staff/messages/client/{client.pk}/").content.decode()
    api = as_manager.get(f"/api/v1/staff/clients/{client.pk}/messages").json()

    assert "493817" not in timeline
    assert "493817" not in str(api)
    assert "verification code" in timeline.lower()


def test_the_admin_does_not_show_a_verification_code(location, consultation):
    admin_user = get_user_model().objects.create_superuser("root", "root@example.test", "x" * 20)
    message = message_plan_verification(
        phone=consultation.client.phone, code="493817", location=location
    )
    browser = HttpClient()
    browser.force_login(admin_user)

    page = browser.get(f"/admin/reminders/message/{message.pk}/change/")

    assert page.status_code == 200
    assert "493817" not in page.content.decode()
