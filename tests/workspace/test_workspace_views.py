"""The HTML workspace: appointment panel, desk actions, the booking form, moving by the edit
form, clients. Each action and each error once."""

from __future__ import annotations

import pytest

from bookings import services
from bookings.models import Appointment, Client
from tests import factories
from tests.workspace.conftest import at

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_panel_shows_client_service_history_and_a_messages_slot(as_reception, consultation):
    response = as_reception.get(f"/staff/appointments/{consultation.id}/", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert consultation.client.full_name in html
    assert consultation.client.phone in html
    assert "Skin consultation" in html
    assert "booked" in html  # history row
    assert f"/staff/messages/appointment/{consultation.id}/" in html
    assert 'data-action="confirm"' in html


def test_the_panel_without_htmx_is_a_full_page(as_reception, consultation):
    response = as_reception.get(f"/staff/appointments/{consultation.id}/")
    assert b"<html" in response.content
    assert b"appointment-panel" in response.content


def test_a_practitioner_cannot_open_a_colleagues_appointment(
    as_practitioner, colleagues_consultation
):
    response = as_practitioner.get(f"/staff/appointments/{colleagues_consultation.id}/")
    assert response.status_code == 403


def test_an_unknown_appointment_is_404(as_reception, location):
    assert as_reception.get("/staff/appointments/999999/").status_code == 404


def test_confirm_from_the_panel_tells_the_calendar_to_refresh(as_reception, consultation):
    response = as_reception.post(
        f"/staff/appointments/{consultation.id}/action/", {"action": "confirm"}, **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "appointment-changed"
    consultation.refresh_from_db()
    assert consultation.status == "confirmed"


def test_cancel_without_a_reason_shows_the_error_inline(as_reception, consultation):
    response = as_reception.post(
        f"/staff/appointments/{consultation.id}/action/", {"action": "cancel"}, **HTMX
    )
    assert response.status_code == 422
    assert b"reason for the cancellation" in response.content
    assert b"appointment-panel" in response.content
    consultation.refresh_from_db()
    assert consultation.status == "booked"


def test_cancel_with_a_reason_from_the_panel(as_reception, consultation):
    response = as_reception.post(
        f"/staff/appointments/{consultation.id}/action/",
        {"action": "cancel", "reason": "Moved abroad"},
        **HTMX,
    )
    assert response.status_code == 200
    consultation.refresh_from_db()
    assert (consultation.status, consultation.cancellation_reason) == ("cancelled", "Moved abroad")


def test_no_show_too_early_is_shown_as_an_illegal_transition(as_reception, consultation):
    response = as_reception.post(
        f"/staff/appointments/{consultation.id}/action/", {"action": "no_show"}, **HTMX
    )
    assert response.status_code == 409
    assert b'data-error-code="illegal_transition"' in response.content


def test_actions_need_post(as_reception, consultation):
    response = as_reception.get(f"/staff/appointments/{consultation.id}/action/")
    assert response.status_code == 405


def test_moving_by_the_edit_form(as_reception, consultation, colleague):
    response = as_reception.post(
        f"/staff/appointments/{consultation.id}/move/",
        {"start": "2026-12-02T14:15", "practitioner": colleague.id},
        **HTMX,
    )
    assert response.status_code == 200
    consultation.refresh_from_db()
    assert consultation.start_at == at(14, 15)
    assert consultation.practitioner == colleague


def test_moving_onto_a_taken_time_shows_slot_taken_inline(
    as_reception, consultation, consultation_service, practitioner
):
    other = services.appointment_book(
        client=factories.ClientFactory(),
        service=consultation_service,
        location=consultation.location,
        start_at=at(12),
        practitioner=practitioner,
    )
    response = as_reception.post(
        f"/staff/appointments/{other.id}/move/", {"start": "2026-12-02T10:00"}, **HTMX
    )
    assert response.status_code == 409
    assert b'data-error-code="slot_taken"' in response.content
    assert b"Free nearby" in response.content


def test_moving_with_a_malformed_time_names_the_field(as_reception, consultation):
    response = as_reception.post(
        f"/staff/appointments/{consultation.id}/move/", {"start": "tomorrow-ish"}, **HTMX
    )
    assert response.status_code == 422
    assert "Enter the date and time as dd/mm/yyyy hh:mm" in response.content.decode()


def test_the_booking_form_prefills_the_clicked_slot(as_reception, practitioner, location):
    response = as_reception.get(
        f"/staff/appointments/new/?practitioner={practitioner.id}&start=2026-12-02T14:00:00",
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="02/12/2026 14:00"' in html
    assert f'value="{practitioner.id}" selected' in html


def test_booking_a_new_phone_client_registers_them_with_staff_phone_consent(
    as_reception, practitioner, consultation_service, location
):
    response = as_reception.post(
        "/staff/appointments/new/",
        {
            "start": "2026-12-02T14:00",
            "practitioner": practitioner.id,
            "service": consultation_service.id,
            "first_name": "Nia",
            "last_name": "Phone",
            "phone": "07911 123456",
            "sms_consent": "1",
        },
        **HTMX,
    )
    assert response.status_code == 200, response.content
    client = Client.objects.get(phone="+447911123456")
    assert client.sms_consent_method == "staff_phone"
    appointment = Appointment.objects.get(client=client)
    assert (appointment.start_at, appointment.channel) == (at(14), "staff")
    assert response["HX-Trigger"] == "appointment-changed"


def test_booking_an_existing_client_found_by_search(
    as_reception, client_person, practitioner, consultation_service, location
):
    response = as_reception.post(
        "/staff/appointments/new/",
        {
            "start": "2026-12-02T15:00",
            "practitioner": practitioner.id,
            "service": consultation_service.id,
            "client": client_person.id,
        },
    )
    appointment = Appointment.objects.get(client=client_person)
    assert response.status_code == 302
    assert response["Location"] == f"/staff/appointments/{appointment.id}/"


def test_booking_with_a_bad_phone_number_shows_the_error_and_books_nothing(
    as_reception, practitioner, consultation_service, location
):
    response = as_reception.post(
        "/staff/appointments/new/",
        {
            "start": "2026-12-02T14:00",
            "practitioner": practitioner.id,
            "service": consultation_service.id,
            "first_name": "Nia",
            "phone": "12",
        },
        **HTMX,
    )
    assert response.status_code == 422
    assert b'data-error-code="invalid"' in response.content
    assert not Appointment.objects.exists()


def test_booking_a_treatment_without_clearance_shows_the_eligibility_reason(
    as_reception, client_person, practitioner, treatment_service, location
):
    response = as_reception.post(
        "/staff/appointments/new/",
        {
            "start": "2026-12-02T14:00",
            "practitioner": practitioner.id,
            "service": treatment_service.id,
            "client": client_person.id,
        },
        **HTMX,
    )
    assert response.status_code == 409
    assert b'data-error-code="consultation_required"' in response.content


def test_client_picker_finds_by_name_and_by_national_phone(as_reception, location):
    jones = factories.ClientFactory(first_name="Ada", last_name="Jones", phone="+447700900123")
    factories.ClientFactory(first_name="Bob", last_name="Smith", phone="+447700900999")
    by_name = as_reception.get("/staff/clients/pick/?q=jon").content.decode()
    by_phone = as_reception.get("/staff/clients/pick/?q=07700 900123").content.decode()
    for html in (by_name, by_phone):
        assert f'data-client-id="{jones.id}"' in html
        assert "Smith" not in html


def test_client_search_page(as_reception, location):
    factories.ClientFactory(first_name="Ada", last_name="Jones")
    response = as_reception.get("/staff/clients/?q=Jones")
    assert response.status_code == 200
    assert b"Ada Jones" in response.content


def test_a_practitioner_only_finds_their_own_clients(
    as_practitioner, consultation, colleagues_consultation
):
    html = as_practitioner.get(
        "/staff/clients/?q=" + consultation.client.last_name
    ).content.decode()
    assert consultation.client.full_name in html
    other = as_practitioner.get("/staff/clients/?q=Olive")
    assert other.context["clients"] == []
    assert colleagues_consultation.client.phone not in other.content.decode()


def test_client_page_shows_course_progress_and_next_due_date(
    as_reception, client_person, treatment_service, practitioner, location, room
):
    first = factories.AppointmentFactory(
        client=client_person,
        service=treatment_service,
        practitioner=practitioner,
        location=location,
        room=room,
        start_at=at(10, day=at(0).date().replace(month=11, day=4)),
        status="completed",
    )
    response = as_reception.get(f"/staff/clients/{client_person.id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "session 1 of 3" in html
    assert "next due after 2 Dec 2026" in html
    assert f"/staff/appointments/{first.id}/" in html
    assert f"/staff/messages/client/{client_person.id}/" in html
    assert "Agreed on" in html  # consent state


def test_client_page_shows_an_opt_out(as_reception, location):
    client = factories.ClientFactory(sms_opted_out_at=at(9))
    html = as_reception.get(f"/staff/clients/{client.id}/").content.decode()
    assert "Opted out on" in html


def test_a_practitioner_cannot_open_a_client_they_never_saw(as_practitioner, location):
    client = factories.ClientFactory()
    assert as_practitioner.get(f"/staff/clients/{client.id}/").status_code == 403


def test_a_refused_treatment_offers_to_wait_for_the_upcoming_consultation(
    as_reception, consultation, practitioner, treatment_service
):
    form = {
        "start": "2026-12-09T10:00",
        "practitioner": practitioner.id,
        "service": treatment_service.id,
        "client": consultation.client_id,
    }
    refused = as_reception.post("/staff/appointments/new/", form, **HTMX)
    assert refused.status_code == 409
    html = refused.content.decode()
    assert 'data-testid="tentative-options"' in html
    assert f'name="awaiting_consultation" value="{consultation.id}"' in html

    held = as_reception.post(
        "/staff/appointments/new/", form | {"awaiting_consultation": consultation.id}, **HTMX
    )
    assert held.status_code == 200
    treatment = Appointment.objects.get(service=treatment_service)
    assert treatment.status == "pending_clearance"
    assert treatment.awaiting_consultation == consultation


def test_a_click_in_the_rooms_view_prefills_the_room_and_its_services(
    as_reception, location, room, practitioner, consultation_service, treatment_service
):
    factories.RoomFactory(location=location, name="Laser room")
    response = as_reception.get(
        f"/staff/appointments/new/?room={room.id}&start=2026-12-02T14:00:00", **HTMX
    )
    html = response.content.decode()
    assert f'<option value="{room.id}" selected>Room 1</option>' in html
    assert "Laser room" in html  # still selectable
    # Only services done in Room 1 are offered.
    assert treatment_service.name in html
    assert consultation_service.name not in html


def test_booking_into_a_chosen_room(
    as_reception, client_person, location, room, practitioner, consultation_service
):
    second_room = factories.RoomFactory(location=location, name="Room 2")
    consultation_service.rooms.add(room, second_room)
    response = as_reception.post(
        "/staff/appointments/new/",
        {
            "start": "2026-12-02T14:00",
            "room": second_room.id,
            "service": consultation_service.id,
            "client": client_person.id,
        },
        **HTMX,
    )
    assert response.status_code == 200, response.content
    appointment = Appointment.objects.get(client=client_person)
    assert (appointment.room, appointment.practitioner) == (second_room, practitioner)


def test_moving_into_another_room_by_the_edit_form(
    as_reception, client_person, location, room, practitioner, consultation_service
):
    second_room = factories.RoomFactory(location=location, name="Room 2")
    consultation_service.rooms.add(room, second_room)
    appointment = services.appointment_book(
        client=client_person,
        service=consultation_service,
        location=location,
        start_at=at(14),
        room=room,
    )
    panel = as_reception.get(f"/staff/appointments/{appointment.id}/", **HTMX).content.decode()
    assert "Room 1 if free, else any free room" in panel
    response = as_reception.post(
        f"/staff/appointments/{appointment.id}/move/",
        {"start": "2026-12-02T14:00", "room": second_room.id},
        **HTMX,
    )
    assert response.status_code == 200, response.content
    appointment.refresh_from_db()
    assert appointment.room == second_room
