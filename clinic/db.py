"""Database helpers shared by the apps."""

from __future__ import annotations

from django.db import connection


def lock_for_transaction(*names: str) -> None:
    """Serialise transactions that touch the same named things, until the current one ends.

    On PostgreSQL this takes a transaction-scoped advisory lock per name, always in sorted order
    so that two transactions asking for overlapping sets cannot wait on each other in a cycle.
    SQLite needs nothing: its ``BEGIN IMMEDIATE`` transactions (settings) already serialise
    writers. Must be called inside ``transaction.atomic()``.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name in sorted(set(names)):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])
