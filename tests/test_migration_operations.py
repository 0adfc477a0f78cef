"""clinic.migration_operations: dropping indexes without touching foreign keys."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = ("reminders", "0017_message_due_index_orders_by_id")
AFTER = ("reminders", "0018_message_fewer_indexes")


def _outbox_schema() -> tuple[set[str], dict[str, object]]:
    """The outbox's index names, and each foreign key constraint's identity (its oid on
    PostgreSQL: a constraint dropped and added again gets a new one)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "reminders_message")
        keys: dict[str, object] = {
            name: None for name, info in constraints.items() if info["foreign_key"]
        }
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT conname, oid FROM pg_constraint"
                " WHERE conrelid = 'reminders_message'::regclass AND contype = 'f'"
            )
            keys = dict(cursor.fetchall())
    indexes = {name for name, info in constraints.items() if info["index"] or info["unique"]}
    return indexes, keys


def _migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([target])


# Migrating back and forth takes seconds: with the integration tests, on PostgreSQL.
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_outbox_loses_its_redundant_indexes_and_keeps_its_foreign_keys():
    indexes_now, keys_now = _outbox_schema()
    try:
        _migrate(BEFORE)
        indexes_before, keys_before = _outbox_schema()
        _migrate(AFTER)
    finally:
        _migrate(AFTER)  # leave the schema as the other tests expect it
    indexes_after, keys_after = _outbox_schema()

    assert indexes_after == indexes_now
    # 17 -> 14 on PostgreSQL; SQLite has no LIKE twin of provider_sid's index to drop.
    assert len(indexes_before) - len(indexes_after) == (
        3 if connection.vendor == "postgresql" else 2
    )
    assert {"message_provider_sid_unique", "message_retry_of_idx"} <= indexes_after
    assert set(keys_after) == set(keys_before) == set(keys_now)
    if connection.vendor == "postgresql":
        # The same constraints, never dropped and added again (which re-checks every row
        # under an exclusive lock).
        assert keys_after == keys_before
