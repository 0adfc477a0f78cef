"""The outbox's indexes: every key a cascade or a query looks rows up by has one, nothing is
indexed twice, and the partial ones serve the lookups they are for. A booking inserts about
eight outbox rows and a dispatch claim rewrites a batch of 100: each index is a write per row.
"""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ForeignKey
from django.utils import timezone

from reminders.models import Message
from tests import factories

pytestmark = pytest.mark.django_db


def _indexes() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Message._meta.db_table)
    return {
        name: info["columns"]
        for name, info in constraints.items()
        if info["index"] or info["unique"] or info["primary_key"]
        if info["columns"]
    }


def test_every_key_of_the_outbox_leads_an_index_for_cascades_and_lookups():
    leading = {columns[0] for columns in _indexes().values()}

    keys = [f.column for f in Message._meta.concrete_fields if isinstance(f, ForeignKey)]
    assert set(keys) <= leading, set(keys) - leading


def test_no_outbox_index_is_the_leading_columns_of_another():
    indexes = _indexes()

    covered = [
        (name, other)
        for name, columns in indexes.items()
        for other, wider in indexes.items()
        if name != other
        and len(columns) < len(wider)
        and wider[: len(columns)] == columns
        and not name.endswith(("_pkey", "_key", "_unique"))  # a uniqueness rule, not a lookup
    ]
    assert covered == []


def test_a_provider_sid_is_unique_but_any_number_of_rows_have_none():
    client = factories.ClientFactory()

    def message(sid: str | None) -> Message:
        return Message.objects.create(
            client=client, category="adhoc", to=client.phone, body="x", due_at=timezone.now(),
            provider_sid=sid,
        )  # fmt: skip

    message("SM1")
    message(None)
    message(None)
    with pytest.raises(IntegrityError), transaction.atomic():
        message("SM1")
    assert Message.objects.filter(client=client).count() == 3


@pytest.mark.integration
def test_on_postgresql_the_partial_key_indexes_serve_the_set_null_and_retry_lookups():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    plans = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for statement in (
            # Django's SET_NULL when a user, a retried message or a recall recipient is deleted.
            "UPDATE reminders_message SET created_by_id = NULL WHERE created_by_id IN (1, 2)",
            "UPDATE reminders_message SET retry_of_id = NULL WHERE retry_of_id IN (1, 2)",
            "UPDATE reminders_message SET recall_recipient_id = NULL"
            " WHERE recall_recipient_id IN (1, 2)",
            # retried_message_ids: a join on the key, not a constant.
            "SELECT retry_of_id FROM reminders_message WHERE retry_of_id IN"
            " (SELECT id FROM reminders_message WHERE status = 'failed' AND client_id = 1)",
            "SELECT id FROM reminders_message WHERE provider_sid = 'SM1'",
        ):
            cursor.execute(f"EXPLAIN {statement}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
        transaction.set_rollback(True)

    assert "message_created_by_idx" in plans[0]
    assert "message_retry_of_idx" in plans[1]
    assert "message_recall_recipient_idx" in plans[2]
    assert "message_retry_of_idx" in plans[3]
    assert "message_provider_sid_unique" in plans[4]
