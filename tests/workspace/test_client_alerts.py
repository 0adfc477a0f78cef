"""A client's clinical alert ("allergic to lidocaine") is health data (UK GDPR art. 9): only
practitioners and managers read or change it, every read is audited like screening answers,
and reception sees that there is one ("ask a practitioner"). Desk notes are not clinical and
every member of staff who sees the client reads them. One rule: bookings.access."""

from __future__ import annotations

import pytest

from bookings import access
from bookings.models import ClientChange, HealthDataAccess
from bookings.services.client_merge import clients_merge
from bookings.services.staff_clients import client_update_by_staff
from clinic.errors import PermissionDenied
from tests import factories

pytestmark = pytest.mark.django_db

ALLERGY = "Allergic to lidocaine"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def alerted(consultation):
    client = consultation.client
    client.alert = ALLERGY
    client.notes = "Prefers afternoons"
    client.save()
    return consultation


def alert_reads(client) -> list[HealthDataAccess]:
    return list(HealthDataAccess.objects.filter(record=f"client-alert:{client.pk}", action="read"))


def test_reception_learns_only_that_there_is_an_alert(reception, alerted):
    seen = access.client_alert_read(actor=reception, client=alerted.client)
    assert (seen.exists, seen.text, seen.is_hidden) == (True, None, True)
    assert alert_reads(alerted.client) == []


@pytest.mark.parametrize("who", ["practitioner_user", "manager"])
def test_clinical_roles_read_the_alert_and_each_read_is_audited(
    request, who, practitioner, alerted
):
    actor = request.getfixturevalue(who)
    seen = access.client_alert_read(actor=actor, client=alerted.client)
    assert seen.text == ALLERGY
    (read,) = alert_reads(alerted.client)
    assert (read.actor, read.fields, read.via) == (actor, ["alert"], "staff")
    assert ALLERGY not in str(read.fields)


def test_a_practitioner_cannot_read_the_alert_of_someone_elses_client(
    colleague_user, colleague, alerted
):
    with pytest.raises(PermissionDenied):
        access.client_alert_read(actor=colleague_user, client=alerted.client)


def test_reception_cannot_change_an_alert(reception, alerted):
    client = alerted.client
    with pytest.raises(PermissionDenied):
        client_update_by_staff(
            actor=reception, client=client, first_name=client.first_name, alert=""
        )
    client.refresh_from_db()
    assert client.alert == ALLERGY


def test_reception_edits_notes_without_touching_the_alert(reception, alerted):
    client = alerted.client
    client_update_by_staff(
        actor=reception, client=client, first_name=client.first_name, notes="Wheelchair user"
    )
    client.refresh_from_db()
    assert (client.alert, client.notes) == (ALLERGY, "Wheelchair user")


def test_a_change_to_the_alert_is_audited_and_the_history_keeps_no_text(
    practitioner_user, practitioner, alerted
):
    client = alerted.client
    client_update_by_staff(
        actor=practitioner_user,
        client=client,
        first_name=client.first_name,
        last_name=client.last_name,
        email=client.email,
        notes=client.notes,
        alert="Allergic to lidocaine and chlorhexidine",
    )
    change = ClientChange.objects.get(client=client)
    assert change.changes == {"alert": ["", ""]}
    assert HealthDataAccess.objects.filter(
        record=f"client-alert:{client.pk}", action="change", actor=practitioner_user
    ).exists()


def test_a_merge_keeps_both_alerts(reception, alerted):
    keep = alerted.client
    twin = factories.ClientFactory(
        first_name=keep.first_name, last_name=keep.last_name, alert="Keloid scarring"
    )
    clients_merge(actor=reception, keep=keep, duplicate=twin, reason="Booked twice")
    keep.refresh_from_db()
    assert keep.alert == f"{ALLERGY}\nKeloid scarring"
    merged = ClientChange.objects.filter(client=keep).latest("id")
    assert merged.changes["alert"] == ["", ""]
    assert "Keloid" not in str(merged.changes)


# --- pages ---------------------------------------------------------------------------------------


def test_the_panel_tells_reception_to_ask_a_practitioner(as_reception, alerted):
    panel = as_reception.get(f"/staff/appointments/{alerted.id}/", **HTMX).content.decode()
    assert "Has a clinical alert — ask a practitioner." in panel
    assert ALLERGY not in panel
    assert "Prefers afternoons" in panel


def test_the_panel_shows_a_practitioner_the_alert_and_audits_it(
    as_practitioner, practitioner_user, alerted
):
    panel = as_practitioner.get(f"/staff/appointments/{alerted.id}/", **HTMX).content.decode()
    assert f"Clinical alert:</strong> {ALLERGY}" in panel
    assert [row.actor for row in alert_reads(alerted.client)] == [practitioner_user]


def test_the_client_page_and_edit_form_hide_the_alert_from_reception(as_reception, alerted):
    client = alerted.client
    page = as_reception.get(f"/staff/clients/{client.id}/").content.decode()
    assert ALLERGY not in page
    assert "ask a practitioner" in page
    form = as_reception.get(f"/staff/clients/{client.id}/edit/").content.decode()
    assert 'name="alert"' not in form
    assert ALLERGY not in form


def test_reception_posting_an_alert_is_refused_and_nothing_is_saved(as_reception, alerted):
    client = alerted.client
    response = as_reception.post(
        f"/staff/clients/{client.id}/edit/",
        {"first_name": "Changed", "alert": "", "notes": ""},
    )
    assert response.status_code == 403
    client.refresh_from_db()
    assert (client.first_name, client.alert) == (alerted.client.first_name, ALLERGY)


def test_a_manager_edits_the_alert_on_the_edit_page(as_manager, alerted):
    client = alerted.client
    form = as_manager.get(f"/staff/clients/{client.id}/edit/").content.decode()
    assert ALLERGY in form
    response = as_manager.post(
        f"/staff/clients/{client.id}/edit/",
        {"first_name": client.first_name, "last_name": client.last_name, "alert": "", "notes": ""},
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.alert == ""
