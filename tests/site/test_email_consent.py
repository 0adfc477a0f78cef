"""Email consent: given on the booking site next to the email field (optional), by staff on the
client edit page, kept in the client's data copy and removed on erasure."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bookings.models import Client, ClientChange
from bookings.services import client_register
from bookings.services.data_protection import client_data_export, client_erase
from bookings.services.staff_clients import client_update_by_staff
from clinic.errors import ValidationFailed
from reminders.models import Message
from tests import factories
from tests.site.test_booking_site import details, hold

pytestmark = pytest.mark.django_db


def test_the_details_form_offers_an_also_email_me_box_next_to_the_email_field(
    client, practitioner, location, consultation_service, frozen_monday
):
    hold(client, location, consultation_service)

    page = client.get(reverse("site-details")).content.decode()

    assert 'name="email_consent"' in page
    assert page.index('name="email"') < page.index('name="email_consent"')
    assert f"Also email me: {location.name} may email" in page


def test_ticking_also_email_me_records_the_consent_and_wording_and_emails_the_confirmation(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)
    details(client, email_consent="on")
    client.post(reverse("site-verify"), {"code": sent_codes[-1]["code"]})

    client_row = Client.objects.get()
    assert client_row.email_consent_at is not None
    assert client_row.email_consent_method == "online_form"
    assert client_row.email_consent_wording.startswith(f"Also email me: {location.name}")
    email = Message.objects.get(client=client_row, channel=Message.Channel.EMAIL)
    assert email.category == "confirmation"
    assert email.to == "maya@example.test"


def test_without_the_box_nothing_is_emailed(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)
    details(client)
    client.post(reverse("site-verify"), {"code": sent_codes[-1]["code"]})

    client_row = Client.objects.get()
    assert client_row.email_consent_at is None
    assert not Message.objects.filter(channel=Message.Channel.EMAIL).exists()


def test_also_email_me_without_an_address_is_a_form_error_on_the_email_field(
    client, practitioner, location, consultation_service, frozen_monday, sent_codes
):
    hold(client, location, consultation_service)

    response = details(client, email="", email_consent="on")

    assert response.status_code == 200
    assert "Enter your email address, or untick" in response.content.decode()
    assert sent_codes == []


def test_register_refuses_email_consent_with_no_address_naming_the_field(db):
    with pytest.raises(ValidationFailed) as refusal:
        client_register(
            first_name="Ann", phone="07911 123456", sms_consent=True, email_consent=True
        )
    assert refusal.value.field == "email"
    assert not Client.objects.exists()


def test_a_returning_client_who_unsubscribed_can_agree_again_online(db):
    known = factories.ClientFactory(
        phone="+447911123456", email_consent_at=None, email_opted_out_at=None
    )
    Client.objects.filter(pk=known.pk).update(email_opted_out_at="2026-01-01T00:00:00Z")

    client_register(
        first_name="Ann",
        phone="07911 123456",
        sms_consent=False,
        email_consent=True,
        email_consent_wording="Also email me",
    )

    known.refresh_from_db()
    assert known.can_receive_email
    assert known.email_consent_wording == "Also email me"


def test_staff_record_and_withdraw_email_consent_and_each_change_is_audited(db, reception):
    person = factories.ClientFactory()

    client_update_by_staff(
        actor=reception,
        client=person,
        first_name=person.first_name,
        email=person.email,
        email_consent=True,
    )
    person.refresh_from_db()
    assert person.can_receive_email
    assert person.email_consent_method == "staff"

    client_update_by_staff(
        actor=reception,
        client=person,
        first_name=person.first_name,
        email=person.email,
        email_consent=False,
    )
    person.refresh_from_db()
    assert not person.can_receive_email
    assert person.email_opted_out_at is not None
    changes = [c.changes["email_consent"] for c in ClientChange.objects.filter(client=person)]
    assert changes == [["agreed", "withdrawn"], ["not agreed", "agreed"]]


def test_staff_cannot_tick_email_consent_without_an_address(db, reception):
    person = factories.ClientFactory(email="")

    with pytest.raises(ValidationFailed) as refusal:
        client_update_by_staff(
            actor=reception, client=person, first_name=person.first_name, email_consent=True
        )
    assert refusal.value.field == "email"
    person.refresh_from_db()
    assert person.email_consent_at is None


def test_the_staff_edit_page_has_the_email_consent_box(client, reception, location):
    client.force_login(reception)
    person = factories.ClientFactory()
    url = reverse("staff-client-edit", args=[person.pk])

    page = client.get(url).content.decode()
    assert 'name="email_consent"' in page
    response = client.post(
        url, {"first_name": person.first_name, "email": person.email, "email_consent": "on"}
    )

    assert response.status_code == 302
    person.refresh_from_db()
    assert person.can_receive_email


def test_the_data_copy_includes_email_consent_and_erasure_removes_it(db, manager):
    person = factories.ClientFactory(email_consent_at="2026-01-01T00:00:00Z")
    person.refresh_from_db()

    copy = client_data_export(actor=manager, client=person, reason="subject access request")
    assert copy["consents"]["email_consent_at"].startswith("2026-01-01")
    assert "email_opted_out_at" in copy["consents"]

    client_erase(actor=manager, client=person, reason="client asked")
    person.refresh_from_db()
    assert person.email == ""
    assert person.email_consent_at is None
    assert person.email_opted_out_at is not None
    assert not person.can_receive_email
