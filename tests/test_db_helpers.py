"""clinic.db: the any_of lookup and one-statement advisory locks."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bookings.models import Client
from clinic.db import any_of_sql, array_parameter, lock_for_transaction
from tests import factories

pytestmark = pytest.mark.django_db


def test_any_of_finds_what_in_finds_for_fields_and_relations():
    clients = [factories.ClientFactory() for _ in range(3)]
    wanted = [clients[0].pk, clients[2].pk]

    assert set(Client.objects.filter(pk__any_of=wanted)) == set(
        Client.objects.filter(pk__in=wanted)
    )
    assert list(Client.objects.filter(pk__any_of=[])) == []
    visit = factories.AppointmentFactory(client=clients[1])
    assert list(type(visit).objects.filter(client_id__any_of=[clients[1].pk])) == [visit]


def _ids_matching(column: str, values: list) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM bookings_client WHERE {any_of_sql(column)} ORDER BY id",  # noqa: S608
            [array_parameter(values)],
        )
        return [row[0] for row in cursor.fetchall()]


def test_any_of_sql_reads_every_value_from_one_parameter_on_this_database():
    clients = [factories.ClientFactory(first_name=name) for name in ("Ann", 'O"Neil', "Bo,b")]

    assert _ids_matching("id", [clients[0].pk, clients[2].pk]) == [clients[0].pk, clients[2].pk]
    assert _ids_matching("first_name", ['O"Neil', "Bo,b"]) == [clients[1].pk, clients[2].pk]
    assert _ids_matching("id", []) == []


@pytest.mark.integration
def test_on_postgresql_any_of_sql_takes_an_array():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    test_any_of_sql_reads_every_value_from_one_parameter_on_this_database()


@pytest.mark.integration
def test_on_postgresql_any_of_sends_one_array_and_locks_take_one_statement():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    clients = [factories.ClientFactory() for _ in range(3)]
    with CaptureQueriesContext(connection) as queries:
        found = set(Client.objects.filter(pk__any_of=[c.pk for c in clients]))
        with transaction.atomic():
            lock_for_transaction("b", "a", "c")

    assert found == set(clients)
    assert "= ANY(" in queries[0]["sql"]
    assert sum("pg_advisory_xact_lock" in q["sql"] for q in queries) == 1


@pytest.mark.integration
def test_on_postgresql_timestamps_are_parsed_by_the_compiled_loader_and_read_back_exactly():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from psycopg import postgres
    from psycopg.pq import Format

    written = [
        datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),  # London's spring-forward edge
        # The second 01:30 of New York's fall-back night (written as UTC: Python never calls an
        # ambiguous local time equal to anything in another zone).
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 0, tzinfo=ZoneInfo("Pacific/Chatham")),  # a +13:45 offset
    ]
    clients = [factories.ClientFactory(sms_consent_at=moment) for moment in written]

    with connection.cursor() as cursor:  # Django checks the loader's zone on every cursor
        loader = cursor.cursor.adapters.get_loader(postgres.types["timestamptz"].oid, Format.TEXT)
        cursor.execute(
            "SELECT sms_consent_at FROM bookings_client WHERE id = ANY(%s) ORDER BY id",
            [[client.pk for client in clients]],
        )
        read = [row[0] for row in cursor.fetchall()]

    assert loader.__name__ == "CompiledTimestamptzLoader"
    assert read == written
    assert all(moment.tzinfo is connection.timezone for moment in read)
    assert [
        c.sms_consent_at
        for c in Client.objects.filter(pk__any_of=[c.pk for c in clients]).order_by("pk")
    ] == written
    assert read[0] + timedelta(microseconds=1) == datetime(2026, 3, 29, 1, tzinfo=UTC)
