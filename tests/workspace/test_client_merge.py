"""Merging a client who booked twice: everything moves to the kept record, audited."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bookings.models import Appointment, Client, ClientChange, Consultation
from bookings.services.client_merge import clients_merge
from clinic.errors import PermissionDenied, ValidationFailed
from reminders.models import InboundMessage, Message
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def maya(consultation):
    return consultation.client


@pytest.fixture
def maya_again(db, location):
    """The same person, booked online again with another number and a misspelt name."""
    return factories.ClientFactory(
        first_name="Maia",
        last_name="",
        phone="+447911123999",
        email="maya@example.test",
        sms_consent_at=None,
        sms_opted_out_at=timezone.now(),
    )


def test_a_merge_moves_appointments_consultations_messages_and_replies(
    reception, maya, maya_again, consultation, treatment_service, location, practitioner
):
    theirs = factories.AppointmentFactory(
        client=maya_again,
        service=treatment_service,
        location=location,
        practitioner=practitioner,
        start_at=consultation.start_at.replace(day=20),
    )
    sent = Message.objects.create(
        client=maya_again, to=maya_again.phone, body="Hello", due_at=timezone.now()
    )
    reply = InboundMessage.objects.create(
        client=maya_again, from_number=maya_again.phone, body="Thanks", provider_sid="SM1"
    )
    maya.email = ""
    maya.save()

    kept = clients_merge(
        actor=reception, keep=maya, duplicate=maya_again, reason="Same person, new phone"
    )

    assert not Client.objects.filter(pk=maya_again.pk).exists()
    theirs.refresh_from_db()
    sent.refresh_from_db()
    reply.refresh_from_db()
    assert theirs.client == kept
    assert sent.client == kept
    assert sent.to == kept.phone  # not sent yet: it goes to the kept number
    assert reply.client == kept
    assert Consultation.objects.filter(client=kept).count() == 1
    assert kept.email == "maya@example.test"  # filled from the duplicate
    assert kept.sms_opted_out_at is not None  # a STOP is never undone by a merge
    change = ClientChange.objects.get(client=kept)
    assert change.actor == reception
    assert change.changes["reason"] == ["", "Same person, new phone"]
    assert "+447911123999" in change.changes["merged"][0]


def test_merging_a_client_into_themselves_or_without_a_reason_is_refused(
    reception, maya, maya_again
):
    with pytest.raises(ValidationFailed) as same:
        clients_merge(actor=reception, keep=maya, duplicate=maya, reason="x")
    with pytest.raises(ValidationFailed) as no_reason:
        clients_merge(actor=reception, keep=maya, duplicate=maya_again, reason=" ")

    assert (same.value.field, no_reason.value.field) == ("duplicate", "reason")
    assert Client.objects.filter(pk=maya_again.pk).exists()


def test_practitioners_do_not_merge_clients(practitioner_user, maya, maya_again):
    with pytest.raises(PermissionDenied):
        clients_merge(actor=practitioner_user, keep=maya, duplicate=maya_again, reason="x")


def test_the_merge_page_lists_look_alikes_and_merges_the_chosen_one(as_reception, maya, maya_again):
    maya.email = maya_again.email
    maya.save()
    page = as_reception.get(f"/staff/clients/{maya.id}/merge/").content.decode()
    assert "Maia" in page  # same email

    response = as_reception.post(
        f"/staff/clients/{maya.id}/merge/",
        {"duplicate": maya_again.id, "reason": "Same person"},
    )

    assert response.status_code == 302
    assert not Client.objects.filter(pk=maya_again.pk).exists()
    assert Appointment.objects.filter(client=maya).exists()
