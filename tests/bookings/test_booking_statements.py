"""What a booking asks the database: each statement is parsed and planned by PostgreSQL, so a
booking's cost is roughly its statement count. These pin the savings (no savepoints on the
API's path, a new client in two statements) and the rules they must keep: a lost race is a
clean 409 with alternatives, a busy client is told which visit is in the way, and a refused
booking leaves the phone proof unspent."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings import courses, services
from bookings.models import Appointment, Client, PhoneVerification
from bookings.services import appointments as appointment_services
from bookings.services import clients as client_services
from clinic.errors import ClientBusy, NotEligible, SlotTaken
from tests import factories
from tests.bookings.test_booking_api import booking_payload

LONDON = ZoneInfo("Europe/London")


def _statements(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in queries.captured_queries]


def _register(phone: str = "07911 123456", **kwargs) -> Client:
    return services.client_register(
        first_name="Amelia", last_name="Hart", phone=phone, sms_consent=True, **kwargs
    )


@pytest.mark.django_db
def test_a_new_client_is_registered_in_two_statements_without_a_savepoint():
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        client = _register(phone_verified=True)

    statements = _statements(queries)
    assert len(statements) == 2, statements  # the lookup, then INSERT ... ON CONFLICT
    assert not any("SAVEPOINT" in sql for sql in statements)
    stored = Client.objects.get(phone="+447911123456")
    assert stored.pk == client.pk
    assert stored.first_name == "Amelia"
    assert stored.sms_consent_at is not None
    assert stored.phone_verified_at is not None
    assert stored.created_at == client.created_at
    assert not client._state.adding


@pytest.mark.django_db
def test_a_known_client_is_found_in_one_statement_and_keeps_their_name():
    known = factories.ClientFactory(phone="+447911123456", first_name="Amy", email="")

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        client = _register(email="amy@example.test")

    assert client.pk == known.pk
    assert client.first_name == "Amy"
    assert [sql.split()[0] for sql in _statements(queries)] == ["SELECT", "UPDATE"]
    assert Client.objects.get().email == "amy@example.test"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_first_bookings_from_one_phone_register_one_client_on_postgresql(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    # Both look the phone up before either inserts: the loser's INSERT then waits for the
    # winner's transaction, inserts nothing, and finds the winner's row.
    real_lookup = client_services._client_locked
    both_looked = threading.Barrier(2, timeout=20)
    looked = threading.local()

    def lookup_then_wait(*, phone):
        found = real_lookup(phone=phone)
        if not getattr(looked, "once", False):
            looked.once = True
            both_looked.wait()
        return found

    monkeypatch.setattr(client_services, "_client_locked", lookup_then_wait)

    def register(_):
        try:
            with transaction.atomic():
                return _register().pk
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        ids = list(pool.map(register, range(2)))

    assert ids[0] == ids[1]
    assert Client.objects.filter(phone="+447911123456").count() == 1


@pytest.fixture
def facial(location, room, practitioner):
    service = factories.ServiceFactory(name="Hydrating facial", duration_minutes=45)
    service.rooms.add(room)
    practitioner.services.add(service)
    return service


def _next_monday_at(hour: int) -> datetime:
    today = timezone.localdate(timezone.now(), LONDON)
    monday = today + timedelta(days=7 - today.weekday())
    return datetime.combine(monday, time(hour), tzinfo=LONDON)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_api_booking_of_a_new_client_takes_no_savepoint_on_postgresql(
    client, facial, location, practitioner
):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    warm_up = booking_payload(
        facial,
        location,
        _next_monday_at(9),
        {"client": {"first_name": "Noah", "phone": "07912 345678"}},
    )
    # The first booking of a process loads what later ones reuse (reminder rules, …).
    warmed = client.post("/api/v1/bookings", warm_up, content_type="application/json")
    assert warmed.status_code == 201, warmed.json()
    payload = booking_payload(
        facial, location, _next_monday_at(10), {"practitioner": practitioner.pk}
    )

    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/bookings", payload, content_type="application/json")

    assert response.status_code == 201, response.json()
    statements = _statements(queries)
    # Three savepoints (two statements each) went: get_or_create's around the client INSERT,
    # appointment_book's own, and the one around the appointment INSERT.
    assert not any("SAVEPOINT" in sql for sql in statements), statements
    assert sum('"bookings_client"' in sql.split(" WHERE ")[0] for sql in statements) == 1
    assert sum("INTO bookings_client" in sql for sql in statements) == 1


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_race_lost_at_the_insert_is_409_with_alternatives_and_leaves_the_proof_unspent(
    client, facial, location, practitioner, monkeypatch
):
    """Without a savepoint the failed INSERT dooms the API's transaction: the alternatives are
    found after it rolled back (searching inside it would be a 500)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    start = _next_monday_at(10)
    factories.AppointmentFactory(
        service=facial, location=location, practitioner=practitioner, start_at=start
    )
    real_slot_at = appointment_services.slot_at

    def slot_at_blind_to_the_winner(**kwargs):
        # As if the winner committed between this booking's check and its write.
        return real_slot_at(**{**kwargs, "include_appointments": False})

    monkeypatch.setattr(appointment_services, "slot_at", slot_at_blind_to_the_winner)
    payload = booking_payload(facial, location, start)

    response = client.post("/api/v1/bookings", payload, content_type="application/json")

    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["error"] == "slot_taken"
    assert body["alternatives"]
    assert Appointment.objects.count() == 1
    assert PhoneVerification.objects.get().used_at is None
    monkeypatch.setattr(appointment_services, "slot_at", real_slot_at)
    retry = {**payload, "start": body["alternatives"][0]}
    booked = client.post("/api/v1/bookings", retry, content_type="application/json")
    assert booked.status_code == 201, booked.json()


@pytest.mark.django_db
def test_a_past_visit_overlapping_the_clients_other_visit_names_it(
    manager, client_person, location, practitioner, treatment_service
):
    """On PostgreSQL the client-overlap constraint refuses it; the visit in the way is named
    once the transaction has rolled back."""
    other_practitioner = factories.PractitionerFactory(display_name="Sam Roe")
    other_practitioner.locations.add(location)
    other_practitioner.services.add(treatment_service)
    start = timezone.now().replace(microsecond=0) - timedelta(days=2)
    other = factories.AppointmentFactory(
        client=client_person,
        service=treatment_service,
        location=location,
        practitioner=other_practitioner,
        start_at=start,
        status=Appointment.Status.COMPLETED,
    )

    with pytest.raises(ClientBusy) as refused:
        appointment_services.appointment_record_past_visit(
            actor=manager,
            client=client_person,
            service=treatment_service,
            location=location,
            start_at=start,
            practitioner=practitioner,
            reason="walk-in nobody entered",
        )

    assert refused.value.extra["appointment_id"] == other.pk
    assert Appointment.objects.filter(client=client_person).count() == 1


def _counts_or_probes_the_clients_visits(statements: list[str]) -> list[str]:
    return [
        sql
        for sql in statements
        if sql.startswith(
            (
                "SELECT COUNT(*) FROM bookings_appointment WHERE client_id",
                "SELECT 1 FROM bookings_appointment WHERE client_id",
            )
        )
    ]


@pytest.mark.django_db
def test_a_new_clients_first_booking_neither_counts_nor_probes_their_visits_and_a_known_one_does(
    client, facial, location, practitioner
):
    """A client registered by the booking's own transaction has no other visits (nobody else
    can book for them before it commits): their limit count and the course's earlier-session
    probe would find nothing, so they are not asked."""
    first = booking_payload(facial, location, _next_monday_at(10))
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/bookings", first, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert _counts_or_probes_the_clients_visits(_statements(queries)) == []

    again = booking_payload(facial, location, _next_monday_at(14))  # the same phone, now known
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/bookings", again, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert len(_counts_or_probes_the_clients_visits(_statements(queries))) == 2
    assert Appointment.objects.filter(client__phone="+447911123456").count() == 2


@pytest.mark.django_db
def test_a_new_client_booked_twice_in_one_transaction_is_counted_and_has_a_course(
    facial, location, practitioner
):
    location.online_upcoming_treatments_limit = 1
    location.save()
    with transaction.atomic():
        new = _register(phone_verified=True)
        assert client_services.client_registered_here_with_no_visits(new)
        booked = services.appointment_book(
            client=new, service=facial, location=location, start_at=_next_monday_at(10)
        )
        assert not courses.is_later_session(appointment=booked)
        assert not client_services.client_registered_here_with_no_visits(new)
        assert client_services.client_registered_here_with_no_visits(new, besides=booked.pk)
        with pytest.raises(NotEligible) as refused:
            services.appointment_book(
                client=new, service=facial, location=location, start_at=_next_monday_at(14)
            )
    assert refused.value.code == "upcoming_limit"
    assert not client_services.client_registered_here_with_no_visits(new)  # committed

    location.online_upcoming_treatments_limit = 2
    location.save()
    with transaction.atomic():
        again = _register(phone="07911 222333")
        first = services.appointment_book(
            client=again, service=facial, location=location, start_at=_next_monday_at(11)
        )
        second = services.appointment_book(
            client=again, service=facial, location=location, start_at=_next_monday_at(15)
        )
        assert not courses.is_later_session(appointment=first)
        assert courses.is_later_session(appointment=second)


@pytest.mark.django_db
def test_a_new_visit_is_inserted_without_save_and_signalled_as_save_would(
    facial, location, practitioner, monkeypatch
):
    """A new visit goes in through insert_rows, not Model.save: the row is what save() writes,
    and save()'s pre_save and post_save signals still reach every receiver (the cached
    availability of the visit's location is retired by one)."""
    client = _register(phone_verified=True)

    def no_save(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a new visit went through Model.save")

    monkeypatch.setattr(Appointment, "save_base", no_save)
    received: list[tuple[str, int | None, bool | None]] = []

    def before(sender, instance, raw, using, update_fields, **kwargs):  # type: ignore[no-untyped-def]
        assert not raw
        assert update_fields is None
        received.append(("pre_save", instance.pk, None))

    def after(sender, instance, created, raw, using, update_fields, **kwargs):  # type: ignore[no-untyped-def]
        assert not raw
        assert update_fields is None
        assert using == "default"
        received.append(("post_save", instance.pk, created))

    pre_save.connect(before, sender=Appointment, dispatch_uid="test.appointment_saving")
    post_save.connect(after, sender=Appointment, dispatch_uid="test.appointment_saved")
    try:
        booked = services.appointment_book(
            client=client, service=facial, location=location, start_at=_next_monday_at(10)
        )
    finally:
        pre_save.disconnect(sender=Appointment, dispatch_uid="test.appointment_saving")
        post_save.disconnect(sender=Appointment, dispatch_uid="test.appointment_saved")
    assert received == [("pre_save", None, None), ("post_save", booked.pk, True)]
    monkeypatch.undo()
    stored = Appointment.objects.get(pk=booked.pk)
    assert not booked._state.adding
    for field in Appointment._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(booked, field.attname), field.name
    assert stored.created_at is not None
    assert stored.updated_at is not None
    assert stored.end_at == stored.start_at + timedelta(minutes=facial.duration_minutes)


@pytest.mark.django_db
def test_a_failed_insert_sends_no_post_save(facial, location, practitioner):
    """A slot lost to another visit raises SlotTaken, and no receiver hears of a saved row."""
    first = services.appointment_book(
        client=_register(phone_verified=True),
        service=facial,
        location=location,
        start_at=_next_monday_at(10),
    )
    saved: list[int] = []

    def after(sender, instance, **kwargs):  # type: ignore[no-untyped-def]
        saved.append(instance.pk)

    post_save.connect(after, sender=Appointment, dispatch_uid="test.appointment_saved")
    try:
        with pytest.raises(SlotTaken):
            services.appointment_book(
                client=_register("07911 222444", phone_verified=True),
                service=facial,
                location=location,
                start_at=first.start_at,
                practitioner=practitioner,
            )
    finally:
        post_save.disconnect(sender=Appointment, dispatch_uid="test.appointment_saved")
    assert saved == []
