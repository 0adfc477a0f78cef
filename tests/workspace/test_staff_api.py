"""The staff JSON API (/api/v1/staff/…): the calendar's data and every desk action, with the
same permissions as the pages."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bookings import services
from bookings.models import Appointment, AppointmentEvent
from bookings.services.api_tokens import api_token_create
from tests import factories
from tests.workspace.conftest import WEDNESDAY, at

pytestmark = pytest.mark.django_db

API = "/api/v1/staff"
RANGE = f"start={WEDNESDAY.isoformat()}&end=2026-12-03"


def post(browser, url, payload):
    return browser.post(url, data=json.dumps(payload), content_type="application/json")


def test_anonymous_requests_get_401(client, location):
    assert client.get(f"{API}/appointments?{RANGE}").status_code == 401


def test_a_user_without_a_staff_role_gets_403(as_stranger, location):
    response = as_stranger.get(f"{API}/appointments?{RANGE}")
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_reception_lists_every_appointment_of_the_day_with_local_times(
    as_reception, consultation, colleagues_consultation
):
    response = as_reception.get(f"{API}/appointments?{RANGE}")
    assert response.status_code == 200
    rows = response.json()
    assert [row["id"] for row in rows] == [consultation.id, colleagues_consultation.id]
    first = rows[0]
    assert first["local_start"] == "2026-12-02T10:00:00"
    assert first["local_end"] == "2026-12-02T10:30:00"
    assert first["service_kind"] == "consultation"
    assert first["status"] == "booked"
    assert first["client_phone"] == consultation.client.phone
    assert first["can_move"] is True


def test_a_practitioner_lists_only_their_own_appointments(
    as_practitioner, consultation, colleagues_consultation
):
    rows = as_practitioner.get(f"{API}/appointments?{RANGE}").json()
    assert [row["id"] for row in rows] == [consultation.id]


def test_a_practitioner_asking_for_a_colleagues_column_gets_403(
    as_practitioner, colleague, colleagues_consultation
):
    response = as_practitioner.get(f"{API}/appointments?{RANGE}&practitioner={colleague.id}")
    assert response.status_code == 403


def test_a_range_longer_than_six_weeks_is_refused_naming_the_field(as_reception, location):
    response = as_reception.get(f"{API}/appointments?start=2026-12-01&end=2027-03-01")
    assert response.status_code == 422
    assert response.json()["field"] == "end"


def test_bearer_tokens_work_without_a_session(client, reception, consultation):
    _, raw = api_token_create(user=reception, name="script")
    response = client.get(f"{API}/appointments?{RANGE}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert len(response.json()) == 1


def test_calendar_blocks_shade_working_hours_and_block_time_off(
    as_reception, location, practitioner
):
    factories.TimeOffFactory(
        practitioner=practitioner, start_at=at(13), end_at=at(14), reason="Training"
    )
    blocks = as_reception.get(f"{API}/calendar/blocks?{RANGE}").json()
    assert {
        "kind": "working",
        "resource_id": f"p{practitioner.id}",
        "local_start": "2026-12-02T09:00:00",
        "local_end": "2026-12-02T17:00:00",
        "reason": "",
    } in blocks
    assert {
        "kind": "time_off",
        "resource_id": f"p{practitioner.id}",
        "local_start": "2026-12-02T13:00:00",
        "local_end": "2026-12-02T14:00:00",
        "reason": "Training",
    } in blocks


def test_a_clinic_closure_blocks_every_column(as_reception, location, practitioner, colleague):
    factories.TimeOffFactory(location=location, start_at=at(9), end_at=at(17), reason="Holiday")
    blocks = as_reception.get(f"{API}/calendar/blocks?{RANGE}").json()
    closed = {b["resource_id"] for b in blocks if b["kind"] == "time_off"}
    assert closed == {f"p{practitioner.id}", f"p{colleague.id}"}


def test_a_weekly_closure_set_weeks_ago_shades_this_week_at_the_same_local_times(
    as_reception, location, practitioner
):
    """Set in October (British Summer Time) for Wednesdays 12:00–13:00; in December (GMT) it
    still covers 12:00–13:00 on the wall clock."""
    factories.TimeOffFactory(
        location=location,
        start_at=at(12, day=date(2026, 10, 7)),
        end_at=at(13, day=date(2026, 10, 7)),
        repeats="weekly",
        reason="Staff lunch",
    )
    blocks = as_reception.get(f"{API}/calendar/blocks?{RANGE}").json()
    assert {
        "kind": "time_off",
        "resource_id": f"p{practitioner.id}",
        "local_start": "2026-12-02T12:00:00",
        "local_end": "2026-12-02T13:00:00",
        "reason": "Staff lunch",
    } in blocks


def test_reception_books_a_phone_client_into_a_free_slot(
    as_reception, reception, client_person, consultation_service, location, practitioner
):
    response = post(
        as_reception,
        f"{API}/appointments",
        {
            "client_id": client_person.id,
            "service_id": consultation_service.id,
            "practitioner_id": practitioner.id,
            "start": "2026-12-02T14:00:00",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["local_start"] == "2026-12-02T14:00:00"
    appointment = Appointment.objects.get(id=body["id"])
    assert appointment.channel == "staff"
    assert appointment.events.get(kind="booked").actor == reception


def test_booking_a_taken_slot_returns_409_with_alternatives(
    as_reception, consultation, consultation_service, practitioner
):
    response = post(
        as_reception,
        f"{API}/appointments",
        {
            "client_id": factories.ClientFactory().id,
            "service_id": consultation_service.id,
            "practitioner_id": practitioner.id,
            "start": "2026-12-02T10:00:00",
        },
    )
    assert response.status_code == 409
    assert response.json()["error"] == "slot_taken"
    assert response.json()["alternatives"]


def test_booking_a_treatment_without_clearance_is_refused_with_the_reason(
    as_reception, client_person, treatment_service, practitioner
):
    response = post(
        as_reception,
        f"{API}/appointments",
        {
            "client_id": client_person.id,
            "service_id": treatment_service.id,
            "practitioner_id": practitioner.id,
            "start": "2026-12-02T14:00:00",
        },
    )
    assert response.status_code == 409
    assert response.json()["error"] == "consultation_required"


def test_a_practitioner_cannot_book_into_a_colleagues_column(
    as_practitioner, client_person, consultation_service, colleague
):
    response = post(
        as_practitioner,
        f"{API}/appointments",
        {
            "client_id": client_person.id,
            "service_id": consultation_service.id,
            "practitioner_id": colleague.id,
            "start": "2026-12-02T14:00:00",
        },
    )
    assert response.status_code == 403
    assert not Appointment.objects.filter(practitioner=colleague).exists()


def test_rescheduling_moves_the_appointment_and_bumps_its_version(as_reception, consultation):
    response = post(
        as_reception,
        f"{API}/appointments/{consultation.id}/reschedule",
        {"start": "2026-12-02T15:30:00"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["local_start"] == "2026-12-02T15:30:00"
    consultation.refresh_from_db()
    assert consultation.start_at == at(15, 30)
    assert consultation.version == 2


def test_rescheduling_onto_a_taken_time_is_409_and_changes_nothing(
    as_reception, consultation, consultation_service, practitioner
):
    other = services.appointment_book(
        client=factories.ClientFactory(),
        service=consultation_service,
        location=consultation.location,
        start_at=at(12),
        practitioner=practitioner,
    )
    response = post(
        as_reception, f"{API}/appointments/{other.id}/reschedule", {"start": "2026-12-02T10:00:00"}
    )
    assert response.status_code == 409
    other.refresh_from_db()
    assert other.start_at == at(12)


def test_rescheduling_outside_working_hours_is_422(as_reception, consultation):
    response = post(
        as_reception,
        f"{API}/appointments/{consultation.id}/reschedule",
        {"start": "2026-12-02T20:00:00"},
    )
    assert response.status_code == 422
    assert response.json()["error"] == "slot_unavailable"


def test_a_practitioner_cannot_move_a_colleagues_appointment(
    as_practitioner, colleagues_consultation
):
    response = post(
        as_practitioner,
        f"{API}/appointments/{colleagues_consultation.id}/reschedule",
        {"start": "2026-12-02T15:00:00"},
    )
    assert response.status_code == 403


def test_confirm_records_who_did_it(as_reception, reception, consultation):
    response = post(
        as_reception, f"{API}/appointments/{consultation.id}/status", {"action": "confirm"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"
    event = AppointmentEvent.objects.filter(appointment=consultation).last()
    assert (event.to_status, event.actor) == ("confirmed", reception)


def test_cancel_needs_a_reason(as_reception, consultation):
    response = post(
        as_reception, f"{API}/appointments/{consultation.id}/status", {"action": "cancel"}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "reason"
    consultation.refresh_from_db()
    assert consultation.status == "booked"


def test_cancel_with_a_reason_frees_the_slot(as_reception, consultation):
    response = post(
        as_reception,
        f"{API}/appointments/{consultation.id}/status",
        {"action": "cancel", "reason": "Client called: unwell"},
    )
    assert response.status_code == 200
    consultation.refresh_from_db()
    assert consultation.status == "cancelled"
    assert consultation.cancellation_reason == "Client called: unwell"


def test_a_no_show_before_the_start_is_an_illegal_transition(as_reception, consultation):
    response = post(
        as_reception, f"{API}/appointments/{consultation.id}/status", {"action": "no_show"}
    )
    assert response.status_code == 409
    assert response.json()["error"] == "illegal_transition"


def test_arrived_then_completed_after_the_start(as_reception, reception, consultation, clock):
    clock.move_to(at(10, 5))
    as_reception.force_login(reception)  # a day later: yesterday's session has ended
    url = f"{API}/appointments/{consultation.id}/status"
    assert post(as_reception, url, {"action": "arrived"}).json()["status"] == "arrived"
    assert post(as_reception, url, {"action": "completed"}).json()["status"] == "completed"


def test_a_no_show_after_the_start_is_recorded(as_reception, reception, consultation, clock):
    clock.move_to(at(10, 20))
    as_reception.force_login(reception)  # a day later: yesterday's session has ended
    response = post(
        as_reception, f"{API}/appointments/{consultation.id}/status", {"action": "no_show"}
    )
    assert response.json()["status"] == "no_show"


def test_an_unknown_action_is_422_naming_the_field(as_reception, consultation):
    response = post(
        as_reception, f"{API}/appointments/{consultation.id}/status", {"action": "teleport"}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "action"


def test_a_practitioner_cannot_change_a_colleagues_appointment(
    as_practitioner, colleagues_consultation
):
    response = post(
        as_practitioner,
        f"{API}/appointments/{colleagues_consultation.id}/status",
        {"action": "confirm"},
    )
    assert response.status_code == 403


def test_session_writes_need_the_csrf_token(reception, consultation):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(reception)
    response = post(browser, f"{API}/appointments/{consultation.id}/status", {"action": "confirm"})
    assert response.status_code == 403
    consultation.refresh_from_db()
    assert consultation.status == "booked"


def test_a_manager_can_override_an_eligibility_refusal_with_a_written_reason(
    as_manager, manager, client_person, treatment_service, practitioner
):
    response = post(
        as_manager,
        f"{API}/appointments",
        {
            "client_id": client_person.id,
            "service_id": treatment_service.id,
            "practitioner_id": practitioner.id,
            "start": "2026-12-02T14:00:00",
            "override_reason": "Assessed in person by the medical director today",
        },
    )
    assert response.status_code == 201, response.content
    appointment = Appointment.objects.get(id=response.json()["id"])
    assert (appointment.status, appointment.override_by) == ("booked", manager)
    assert appointment.events.filter(kind="override").exists()


def test_reception_cannot_override_an_eligibility_refusal(
    as_reception, client_person, treatment_service, practitioner
):
    response = post(
        as_reception,
        f"{API}/appointments",
        {
            "client_id": client_person.id,
            "service_id": treatment_service.id,
            "practitioner_id": practitioner.id,
            "start": "2026-12-02T14:00:00",
            "override_reason": "Client insisted",
        },
    )
    assert response.status_code == 409
    assert not Appointment.objects.filter(client=client_person).exists()


def test_a_tentative_treatment_can_be_booked_against_an_upcoming_consultation(
    as_reception, consultation, treatment_service, practitioner
):
    response = post(
        as_reception,
        f"{API}/appointments",
        {
            "client_id": consultation.client_id,
            "service_id": treatment_service.id,
            "practitioner_id": practitioner.id,
            "start": "2026-12-09T10:00:00",
            "awaiting_consultation_id": consultation.id,
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending_clearance"
    assert response.json()["awaiting_consultation_id"] == consultation.id


def test_clients_search_and_detail_through_the_api(as_reception, consultation):
    client = consultation.client
    found = as_reception.get(f"{API}/clients?q={client.last_name}").json()
    assert [row["id"] for row in found] == [client.id]
    detail = as_reception.get(f"{API}/clients/{client.id}").json()
    assert detail["client"]["phone"] == client.phone
    assert [row["id"] for row in detail["upcoming"]] == [consultation.id]
    assert detail["consultation"]["outcome"] == "pending"


def test_registering_a_phone_client_through_the_api(as_reception, location):
    response = post(
        as_reception,
        f"{API}/clients",
        {"first_name": "Tess", "phone": "07911 123457", "sms_consent": True},
    )
    assert response.status_code == 201
    assert response.json()["phone"] == "+447911123457"
    assert response.json()["can_receive_sms"] is True


def test_registering_a_client_with_a_bad_phone_names_the_field(as_reception, location):
    response = post(as_reception, f"{API}/clients", {"first_name": "Tess", "phone": "12"})
    assert response.status_code == 422
    assert response.json()["field"] == "phone"


def test_working_hours_stay_at_nine_local_across_the_spring_dst_change(as_reception, practitioner):
    # Europe/London moves to BST on Sunday 28 March 2027.
    blocks = as_reception.get(f"{API}/calendar/blocks?start=2027-03-26&end=2027-03-30").json()
    working = sorted((b["local_start"], b["local_end"]) for b in blocks if b["kind"] == "working")
    assert working == [
        ("2027-03-26T09:00:00", "2027-03-26T17:00:00"),
        ("2027-03-29T09:00:00", "2027-03-29T17:00:00"),
    ]


def test_appointments_after_the_dst_change_show_local_wall_clock_times(
    as_reception, practitioner, consultation_service, location
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    factories.AppointmentFactory(
        service=consultation_service,
        practitioner=practitioner,
        location=location,
        start_at=datetime(2027, 3, 29, 10, tzinfo=ZoneInfo("Europe/London")),
    )
    row = as_reception.get(f"{API}/appointments?start=2027-03-29&end=2027-03-30").json()[0]
    assert row["local_start"] == "2027-03-29T10:00:00"
    assert row["start_at"].startswith("2027-03-29T09:00:00")


def test_the_openapi_document_lists_the_staff_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in [
        "/api/v1/staff/appointments",
        "/api/v1/staff/appointments/{appointment_id}/reschedule",
        "/api/v1/staff/appointments/{appointment_id}/status",
        "/api/v1/staff/appointments/{appointment_id}/messages",
        "/api/v1/staff/calendar/blocks",
        "/api/v1/staff/clients",
        "/api/v1/staff/clients/{client_id}",
        "/api/v1/staff/clients/{client_id}/messages",
    ]:
        assert path in paths


@pytest.fixture
def two_room_consultation(location, room, practitioner, consultation_service):
    """The consultation service done in either of two rooms (the rooms calendar books into one)."""
    second_room = factories.RoomFactory(location=location, name="Room 2")
    consultation_service.rooms.add(room, second_room)
    return second_room


def test_a_booking_from_the_rooms_view_lands_in_the_chosen_room(
    as_reception, client_person, consultation_service, two_room_consultation
):
    response = post(
        as_reception,
        f"{API}/appointments",
        {
            "client_id": client_person.id,
            "service_id": consultation_service.id,
            "room_id": two_room_consultation.id,
            "start": "2026-12-02T14:00:00",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["room_id"] == two_room_consultation.id


def test_an_unknown_room_is_422_naming_room_id(
    as_reception, client_person, consultation_service, two_room_consultation
):
    response = post(
        as_reception,
        f"{API}/appointments",
        {
            "client_id": client_person.id,
            "service_id": consultation_service.id,
            "room_id": 999999,
            "start": "2026-12-02T14:00:00",
        },
    )
    assert response.status_code == 422
    assert response.json()["field"] == "room_id"
    assert not Appointment.objects.exists()


def test_dragging_into_another_room_column_moves_the_room(
    as_reception, client_person, location, room, consultation_service, two_room_consultation
):
    appointment = services.appointment_book(
        client=client_person,
        service=consultation_service,
        location=location,
        start_at=at(14),
        room=room,
    )
    response = post(
        as_reception,
        f"{API}/appointments/{appointment.id}/reschedule",
        {"start": "2026-12-02T15:00:00", "room_id": two_room_consultation.id},
    )
    assert response.status_code == 200, response.content
    assert (response.json()["room_id"], response.json()["local_start"]) == (
        two_room_consultation.id,
        "2026-12-02T15:00:00",
    )
    unknown = post(
        as_reception,
        f"{API}/appointments/{appointment.id}/reschedule",
        {"start": "2026-12-02T16:00:00", "room_id": 999999},
    )
    assert unknown.status_code == 422
    assert unknown.json()["field"] == "room_id"
    appointment.refresh_from_db()
    assert appointment.start_at == at(15)


def test_the_appointment_list_takes_from_and_to_like_every_date_range(as_reception, consultation):
    by_new_names = as_reception.get(f"{API}/appointments?from=2026-12-02&to=2026-12-03")
    by_old_names = as_reception.get(f"{API}/appointments?{RANGE}")

    assert by_new_names.status_code == 200
    assert [row["id"] for row in by_new_names.json()] == [consultation.id]
    assert by_new_names.json() == by_old_names.json()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("to=2026-12-03", "from"),
        ("from=2026-12-03&to=2026-12-01", "to"),
        ("from=2026-01-01&to=2028-01-01", "to"),
        ("from=9999-12-31&to=9999-12-31", "from"),
        ("from=2026-12-01&to=2026-12-02&practitioner=" + "10" * 10, "practitioner"),
        ("from=2026-12-01&to=2026-12-02&location=%C2%B2", "location"),
    ],
)
def test_a_bad_range_or_id_is_422_naming_the_field(as_reception, query, field):
    response = as_reception.get(f"{API}/appointments?{query}")

    assert response.status_code == 422
    assert response.json()["field"] == field


def test_a_status_action_outside_the_enum_is_422(as_reception, consultation):
    response = post(
        as_reception, f"{API}/appointments/{consultation.id}/status", {"action": "teleport"}
    )

    assert response.status_code == 422
    assert response.json()["field"] == "action"


@pytest.mark.parametrize(
    "start", ["9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"]
)
def test_eligibility_at_the_edge_of_the_calendar_is_422(as_reception, client_person, start):
    response = as_reception.get(
        f"{API}/clients/{client_person.id}/eligibility", {"service": 1, "start": start}
    )

    assert response.status_code == 422
    assert response.json()["field"] == "start"


def test_the_desk_actions_are_policy_actions():
    from bookings import policy
    from bookings.services.staff_appointments import StaffAction

    assert set(StaffAction.values) <= set(policy.Action.values)
    assert {policy.Action(value).label for value in StaffAction.values} == set(StaffAction.labels)
