"""clinic.migration_operations: dropping indexes without touching foreign keys."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def _schema(table: str) -> tuple[set[str], dict[str, object]]:
    """The table's index names, and each foreign key constraint's identity (its oid on
    PostgreSQL: a constraint dropped and added again gets a new one)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
        keys: dict[str, object] = {
            name: None for name, info in constraints.items() if info["foreign_key"]
        }
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT conname, oid FROM pg_constraint WHERE conrelid = %s::regclass"
                " AND contype = 'f'",
                [table],
            )
            keys = dict(cursor.fetchall())
    indexes = {name for name, info in constraints.items() if info["index"] or info["unique"]}
    return indexes, keys


def _migrate(app: str, name: str) -> None:
    MigrationExecutor(connection).migrate([(app, name)])


def _migrate_to_the_end() -> None:
    """Every app's latest migration: what the other tests expect, even if a later
    migration elsewhere depends on the one migrated back."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


# Migrating back and forth takes seconds: with the integration tests, on PostgreSQL.
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("app", "before", "after", "table", "dropped_on_postgresql", "dropped_on_sqlite"),
    [
        # provider_sid's LIKE twin exists on PostgreSQL only.
        (
            "reminders",
            "0017_message_due_index_orders_by_id",
            "0018_message_fewer_indexes",
            "reminders_message",
            3,
            2,
        ),
        (
            "bookings",
            "0017_appointment_window_by_practitioner_and_room",
            "0018_appointment_keys_indexed_by_composites",
            "bookings_appointment",
            4,
            4,
        ),
    ],
)
def test_an_index_migration_drops_indexes_and_keeps_the_foreign_keys(
    app, before, after, table, dropped_on_postgresql, dropped_on_sqlite
):
    indexes_now, keys_now = _schema(table)
    try:
        _migrate(app, before)
        indexes_before, keys_before = _schema(table)
        _migrate(app, after)
    finally:
        _migrate_to_the_end()
    indexes_after, keys_after = _schema(table)

    assert indexes_after == indexes_now  # what a fresh migrate makes
    dropped = dropped_on_postgresql if connection.vendor == "postgresql" else dropped_on_sqlite
    # Counted, not named: migrating backwards recreates the dropped indexes under new names.
    assert len(indexes_before) - len(indexes_after) == dropped
    assert set(keys_after) == set(keys_before) == set(keys_now)
    if connection.vendor == "postgresql":
        # The same constraints, never dropped and added again (which re-checks every row
        # under an exclusive lock).
        assert keys_after == keys_before
