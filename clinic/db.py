"""Database helpers shared by the apps."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Field, ForeignObject, Lookup


def lock_for_transaction(*names: str) -> None:
    """Serialise transactions that touch the same named things, until the current one ends.

    On PostgreSQL this takes a transaction-scoped advisory lock per name, always in sorted order
    so that two transactions asking for overlapping sets cannot wait on each other in a cycle.
    SQLite needs nothing: its ``BEGIN IMMEDIATE`` transactions (settings) already serialise
    writers. Must be called inside ``transaction.atomic()``.
    """
    if connection.vendor != "postgresql":
        return
    ordered = sorted(set(names))
    if not ordered:
        return
    # One round trip: PostgreSQL evaluates a select list left to right, so the locks are still
    # taken one after another in sorted order.
    calls = ", ".join(["pg_advisory_xact_lock(hashtext(%s))"] * len(ordered))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {calls}", ordered)  # noqa: S608 - only placeholders are joined


@ForeignObject.register_lookup  # relations keep their own lookups (client_id__any_of)
@Field.register_lookup
class AnyOf(Lookup):
    """``field__any_of=[...]``: the same rows as ``__in``, sent to PostgreSQL as one array
    parameter (``= ANY(%s)``) instead of one placeholder per value. The driver's client-side
    binding splits a query text at every placeholder, which for a batch of 100 ids cost more
    than running the statement. Other databases get ``IN (…)``."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        return [self.lhs.output_field.get_prep_value(value) for value in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if not values:
            return "1 = 0", list(lhs_params)
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]
