"""Staff edit a client's details; every change is recorded, and the clinical alert and desk
notes travel with the client onto every appointment panel (the alert's text for clinical roles
only: tests/workspace/test_client_alerts.py)."""

from __future__ import annotations

from datetime import date

import pytest

from bookings.models import ClientChange
from bookings.services.staff_clients import client_update_by_staff
from clinic.errors import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db


def test_an_edit_saves_the_details_and_records_who_changed_what(
    practitioner_user, practitioner, client_person, consultation
):
    before = client_person.first_name

    updated = client_update_by_staff(
        actor=practitioner_user,
        client=client_person,
        first_name="Maia",
        last_name=client_person.last_name,
        email="maia@example.test",
        date_of_birth="1990-04-21",
        alert="Allergic to lidocaine",
    )

    assert (updated.first_name, updated.date_of_birth) == ("Maia", date(1990, 4, 21))
    change = ClientChange.objects.get(client=client_person)
    assert change.actor == practitioner_user
    assert change.changes["first_name"] == [before, "Maia"]
    # That the clinical alert changed, never what it says (the history is for all staff).
    assert change.changes["alert"] == ["", ""]
    assert "last_name" not in change.changes


def test_the_history_lists_the_changed_fields_in_the_forms_order_whatever_the_database_keeps(
    practitioner_user, client_person, consultation
):
    client_update_by_staff(
        actor=practitioner_user,
        client=client_person,
        first_name="Maia",
        last_name=client_person.last_name,
        email="maia@example.test",
        date_of_birth="1990-04-21",
        alert="Allergic to lidocaine",
    )

    # Read back: PostgreSQL's jsonb returns the keys sorted by length (alert, email, ...).
    change = ClientChange.objects.get(client=client_person)
    fields = ["first_name", "email", "date_of_birth", "alert"]
    assert [name for name, _ in change.changes_in_order()] == fields
    assert str(change).startswith(f"{client_person.pk}: {', '.join(fields)} by ")


def test_saving_without_changes_records_nothing(reception, client_person):
    client_update_by_staff(
        actor=reception,
        client=client_person,
        first_name=client_person.first_name,
        last_name=client_person.last_name,
        email=client_person.email,
    )

    assert not ClientChange.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"first_name": " "}, "first_name"),
        ({"email": "not an email"}, "email"),
        ({"date_of_birth": "2030-01-01"}, "date_of_birth"),
        ({"date_of_birth": "21/04/1990"}, "date_of_birth"),
        ({"alert": "x" * 501}, "alert"),
    ],
)
def test_bad_details_name_the_field_and_save_nothing(manager, client_person, changes, field):
    name = client_person.first_name
    with pytest.raises(ValidationFailed) as refusal:
        client_update_by_staff(
            actor=manager, client=client_person, **{"first_name": "Maia", **changes}
        )

    assert refusal.value.field == field
    client_person.refresh_from_db()
    assert client_person.first_name == name
    assert not ClientChange.objects.exists()


def test_only_staff_may_edit(stranger, client_person):
    with pytest.raises(PermissionDenied):
        client_update_by_staff(actor=stranger, client=client_person, first_name="X")


def test_the_edit_page_saves_and_the_alert_shows_on_the_appointment_panel(
    as_practitioner, consultation
):
    client = consultation.client
    response = as_practitioner.post(
        f"/staff/clients/{client.id}/edit/",
        {
            "first_name": client.first_name,
            "last_name": client.last_name,
            "email": "",
            "date_of_birth": "",
            "alert": "Allergic to lidocaine",
            "notes": "Prefers afternoons",
        },
    )
    assert response.status_code == 302

    panel = as_practitioner.get(
        f"/staff/appointments/{consultation.id}/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Clinical alert:</strong> Allergic to lidocaine" in panel
    assert "Prefers afternoons" in panel
    page = as_practitioner.get(f"/staff/clients/{client.id}/").content.decode()
    assert "pat_practitioner changed" in page
    assert "notes, clinical alert</li>" in page
    assert "→ Allergic to lidocaine" not in page


def test_a_bad_date_of_birth_on_the_page_is_a_422_naming_the_field(as_reception, consultation):
    response = as_reception.post(
        f"/staff/clients/{consultation.client.id}/edit/",
        {"first_name": "Maia", "date_of_birth": "2999-01-01"},
    )

    assert response.status_code == 422
    assert 'data-error-field="date_of_birth"' in response.content.decode()
