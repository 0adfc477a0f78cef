"""What a booking asks the database: each statement is parsed and planned by PostgreSQL, so a
booking's cost is roughly its statement count. These pin the savings (a new client in two
statements) and the rules they must keep (one client per phone, however they race)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bookings import services
from bookings.models import Client
from bookings.services import clients as client_services
from tests import factories


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
