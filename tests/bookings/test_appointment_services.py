from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings import services, signals
from bookings.models import Appointment, AppointmentEvent
from clinic.errors import (
    HoldExpired,
    IllegalTransition,
    NotEligible,
    PolicyViolation,
    SlotTaken,
    SlotUnavailable,
    ValidationFailed,
)
from tests import factories

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=LONDON)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def facial(location, room, practitioner):
    """A treatment that needs no consultation (so these tests are about the calendar only)."""
    service = factories.ServiceFactory(
        name="Hydrating facial", duration_minutes=45, buffer_after_minutes=15
    )
    service.rooms.add(room)
    practitioner.services.add(service)
    return service


def at(hour, minute=0, day=MONDAY):
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def received(signal):
    calls = []

    def receiver(sender, **kwargs):
        calls.append(kwargs)

    signal.connect(receiver, weak=False)
    return calls, lambda: signal.disconnect(receiver)


def test_booking_a_free_slot_places_the_visit_with_buffers_and_announces_it(
    facial, location, practitioner, room, client_person
):
    calls, disconnect = received(signals.appointment_booked)
    try:
        appointment = services.appointment_book(
            client=client_person, service=facial, location=location, start_at=at(10)
        )
    finally:
        disconnect()
    assert appointment.status == "booked"
    assert appointment.practitioner == practitioner
    assert appointment.room == room
    assert appointment.end_at - appointment.start_at == timedelta(minutes=45)
    assert appointment.blocked_end_at - appointment.end_at == timedelta(minutes=15)
    assert calls[0]["appointment"] == appointment
    assert calls[0]["actor_label"] == "client"
    assert AppointmentEvent.objects.filter(
        appointment=appointment, kind="booked", to_status="booked"
    ).exists()


def test_booking_a_taken_slot_is_slot_taken_with_alternatives(facial, location, client_person):
    services.appointment_book(
        client=client_person, service=facial, location=location, start_at=at(10)
    )
    with pytest.raises(SlotTaken) as caught:
        services.appointment_book(
            client=factories.ClientFactory(), service=facial, location=location, start_at=at(10, 30)
        )
    assert caught.value.status == 409
    alternatives = caught.value.extra["alternatives"]
    assert alternatives
    assert all(
        datetime.fromisoformat(a) >= at(11) or datetime.fromisoformat(a) <= at(9, 15)
        for a in alternatives
    )


def test_alternatives_are_searched_only_after_the_booking_transaction_rolled_back(
    facial, location, client_person
):
    """A loser must not hold the booking transaction (and on PostgreSQL the calendar lock)
    while it searches a fortnight for alternatives: the search runs after the rollback."""
    services.appointment_book(
        client=client_person, service=facial, location=location, start_at=at(10)
    )
    with CaptureQueriesContext(connection) as queries, pytest.raises(SlotTaken) as caught:
        services.appointment_book(
            client=factories.ClientFactory(), service=facial, location=location, start_at=at(10)
        )
    assert caught.value.extra["alternatives"]
    statements = [query["sql"] for query in queries.captured_queries]
    # Inside the test's transaction the booking's atomic block is a savepoint.
    rolled_back = max(
        index for index, sql in enumerate(statements) if sql.startswith("ROLLBACK TO SAVEPOINT")
    )
    searches = [index for index, sql in enumerate(statements) if "bookings_appointment" in sql]
    # One slot check inside the transaction, then the alternatives search after it.
    assert searches[0] < rolled_back < searches[-1]
    assert not any(sql.startswith("SAVEPOINT") for sql in statements[rolled_back:]), (
        "the alternatives search must not open a transaction of its own"
    )


def test_start_outside_hours_or_off_grid_is_unavailable_not_taken(facial, location, client_person):
    with pytest.raises(SlotUnavailable, match="not a bookable slot"):
        services.appointment_book(
            client=client_person, service=facial, location=location, start_at=at(7)
        )
    with pytest.raises(SlotUnavailable):
        services.appointment_book(
            client=client_person, service=facial, location=location, start_at=at(10, 7)
        )


def test_past_and_beyond_horizon_are_refused_with_the_field(facial, location, client_person):
    with pytest.raises(SlotUnavailable, match="in the past") as caught:
        services.appointment_book(
            client=client_person,
            service=facial,
            location=location,
            start_at=NOW - timedelta(hours=1),
        )
    assert caught.value.field == "start"
    with pytest.raises(SlotUnavailable, match="days ahead"):
        services.appointment_book(
            client=client_person,
            service=facial,
            location=location,
            start_at=at(10, day=MONDAY + timedelta(days=200)),
        )


def test_naive_start_is_rejected(facial, location, client_person):
    with pytest.raises(ValidationFailed) as caught:
        services.appointment_book(
            client=client_person,
            service=facial,
            location=location,
            start_at=datetime(2026, 12, 7, 10),  # noqa: DTZ001 - naive on purpose
        )
    assert caught.value.field == "start"


def test_a_treatment_needing_consultation_is_refused_without_clearance(
    treatment_service, location, practitioner, client_person
):
    with pytest.raises(NotEligible) as caught:
        services.appointment_book(
            client=client_person, service=treatment_service, location=location, start_at=at(10)
        )
    assert caught.value.code == "consultation_required"
    assert not Appointment.objects.exists()


def test_only_a_manager_can_override_eligibility_and_it_is_audited(
    treatment_service, location, practitioner, client_person, reception, manager
):
    with pytest.raises(NotEligible):
        services.appointment_book(
            client=client_person,
            service=treatment_service,
            location=location,
            start_at=at(10),
            actor=reception,
            channel="staff",
            override_reason="Seen at sister clinic",
        )
    appointment = services.appointment_book(
        client=client_person,
        service=treatment_service,
        location=location,
        start_at=at(10),
        actor=manager,
        channel="staff",
        override_reason="Cleared at our sister clinic last month",
    )
    assert appointment.status == "booked"
    assert appointment.override_by == manager
    event = appointment.events.get(kind="override")
    assert event.reason == "Cleared at our sister clinic last month"
    assert event.details["refusal"] == "consultation_required"
    assert event.actor_label == "staff:mona_manager"


def test_tentative_treatment_waits_for_the_consultation(
    treatment_service, consultation_service, location, practitioner, client_person
):
    consultation = services.appointment_book(
        client=client_person, service=consultation_service, location=location, start_at=at(9)
    )
    with pytest.raises(ValidationFailed, match="24 hours"):
        services.appointment_book(
            client=client_person,
            service=treatment_service,
            location=location,
            start_at=at(14),
            awaiting_consultation=consultation,
        )
    tentative = services.appointment_book(
        client=client_person,
        service=treatment_service,
        location=location,
        start_at=at(10, day=MONDAY + timedelta(days=2)),
        awaiting_consultation=consultation,
    )
    assert tentative.status == "pending_clearance"
    assert tentative.awaiting_consultation == consultation


def test_hold_then_book_converts_the_hold(facial, location, client_person, clock):
    hold = services.appointment_hold(service=facial, location=location, start_at=at(10))
    assert hold.status == "held"
    assert hold.client is None
    assert hold.hold_expires_at == NOW + timedelta(minutes=10)
    with pytest.raises(SlotTaken):
        services.appointment_hold(service=facial, location=location, start_at=at(10))
    booked = services.appointment_book(
        client=client_person, service=facial, location=location, start_at=at(10), hold=hold
    )
    assert booked.pk == hold.pk
    assert booked.status == "booked"
    assert booked.hold_expires_at is None


def test_a_new_booking_is_announced_as_created_and_a_booked_hold_is_not(
    facial, location, client_person
):
    announced = []

    def receiver(sender, *, appointment, **kwargs):
        announced.append((appointment.pk, kwargs.get("created")))

    signals.appointment_booked.connect(receiver, dispatch_uid="test.created")
    try:
        new = services.appointment_book(
            client=client_person, service=facial, location=location, start_at=at(10)
        )
        hold = services.appointment_hold(service=facial, location=location, start_at=at(11))
        services.appointment_book(
            client=client_person, service=facial, location=location, start_at=at(11), hold=hold
        )
    finally:
        signals.appointment_booked.disconnect(dispatch_uid="test.created")
    assert announced == [(new.pk, True), (hold.pk, False)]


def test_an_expired_hold_cannot_be_confirmed_and_never_blocks_anyone(
    facial, location, client_person, clock
):
    hold = services.appointment_hold(service=facial, location=location, start_at=at(10))
    clock.shift(timedelta(minutes=11))
    with pytest.raises(HoldExpired):
        services.appointment_book(
            client=client_person, service=facial, location=location, start_at=at(10), hold=hold
        )
    other = services.appointment_book(
        client=factories.ClientFactory(), service=facial, location=location, start_at=at(10)
    )
    assert other.status == "booked"
    hold.refresh_from_db()
    assert hold.status == "cancelled"
    assert hold.cancellation_reason == "hold expired"


def test_periodic_release_cancels_expired_holds(facial, location, clock):
    services.appointment_hold(service=facial, location=location, start_at=at(10))
    services.appointment_hold(service=facial, location=location, start_at=at(14))
    assert services.holds_release_expired() == 0
    clock.shift(timedelta(minutes=10))
    assert services.holds_release_expired() == 2
    assert Appointment.objects.filter(status="held").count() == 0


def test_reschedule_moves_the_visit_bumps_version_and_frees_the_old_slot(
    facial, location, client_person
):
    appointment = services.appointment_book(
        client=client_person, service=facial, location=location, start_at=at(10)
    )
    services.appointment_confirm(appointment=appointment)
    calls, disconnect = received(signals.appointment_rescheduled)
    try:
        moved = services.appointment_reschedule(appointment=appointment, start_at=at(14))
    finally:
        disconnect()
    assert moved.start_at == at(14)
    assert moved.version == 2
    assert moved.status == "booked", "a moved visit needs confirming again"
    assert calls[0]["previous_start_at"] == at(10)
    assert calls[0]["previous_version"] == 1
    again = services.appointment_book(
        client=factories.ClientFactory(), service=facial, location=location, start_at=at(10)
    )
    assert again.status == "booked"


def test_reschedule_into_its_own_overlapping_time_is_allowed(facial, location, client_person):
    appointment = services.appointment_book(
        client=client_person, service=facial, location=location, start_at=at(10)
    )
    moved = services.appointment_reschedule(appointment=appointment, start_at=at(10, 15))
    assert moved.start_at == at(10, 15)


def test_client_cannot_change_online_after_the_cutoff(facial, location, client_person, clock):
    appointment = services.appointment_book(
        client=client_person, service=facial, location=location, start_at=at(10)
    )
    clock.move_to(at(9, day=MONDAY - timedelta(days=1)) + timedelta(hours=2))
    with pytest.raises(PolicyViolation, match="24 hours"):
        services.appointment_cancel(appointment=appointment, actor_label="client")
    with pytest.raises(PolicyViolation):
        services.appointment_reschedule(
            appointment=appointment, start_at=at(14), actor_label="client"
        )
    cancelled = services.appointment_cancel(
        appointment=appointment, actor_label="system", reason="clinic closed"
    )
    assert cancelled.status == "cancelled"


def test_visit_lifecycle_and_illegal_transitions(facial, location, client_person, reception, clock):
    appointment = services.appointment_book(
        client=client_person, service=facial, location=location, start_at=at(10)
    )
    with pytest.raises(IllegalTransition, match="one hour before"):
        services.appointment_mark_arrived(appointment=appointment, actor=reception)
    with pytest.raises(IllegalTransition, match="after the start"):
        services.appointment_mark_no_show(appointment=appointment, actor=reception)
    with pytest.raises(IllegalTransition):
        services.appointment_complete(appointment=appointment, actor=reception)
    clock.move_to(at(9, 50))
    services.appointment_mark_arrived(appointment=appointment, actor=reception)
    with pytest.raises(IllegalTransition, match="only after its start time"):
        services.appointment_complete(appointment=appointment, actor=reception)
    clock.move_to(at(10, 45))
    with pytest.raises(IllegalTransition, match="Sign the treatment record") as refused:
        services.appointment_complete(appointment=appointment, actor=reception)
    assert refused.value.extra["reason"] == "needs_signed_record"
    factories.sign_treatment_record(appointment)
    completed = services.appointment_complete(appointment=appointment, actor=reception)
    assert completed.status == "completed"
    with pytest.raises(IllegalTransition):
        services.appointment_cancel(appointment=appointment, actor=reception, reason="oops")
    kinds = list(appointment.events.values_list("to_status", flat=True))
    assert kinds == ["booked", "arrived", "completed"]


def test_staff_cancellation_needs_a_reason(facial, location, client_person, reception):
    appointment = services.appointment_book(
        client=client_person, service=facial, location=location, start_at=at(10)
    )
    with pytest.raises(ValidationFailed) as caught:
        services.appointment_cancel(appointment=appointment, actor=reception)
    assert caught.value.field == "reason"
    services.appointment_cancel(
        appointment=appointment, actor=reception, reason="Client phoned: unwell"
    )
    appointment.refresh_from_db()
    assert appointment.cancellation_reason == "Client phoned: unwell"


def test_client_register_normalises_phone_and_records_consent(location):
    client = services.client_register(
        first_name="Amelia",
        last_name="Hart",
        phone="07911 123456",
        sms_consent=True,
        consent_wording="Text me reminders",
        location=location,
    )
    assert client.phone == "+447911123456"
    assert client.sms_consent_wording == "Text me reminders"
    again = services.client_register(
        first_name="Someone", phone="+44 7911 123456", sms_consent=False, location=location
    )
    assert again.pk == client.pk
    assert again.first_name == "Amelia"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "enter your mobile"),
        ("hello", "doesn't look like"),
        ("079111234567", "wrong number of digits"),
        ("02079460000", "mobile"),
    ],
)
def test_bad_phone_numbers_say_why(raw, message, location):
    with pytest.raises(ValidationFailed, match=message) as caught:
        services.client_register(first_name="A", phone=raw, sms_consent=False, location=location)
    assert caught.value.field == "phone"


def test_a_phone_read_again_gives_the_same_answer_and_a_refusal_every_time():
    assert services.normalise_phone(" 07911 123456 ") == "+447911123456"
    assert services.normalise_phone("07911 123456") == "+447911123456"
    assert services.normalise_phone("0412 345 678", region="AU") == "+61412345678"
    for _ in range(2):
        with pytest.raises(ValidationFailed, match="mobile"):
            services.normalise_phone("02079460000")


def test_a_tentative_treatment_cannot_be_moved_closer_than_a_day_after_its_consultation(
    treatment_service, consultation_service, location, practitioner, client_person
):
    consultation = services.appointment_book(
        client=client_person, service=consultation_service, location=location, start_at=at(9)
    )
    tentative = services.appointment_book(
        client=client_person,
        service=treatment_service,
        location=location,
        start_at=at(10, day=MONDAY + timedelta(days=2)),
        awaiting_consultation=consultation,
    )
    with pytest.raises(ValidationFailed, match="24 hours"):
        services.appointment_reschedule(appointment=tentative, start_at=at(14))
    moved = services.appointment_reschedule(
        appointment=tentative, start_at=at(11, day=MONDAY + timedelta(days=3))
    )
    assert moved.status == "pending_clearance"


def test_a_booking_can_ask_for_a_particular_room(facial, location, room, client_person):
    second_room = factories.RoomFactory(location=location, name="Room 2")
    facial.rooms.add(second_room)
    appointment = services.appointment_book(
        client=client_person, service=facial, location=location, start_at=at(10), room=second_room
    )
    assert appointment.room == second_room
    # Without a choice the first free room is used.
    other = services.appointment_book(
        client=factories.ClientFactory(),
        service=facial,
        location=location,
        start_at=at(11),
    )
    assert other.room == room


def test_asking_for_a_busy_room_is_slot_taken_on_the_room_field(
    facial, location, room, practitioner, client_person
):
    second_room = factories.RoomFactory(location=location, name="Room 2")
    facial.rooms.add(second_room)
    colleague = factories.PractitionerFactory()
    colleague.locations.add(location)
    colleague.services.add(facial)
    factories.WorkingHoursFactory(practitioner=colleague, location=location, weekday=0)
    services.appointment_book(
        client=client_person, service=facial, location=location, start_at=at(10), room=room
    )
    with pytest.raises(SlotTaken) as taken:
        services.appointment_book(
            client=factories.ClientFactory(),
            service=facial,
            location=location,
            start_at=at(10),
            room=room,
        )
    assert taken.value.field == "room"
    assert "Room 1 is busy" in str(taken.value)
    assert Appointment.objects.count() == 1


def test_a_room_the_service_does_not_use_is_refused(facial, location, client_person):
    store_room = factories.RoomFactory(location=location, name="Store")
    with pytest.raises(ValidationFailed) as refused:
        services.appointment_book(
            client=client_person,
            service=facial,
            location=location,
            start_at=at(10),
            room=store_room,
        )
    assert refused.value.field == "room"
    assert not Appointment.objects.exists()


def test_reschedule_keeps_the_room_when_it_is_free_and_can_name_another(
    facial, location, room, client_person
):
    second_room = factories.RoomFactory(location=location, name="Room 2")
    facial.rooms.add(second_room)
    appointment = services.appointment_book(
        client=client_person, service=facial, location=location, start_at=at(10), room=second_room
    )
    moved = services.appointment_reschedule(appointment=appointment, start_at=at(12))
    assert moved.room == second_room  # not the first free room
    moved = services.appointment_reschedule(appointment=moved, start_at=at(12), room=room)
    assert (moved.room, moved.start_at, moved.version) == (room, at(12), 3)


def test_a_move_that_keeps_its_room_releases_an_expired_hold_left_there(
    facial, location, room, practitioner, client_person, clock
):
    second_room = factories.RoomFactory(location=location, name="Room 2")
    facial.rooms.add(second_room)
    colleague = factories.PractitionerFactory()
    colleague.locations.add(location)
    colleague.services.add(facial)
    factories.WorkingHoursFactory(practitioner=colleague, location=location, weekday=0)
    appointment = services.appointment_book(
        client=client_person, service=facial, location=location, start_at=at(10), room=second_room
    )
    # A client abandoned a hold on Room 2 at noon (with the colleague); it has since expired.
    abandoned = services.appointment_hold(
        service=facial, location=location, start_at=at(12), practitioner=colleague
    )
    abandoned.room = second_room
    abandoned.save(update_fields=["room"])
    clock.shift(timedelta(minutes=11))

    moved = services.appointment_reschedule(appointment=appointment, start_at=at(12))

    assert moved.room == second_room
    abandoned.refresh_from_db()
    assert (abandoned.status, abandoned.cancellation_reason) == ("cancelled", "hold expired")
