"""One client, one place: a client never holds two overlapping active appointments, whichever
interface books them (buffers excluded, holds and tentative bookings included)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bookings import services
from bookings.models import Appointment
from clinic.errors import ClientBusy
from tests import factories
from tests.bookings.test_booking_api import booking_payload

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2026, 12, 7)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime(2026, 12, 1, 8, 0, tzinfo=LONDON), tick=False):
        yield


def at(hour, minute=0):
    return datetime.combine(MONDAY, time(hour, minute), tzinfo=LONDON)


@pytest.fixture
def facial(location, room, practitioner):
    service = factories.ServiceFactory(
        name="Hydrating facial", duration_minutes=45, buffer_after_minutes=15
    )
    service.rooms.add(room)
    practitioner.services.add(service)
    return service


@pytest.fixture
def second_practitioner(location, facial, consultation_service):
    other = factories.PractitionerFactory(display_name="Sam Roe")
    other.locations.add(location)
    other.services.add(facial, consultation_service)
    factories.WorkingHoursFactory(
        practitioner=other, location=location, weekday=0, start_time=time(9), end_time=time(17)
    )
    return other


@pytest.fixture
def second_room(location, facial):
    room = factories.RoomFactory(location=location, name="Room 2")
    facial.rooms.add(room)
    return room


def _book(client_person, service, location, start_at, **kwargs):
    return services.appointment_book(
        client=client_person, service=service, location=location, start_at=start_at, **kwargs
    )


def test_the_same_client_cannot_be_booked_with_two_practitioners_at_once(
    client_person, facial, location, practitioner, second_practitioner, second_room
):
    first = _book(client_person, facial, location, at(15), practitioner=practitioner)

    with pytest.raises(ClientBusy) as refused:
        _book(client_person, facial, location, at(15), practitioner=second_practitioner)

    assert refused.value.code == "client_busy"
    assert refused.value.status == 409
    assert refused.value.extra["appointment_id"] == first.pk
    assert "15:00" in refused.value.message
    assert Appointment.objects.count() == 1


def test_a_treatment_cannot_overlap_the_clients_own_consultation(
    client_person, facial, consultation_service, location, practitioner, second_practitioner
):
    consultation = _book(
        client_person, consultation_service, location, at(11), practitioner=second_practitioner
    )

    with pytest.raises(ClientBusy) as refused:
        _book(client_person, facial, location, at(10, 45), practitioner=practitioner)

    assert refused.value.extra["appointment_id"] == consultation.pk


def test_back_to_back_visits_are_fine_because_buffers_do_not_count(
    client_person, facial, consultation_service, location, practitioner, second_practitioner
):
    _book(client_person, facial, location, at(10), practitioner=practitioner)  # 10:00–10:45

    # The facial's 15-minute clean-up buffer is the room's and practitioner's, not the client's.
    _book(
        client_person, consultation_service, location, at(10, 45), practitioner=second_practitioner
    )

    assert Appointment.objects.filter(client=client_person).count() == 2


def test_a_cancelled_appointment_leaves_the_client_free(
    client_person, facial, location, practitioner, second_practitioner, second_room
):
    first = _book(client_person, facial, location, at(15), practitioner=practitioner)
    services.appointment_cancel(appointment=first, reason="changed plans", actor_label="system")

    _book(client_person, facial, location, at(15), practitioner=second_practitioner)


def test_a_tentative_booking_counts_as_occupying_the_client(
    client_person, facial, location, practitioner, second_practitioner, second_room
):
    factories.AppointmentFactory(
        client=client_person,
        service=facial,
        location=location,
        practitioner=second_practitioner,
        start_at=at(15, 30),
        status=Appointment.Status.PENDING_CLEARANCE,
    )

    with pytest.raises(ClientBusy):
        _book(client_person, facial, location, at(15), practitioner=practitioner)


def test_a_reschedule_onto_the_clients_other_visit_is_refused_and_changes_nothing(
    client_person, facial, location, practitioner, second_practitioner, second_room
):
    _book(client_person, facial, location, at(15), practitioner=practitioner)
    moving = _book(client_person, facial, location, at(11), practitioner=second_practitioner)

    with pytest.raises(ClientBusy):
        services.appointment_reschedule(
            appointment=moving, start_at=at(15, 15), actor_label="system"
        )

    moving.refresh_from_db()
    assert moving.start_at == at(11)
    assert moving.version == 1


def test_a_reschedule_overlapping_only_its_own_old_time_is_fine(
    client_person, facial, location, practitioner
):
    moving = _book(client_person, facial, location, at(11), practitioner=practitioner)

    services.appointment_reschedule(appointment=moving, start_at=at(11, 30), actor_label="system")


def test_the_booking_api_answers_409_client_busy_naming_the_other_appointment(
    client, facial, location, practitioner, second_practitioner, second_room
):
    first = client.post(
        "/api/v1/bookings",
        booking_payload(facial, location, at(15), {"practitioner": practitioner.pk}),
        content_type="application/json",
    )
    assert first.status_code == 201, first.json()

    response = client.post(
        "/api/v1/bookings",
        booking_payload(facial, location, at(15), {"practitioner": second_practitioner.pk}),
        content_type="application/json",
    )

    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "client_busy"
    assert body["field"] == "start"
    assert body["appointment_id"] == first.json()["appointment"]["id"]
    assert Appointment.objects.count() == 1


# -- the time picker does not offer what would be refused -----------------------------------


def _starts(slots):
    return [slot.start_at.astimezone(LONDON).strftime("%H:%M") for slot in slots]


def test_free_slots_for_a_known_client_leave_out_times_overlapping_their_own_visits(
    client_person, facial, location, practitioner, second_practitioner, second_room
):
    from bookings.availability import free_slots

    _book(client_person, facial, location, at(11), practitioner=practitioner)  # 11:00-11:45

    anyone = _starts(
        free_slots(service=facial, location=location, start_date=MONDAY, end_date=MONDAY)
    )
    theirs = _starts(
        free_slots(
            service=facial,
            location=location,
            start_date=MONDAY,
            end_date=MONDAY,
            client_id=client_person.pk,
        )
    )

    assert "11:00" in anyone  # Sam is free then
    # Buffers excluded: a 45-minute visit may end as theirs starts, or start as it ends.
    assert "10:15" in theirs
    assert "11:45" in theirs
    for overlapping in ("10:30", "10:45", "11:00", "11:15", "11:30"):
        assert overlapping not in theirs
    assert set(theirs) <= set(anyone)
    other = factories.ClientFactory()
    assert (
        _starts(
            free_slots(
                service=facial,
                location=location,
                start_date=MONDAY,
                end_date=MONDAY,
                client_id=other.pk,
            )
        )
        == anyone
    )


def test_a_moved_visit_does_not_block_itself_and_a_hold_never_blocks(
    client_person, facial, location, practitioner, second_practitioner, second_room
):
    from bookings.availability import free_slots

    visit = _book(client_person, facial, location, at(11), practitioner=practitioner)
    factories.AppointmentFactory(
        client=client_person,
        service=facial,
        location=location,
        practitioner=second_practitioner,
        start_at=at(14),
        status=Appointment.Status.HELD,
        hold_expires_at=at(9),  # live: "now" is the Tuesday before
    )

    times = _starts(
        free_slots(
            service=facial,
            location=location,
            start_date=MONDAY,
            end_date=MONDAY,
            client_id=client_person.pk,
            ignore_appointment_id=visit.pk,
        )
    )

    assert "11:00" in times
    assert "14:00" in times  # the hold is the booking in progress, replaced when they pick


def test_a_known_client_cannot_cancel_themselves_out_with_another_location(
    client_person, facial, location, practitioner, second_practitioner, second_room
):
    """Their visit elsewhere counts too: one client, one place."""
    from bookings.availability import free_slots

    elsewhere = factories.LocationFactory(name="Northside")
    factories.AppointmentFactory(
        client=client_person, location=elsewhere, start_at=at(11), status=Appointment.Status.BOOKED
    )

    times = _starts(
        free_slots(
            service=facial,
            location=location,
            start_date=MONDAY,
            end_date=MONDAY,
            client_id=client_person.pk,
        )
    )

    assert "11:00" not in times
    assert "12:00" in times
