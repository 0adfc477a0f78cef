"""Database helpers shared by the apps."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.backends.signals import connection_created
from django.db.models import Field, ForeignObject, Lookup, Model
from django.dispatch import receiver

_Row = TypeVar("_Row", bound=Model)


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


def placeholders(count: int) -> str:
    """``%s, %s, …``: one placeholder per value, for a statement written once per process."""
    return ", ".join(["%s"] * count)


def first_row(model: type[_Row], sql: str, params: Sequence[Any]) -> _Row | None:
    """The first ``model`` row of a fixed statement (through ``raw()``, so values are converted
    as the ORM would), or None."""
    return next(iter(model._default_manager.raw(sql, params)), None)


def any_of_sql(column: str) -> str:
    """SQL saying ``column`` is one of the values in one parameter made by ``array_parameter``:
    the raw-SQL twin of ``any_of``, with a text that does not depend on how many values."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)"
    return f"{column} IN (SELECT value FROM json_each(%s))"  # noqa: S608 - a column name


def array_parameter(values: Iterable[int | str]) -> Any:
    """The one parameter ``any_of_sql`` reads: an array on PostgreSQL, JSON on SQLite."""
    values = list(values)
    return values if connection.vendor == "postgresql" else json.dumps(values)


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


@cache
def _timestamptz_loader(zone: Any) -> type:
    """A timestamptz loader that parses in the driver's compiled code and stamps ``zone``.

    Django registers its own loader for PostgreSQL's timestamptz (to stamp the connection's
    time zone on every value), a subclass of psycopg's pure-Python one: each value read then
    costs about 10 µs of regular-expression parsing instead of well under one, and a claim of
    100 outbox rows or a booking reads hundreds of them. The compiled loader cannot be
    subclassed, so this one delegates to it and only stamps the zone, as Django's does. The
    ``timezone`` attribute is what Django compares when it opens a cursor: equal, it keeps
    this loader rather than registering its own again on the cursor.
    """
    from psycopg import abc, adapters, postgres
    from psycopg.adapt import Loader
    from psycopg.pq import Format

    oid = postgres.types["timestamptz"].oid
    # The global map holds psycopg's loader, replaced by the compiled one where installed.
    registered = adapters.get_loader(oid, Format.TEXT)
    assert registered is not None  # psycopg registers one at import
    compiled: type[abc.Loader] = registered

    class CompiledTimestamptzLoader(Loader):
        timezone = zone

        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._parse = compiled(oid, context).load

        def load(self, data: Any) -> Any:
            return self._parse(data).replace(tzinfo=zone)

    return CompiledTimestamptzLoader


@receiver(connection_created)
def use_compiled_timestamptz_loader(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor != "postgresql":
        return
    connection.connection.adapters.register_loader(
        "timestamptz", _timestamptz_loader(connection.timezone)
    )
