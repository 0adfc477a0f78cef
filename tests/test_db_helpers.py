"""clinic.db: the any_of lookup and one-statement advisory locks."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bookings.models import Client
from clinic.db import lock_for_transaction
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
