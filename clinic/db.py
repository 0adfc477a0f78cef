"""Database helpers shared by the apps."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, connections
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


def column_list(model: type[Model], *, table: str | None = None) -> str:
    """The model's columns, quoted (and qualified by ``table`` when given), for a fixed
    statement's select list. Named rather than ``*``: a prepared ``SELECT *`` fails ("cached
    plan must not change result type") in a process that outlives a migration adding a column."""
    quote = connection.ops.quote_name
    prefix = f"{table}." if table else ""
    return ", ".join(f"{prefix}{quote(field.column)}" for field in model._meta.concrete_fields)


def placeholders(count: int) -> str:
    """``%s, %s, …``: one placeholder per value, for a statement written once per process."""
    return ", ".join(["%s"] * count)


class _RowReader:
    """Turns one statement's rows into ``model`` instances as ``raw()`` does: model fields by
    column name, each converted as the ORM converts it, other columns set as attributes.

    ``raw()`` works all of this out again for every call (the columns' fields, their
    converters, the order the model's ``__init__`` wants), which on the booking path cost more
    CPU than running the statement. A reader is made once per connection, model and column
    list, and then only converts values."""

    def __init__(self, connection: Any, model: type[Model], columns: tuple[str, ...]) -> None:
        name_of = connection.introspection.identifier_converter
        position = {name: index for index, name in enumerate(columns)}
        fields = [f for f in model._meta.fields if name_of(f.column) in position]
        if model._meta.pk.attname not in {f.attname for f in fields}:
            raise FieldDoesNotExist("Raw query must include the primary key")
        self.model = model
        self.alias = connection.alias
        self.names = [f.attname for f in fields]
        self.positions = [position[name_of(f.column)] for f in fields]
        known = {name_of(f.column) for f in fields}
        self.annotations = [(name, index) for name, index in position.items() if name not in known]
        self.converters: list[tuple[int, list[Any], Any]] = []
        for field in fields:
            column = field.get_col(model._meta.db_table)
            functions = [
                *connection.ops.get_db_converters(column),
                *column.get_db_converters(connection),
            ]
            if functions:
                self.converters.append((position[name_of(field.column)], functions, column))
        self.connection = connection

    def instance(self, row: Sequence[Any]) -> Any:
        values = list(row)
        for index, functions, column in self.converters:
            value = values[index]
            for function in functions:
                value = function(value, column, self.connection)
            values[index] = value
        instance = self.model.from_db(self.alias, self.names, [values[i] for i in self.positions])
        for name, index in self.annotations:
            setattr(instance, name, values[index])
        return instance


# Per connection (a converter may be a method of the connection's own operations) and
# statement: a fixed statement's text decides its columns, and asking the driver for them
# (``cursor.description``) costs about a third of reading a 20-column row.
_readers: WeakKeyDictionary[Any, dict[tuple[type[Model], str], _RowReader]] = WeakKeyDictionary()


def _execute(model: type[Model], sql: str, params: Sequence[Any], *, one: bool) -> list[Any]:
    wrapper = connections[model._default_manager.db]
    # The same parameter adaptation as raw(): an aware datetime becomes what the database
    # compares with.
    adapt = wrapper.ops.adapt_unknown_value
    readers = _readers.setdefault(wrapper, {})
    with wrapper.cursor() as cursor:
        cursor.execute(sql, [adapt(value) for value in params])
        if one:
            row = cursor.fetchone()
            rows = [] if row is None else [row]
        else:
            rows = cursor.fetchall()
        if not rows:
            return []
        reader = readers.get((model, sql))
        if reader is None:
            columns = tuple(column[0] for column in cursor.description)
            reader = readers[model, sql] = _RowReader(wrapper, model, columns)
    return [reader.instance(row) for row in rows]


def model_rows(model: type[_Row], sql: str, params: Sequence[Any]) -> list[_Row]:
    """The ``model`` rows of a fixed statement, converted as ``raw()`` converts them (columns
    that are not the model's fields become attributes), without ``raw()``'s per-call setup."""
    return _execute(model, sql, params, one=False)


def first_row(model: type[_Row], sql: str, params: Sequence[Any]) -> _Row | None:
    """The first ``model`` row of a fixed statement, as ``model_rows`` reads it, or None."""
    rows = _execute(model, sql, params, one=True)
    return rows[0] if rows else None


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
