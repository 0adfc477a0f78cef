"""Database helpers shared by the apps."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from functools import cache
from operator import attrgetter
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

import orjson
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    EmailField,
    Field,
    ForeignKey,
    ForeignObject,
    IntegerField,
    Lookup,
    Model,
    OneToOneField,
    PositiveBigIntegerField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    SlugField,
    SmallAutoField,
    SmallIntegerField,
    TextField,
    TimeField,
    URLField,
)
from django.db.models.base import ModelState
from django.db.models.fields import AutoFieldMixin
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, post_save, pre_init, pre_save
from django.dispatch import receiver

_Row = TypeVar("_Row", bound=Model)


def lock_for_transaction(*names: str, then_exists: tuple[str, Sequence[Any]] | None = None) -> bool:
    """Serialise transactions that touch the same named things, until the current one ends.

    On PostgreSQL this takes a transaction-scoped advisory lock per name, always in sorted order
    so that two transactions asking for overlapping sets cannot wait on each other in a cycle.
    SQLite needs nothing: its ``BEGIN IMMEDIATE`` transactions (settings) already serialise
    writers. Must be called inside ``transaction.atomic()``.

    ``then_exists`` (a fixed SELECT and its database-ready parameters) is asked in the same
    round trip, once the locks are held: the answer is whether it finds a row (False without
    it). Like any one statement it reads the database as it was when the statement began.
    """
    ordered = sorted(set(names)) if connection.vendor == "postgresql" else []
    if not ordered and then_exists is None:
        return False
    # One round trip: PostgreSQL evaluates a select list left to right, so the locks are still
    # taken one after another in sorted order, and the question is asked after them.
    parts = ["pg_advisory_xact_lock(hashtext(%s))"] * len(ordered)
    params: list[Any] = list(ordered)
    if then_exists is not None:
        question, question_params = then_exists
        parts.append(f"EXISTS ({question})")
        params += question_params
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)  # noqa: S608 - fixed parts
        row = cursor.fetchone()
    return then_exists is not None and bool(row[-1])


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
        self.pk_index = self.names.index(model._meta.pk.attname)
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

        self.plain = _builds_plainly(model)

    def instances(self, rows: Sequence[Sequence[Any]]) -> list[Any]:
        model, alias, names, positions = self.model, self.alias, self.names, self.positions
        # Checked per statement rather than once: a receiver may be connected at any time.
        plain = self.plain and not (pre_init.has_listeners(model) or post_init.has_listeners(model))
        instances = []
        for row in rows:
            values = list(row)
            for index, functions, column in self.converters:
                value = values[index]
                for function in functions:
                    value = function(value, column, self.connection)
                values[index] = value
            if plain:
                # What from_db ends with, without Model.__init__'s walk over every field and
                # its two signal sends: the values straight into the instance's __dict__,
                # where each field's descriptor reads them (see _builds_plainly).
                instance = model.__new__(model)
                state = instance._state = ModelState()
                state.adding, state.db = False, alias
                instance.__dict__.update(zip(names, [values[i] for i in positions], strict=True))
            else:
                instance = model.from_db(alias, names, [values[i] for i in positions])
            for name, index in self.annotations:
                setattr(instance, name, values[index])
            instances.append(instance)
        return instances


@cache
def _builds_plainly(model: type[Model]) -> bool:
    """Whether ``model.from_db`` only sets each field's value as a plain attribute: neither it
    nor ``__init__`` is the model's own, and every field's attribute is Django's plain one
    (a file or a custom field's descriptor does more on assignment, so such a model goes
    through ``from_db``). A key's attribute only drops a cached related object on assignment,
    and a new instance has none."""
    if model.__init__ is not Model.__init__ or model.from_db.__func__ is not Model.from_db.__func__:  # type: ignore[attr-defined]
        return False
    plain = {DeferredAttribute, ForeignKeyDeferredAttribute}
    return all(
        type(inspect.getattr_static(model, field.attname, None)) in plain
        for field in model._meta.concrete_fields
    )


# Per connection (a converter may be a method of the connection's own operations) and
# statement: a fixed statement's text decides its columns, and asking the driver for them
# (``cursor.description``) costs about a third of reading a 20-column row.
_readers: WeakKeyDictionary[Any, dict[tuple[type[Model], str], _RowReader]] = WeakKeyDictionary()


def _fetch(
    wrapper: BaseDatabaseWrapper, sql: str, params: Sequence[Any], *, one: bool
) -> tuple[list[Any], tuple[str, ...]]:
    """The rows of a fixed statement (only the first when ``one``) and its column names."""
    # The same parameter adaptation as raw(): an aware datetime becomes what the database
    # compares with.
    adapt = wrapper.ops.adapt_unknown_value
    with wrapper.cursor() as cursor:
        cursor.execute(sql, [adapt(value) for value in params])
        if one:
            row = cursor.fetchone()
            rows = [] if row is None else [row]
        else:
            rows = cursor.fetchall()
        names = tuple(column[0] for column in cursor.description) if rows else ()
    return rows, names


def _execute(model: type[Model], sql: str, params: Sequence[Any], *, one: bool) -> list[Any]:
    wrapper = connections[model._default_manager.db]
    rows, names = _fetch(wrapper, sql, params, one=one)
    if not rows:
        return []
    readers = _readers.setdefault(wrapper, {})
    reader = readers.get((model, sql))
    if reader is None:
        reader = readers[model, sql] = _RowReader(wrapper, model, names)
    return reader.instances(rows)


def model_rows(model: type[_Row], sql: str, params: Sequence[Any]) -> list[_Row]:
    """The ``model`` rows of a fixed statement, converted as ``raw()`` converts them (columns
    that are not the model's fields become attributes), without ``raw()``'s per-call setup."""
    return _execute(model, sql, params, one=False)


def first_row(model: type[_Row], sql: str, params: Sequence[Any]) -> _Row | None:
    """The first ``model`` row of a fixed statement, as ``model_rows`` reads it, or None."""
    rows = _execute(model, sql, params, one=True)
    return rows[0] if rows else None


def joined_first_row(
    models: Sequence[type[Model]], sql: str, params: Sequence[Any]
) -> tuple[Any, ...] | None:
    """The first row of a fixed statement that selects several models side by side (each
    model's ``column_list``, in the order of ``models``), as one instance per model, or None
    when there is no row. A model whose primary key comes back NULL (an outer join that found
    nothing) is None in the answer. One round trip instead of one per model: on this project's
    machines a statement's round trip costs the web process and PostgreSQL more CPU than
    reading its row."""
    parts = [(model, len(model._meta.concrete_fields)) for model in models]
    rows = _joined(parts, sql, params, one=True)
    return rows[0] if rows else None


def joined_rows(
    parts: Sequence[tuple[type[Model], int]], sql: str, params: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """Every row of a fixed statement that selects several models side by side, as
    ``joined_first_row`` reads its first, with each model's number of columns given in
    ``parts`` (model, columns): a model's columns may be some of its fields (the others are
    deferred, loaded on first use, as with ``raw()``) and columns that are not fields (set as
    attributes), its primary key among them."""
    return _joined(parts, sql, params, one=False)


def _joined(
    parts: Sequence[tuple[type[Model], int]], sql: str, params: Sequence[Any], *, one: bool
) -> list[tuple[Any, ...]]:
    wrapper = connections[parts[0][0]._default_manager.db]
    rows, names = _fetch(wrapper, sql, params, one=one)
    if not rows:
        return []
    plans = _joined_readers.setdefault(wrapper, {})
    key = (tuple(parts), sql)
    plan = plans.get(key)
    if plan is None:
        slices = []
        start = 0
        for model, width in parts:
            end = start + width
            reader = _RowReader(wrapper, model, names[start:end])
            slices.append((start, end, start + reader.positions[reader.pk_index], reader))
            start = end
        if start != len(names):
            raise ValueError(f"the statement selects {len(names)} columns, not {start}")
        plan = plans[key] = _JoinedReaders(slices)
    # Per model, one reader call for all its rows: the reader's per-call work is not repeated
    # for every row.
    columns = []
    for start, end, pk_position, reader in plan.slices:
        built = iter(
            reader.instances([row[start:end] for row in rows if row[pk_position] is not None])
        )
        columns.append([None if row[pk_position] is None else next(built) for row in rows])
    return list(zip(*columns, strict=True))


@dataclass(frozen=True)
class _JoinedReaders:
    # (first column, end, the primary key's column, reader) per model
    slices: list[tuple[int, int, int, _RowReader]]


_joined_readers: WeakKeyDictionary[
    Any, dict[tuple[tuple[tuple[type[Model], int], ...], str], _JoinedReaders]
] = WeakKeyDictionary()


def any_of_sql(column: str) -> str:
    """SQL saying ``column`` is one of the values in one parameter made by ``array_parameter``:
    the raw-SQL twin of ``any_of``, with a text that does not depend on how many values."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)"
    return f"{column} IN (SELECT value FROM json_each(%s))"  # noqa: S608 - a column name


def array_parameter(values: Iterable[int | str]) -> Any:
    """The one parameter ``any_of_sql`` reads: an array on PostgreSQL, JSON on SQLite.

    On PostgreSQL the array goes as its text literal (``{1,2,"a b"}``), which the server reads
    as an array of the type of the column it is compared with: psycopg dumps a list one
    element at a time in Python, and for a batch of 100 ids that cost more CPU than the rest
    of sending the statement (0.23 against 0.07 ms)."""
    values = list(values)
    if connection.vendor != "postgresql":
        return json.dumps(values)
    return "{" + ",".join(map(_array_element, values)) + "}"


def _array_element(value: int | str) -> str:
    if type(value) is int:
        return str(value)
    if isinstance(value, str):
        # Quoted, so that a comma, a brace, a space or the word NULL is just text.
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"array_parameter takes ints and strs, not {type(value).__name__}")


def new_row(model: type[_Row], **values: Any) -> _Row:
    """An unsaved ``model`` instance holding ``values`` (by attribute name: ``client_id``, not
    ``client``) and every other field's default, as ``model(**values)`` would hold them.

    Built positionally, as the ORM builds the rows it reads: ``model(**values)`` matches each
    keyword against the model's fields and relations and asks every other field for its
    default, which for a thirty-column outbox row was twice the cost. An unknown name raises
    TypeError, as the model does."""
    names, defaults = _row_defaults(model)
    arguments = [default() if default is not None else constant for constant, default in defaults]
    for name, value in values.items():
        index = names.get(name)
        if index is None:
            raise TypeError(f"{model.__name__} has no field with the attribute name {name!r}")
        arguments[index] = value
    return model(*arguments)


@cache
def _row_defaults(
    model: type[Model],
) -> tuple[dict[str, int], tuple[tuple[Any, Callable[[], Any] | None], ...]]:
    """Per concrete field: its position by attribute name, and its default as a constant or,
    when the default is callable (a fresh list, the time now), the callable to ask per row."""
    fields = model._meta.concrete_fields
    return (
        {field.attname: index for index, field in enumerate(fields)},
        tuple(
            (None, field.get_default)
            if field.has_default() and callable(field.default)
            else (field.get_default(), None)
            for field in fields
        ),
    )


def insert_rows(model: type[_Row], rows: Sequence[_Row]) -> Sequence[_Row]:
    """Insert new ``model`` instances as ``bulk_create`` would, for a fraction of its cost.

    The same rows, the same way: field defaults as the instances hold them, ``pre_save`` (so
    ``auto_now_add``/``auto_now`` stamp the instances), Django's own value preparation for
    anything not known to pass unchanged, the primary keys returned and set with
    ``_state.adding = False`` and ``_state.db``, no signals, an IntegrityError for a broken
    constraint, and an error marks the enclosing ``atomic`` block for rollback. What it saves
    is the ORM's per-call work: the statement text is built once per process per model,
    database and number of rows (on PostgreSQL one text serves any number), and each value
    costs a type check, not a trip through ``get_db_prep_save``. A booking plans about eight outbox rows of thirty columns; through
    ``bulk_create`` that was a fifth of the request's Python time.

    Only for what ``bulk_create`` does plainly: a model with an auto-increment key that is the
    only column the database fills in (no ``db_default``, no generated fields, no multi-table
    inheritance), rows not yet saved, plain values rather than expressions.
    """
    if not rows:
        return rows
    alias = router.db_for_write(model)
    db = connections[alias]
    server_side_binding = db.vendor == "postgresql" and getattr(
        db.features, "uses_server_side_binding", False
    )
    plan = _insert_plan(model, db.vendor, server_side_binding)
    for row in rows:
        if type(row) is not model:
            raise TypeError(f"insert_rows({model.__name__}) was given a {type(row).__name__}")
        if row.pk is not None:
            raise ValueError(f"insert_rows inserts new rows; this {model.__name__} has a key")
        # The same check and repair as save() and bulk_create: a related instance assigned
        # before it was saved raises, one saved since fills in its key.
        row._prepare_related_fields_for_save(operation_name="insert_rows")  # type: ignore[attr-defined]
    batch_size = max(db.ops.bulk_batch_size(plan.fields, rows), 1)
    # Values are prepared before anything is sent: a value it cannot take fails the call, not
    # the transaction.
    statements: list[tuple[Sequence[_Row], str, list[Any]]] = []
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        params: list[Any]
        if plan.as_json:
            statements.append(
                (batch, _insert_sql(model, db.vendor, 0), [plan.json_rows(batch, db)])
            )
            continue
        values = plan.values(batch, db)
        if plan.as_arrays and len(batch) > 1:
            sql = _insert_sql(model, db.vendor, None)
            params = [list(column) for column in zip(*values, strict=True)]
        else:
            sql = _insert_sql(model, db.vendor, len(batch))
            params = [value for row_values in values for value in row_values]
        statements.append((batch, sql, params))
    # As bulk_create: several statements are one transaction, and a failure inside an
    # enclosing atomic block marks it for rollback rather than letting it carry on.
    guard = (
        transaction.atomic(using=alias, savepoint=False)
        if len(statements) > 1
        else transaction.mark_for_rollback_on_error(using=alias)
    )
    with guard, db.cursor() as cursor:
        for batch, sql, params in statements:
            cursor.execute(sql, params)
            for row, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                row.pk = pk
                row._state.adding = False
                row._state.db = alias
    return rows


def save_new(row: _Row) -> _Row:
    """Save one new instance as ``row.save()`` would, with ``insert_rows``'s statement: the
    model's ``pre_save`` and ``post_save`` signals are sent around the insert (``created``
    true, ``raw`` false), so every receiver sees the row as it would after ``save()``; nothing
    is sent when the insert fails. For a model whose every save has receivers (an appointment
    retires cached availability) that is the cheaper insert with nothing left out."""
    model = type(row)
    alias = router.db_for_write(model)
    pre_save.send(sender=model, instance=row, raw=False, using=alias, update_fields=None)
    insert_rows(model, [row])
    post_save.send(
        sender=model, instance=row, created=True, update_fields=None, raw=False, using=alias
    )
    return row


def update_rows(model: type[_Row], rows: Sequence[_Row], fields: Sequence[str]) -> int:
    """Write ``fields`` of saved ``model`` instances back as ``bulk_update(rows, fields)``
    does, for a fraction of its cost; returns how many rows the database changed.

    The same values, the same way: what each instance holds in those fields, prepared as Django
    prepares a value for saving (no ``pre_save``, as in ``bulk_update``: an ``auto_now`` field
    changes only when listed and set), and an error marks the enclosing ``atomic`` block for
    rollback. What it saves is ``bulk_update``'s per-call work: it builds a ``CASE WHEN`` per
    field and row and resolves each as an expression: when a dispatch claim of 100 rows held
    back five, that was a third of the claim's Python time. Here the statement text
    is built once per process per model and field list: on PostgreSQL one ``UPDATE … FROM
    UNNEST`` with an array per field, elsewhere one single-row UPDATE run for each row.

    Only plain values (not expressions), each row once, and only concrete non-key fields.
    """
    if not rows:
        return 0
    alias = router.db_for_write(model)
    db = connections[alias]
    server_side_binding = db.vendor == "postgresql" and getattr(
        db.features, "uses_server_side_binding", False
    )
    plan = _update_plan(model, tuple(fields), db.vendor, server_side_binding)
    keys = []
    for row in rows:
        if type(row) is not model:
            raise TypeError(f"update_rows({model.__name__}) was given a {type(row).__name__}")
        if row.pk is None:
            raise ValueError(f"update_rows writes saved rows; this {model.__name__} has no key")
        if plan.writes_relations:
            # As bulk_update: a related instance assigned before it was saved raises, one
            # saved since fills in its key. (Django's check looks at nothing else, and walking
            # every field to find none cost more than the rest of writing five rows.)
            row._prepare_related_fields_for_save(operation_name="update_rows", fields=plan.fields)  # type: ignore[attr-defined]
        keys.append(row.pk)
    if len(set(keys)) != len(keys):
        raise ValueError("update_rows takes each row once")
    # Values are prepared before anything is sent: a value it cannot take fails the call, not
    # the transaction.
    values = plan.values(rows, db)
    if plan.as_arrays:
        guard = transaction.mark_for_rollback_on_error(using=alias)
    else:
        # Several statements: one transaction, as bulk_update's batches are.
        guard = transaction.atomic(using=alias, savepoint=False)
    with guard, db.cursor() as cursor:
        if plan.as_arrays:
            cursor.execute(plan.sql, [list(column) for column in zip(*values, strict=True)])
        else:
            cursor.executemany(
                plan.sql, [[*row_values[1:], row_values[0]] for row_values in values]
            )
        return cursor.rowcount


@dataclass(frozen=True)
class _UpdatePlan:
    """How to write one list of fields of one model back: the key and those fields, a getter
    for their values, per column a converter to what the driver is sent, and the statement."""

    fields: tuple[Field, ...]
    writes_relations: bool
    values_of: Callable[[Model], tuple[Any, ...]]
    converters: tuple[_Convert, ...]
    as_arrays: bool
    sql: str

    def values(self, rows: Sequence[Model], db: BaseDatabaseWrapper) -> list[list[Any]]:
        """Per row, the key's value and then each field's, as sent."""
        return [
            [
                convert(value, db)
                for convert, value in zip(self.converters, self.values_of(row), strict=True)
            ]
            for row in rows
        ]


@cache
def _update_plan(
    model: type[Model], names: tuple[str, ...], vendor: str, server_side_binding: bool
) -> _UpdatePlan:
    opts = model._meta
    fields = tuple(opts.get_field(name) for name in names)
    if not fields:
        raise ValueError("update_rows needs at least one field to write")
    if len(set(fields)) != len(fields):
        raise ValueError("update_rows takes each field once")
    for field in fields:
        if not isinstance(field, Field) or not field.concrete or field.many_to_many:
            raise ValueError(f"update_rows writes concrete fields only ({field.name})")
        if field.primary_key:
            raise ValueError("update_rows does not change primary keys")
        if hasattr(field, "get_placeholder"):
            raise ValueError(f"update_rows cannot write {field.name}: it needs SQL of its own")
    fields = cast("tuple[Field, ...]", fields)
    columns = (opts.pk, *fields)
    db = connections[router.db_for_write(model)]
    assert db.vendor == vendor  # noqa: S101 - the cache key names what the plan depends on
    quote = db.ops.quote_name
    table, key = quote(opts.db_table), quote(opts.pk.column)
    as_arrays = vendor == "postgresql" and all(
        _column_field(field).get_internal_type() in db.data_types for field in columns
    )
    if as_arrays:
        # One statement for any number of rows, each column one array (see _insert_sql for why
        # arrays rather than a placeholder per value).
        arrays = ", ".join(f"(%s)::{_array_type(field, db)}[]" for field in columns)
        names_in_unnest = ", ".join(quote(field.column) for field in columns)
        assignments = ", ".join(f"{quote(f.column)} = new.{quote(f.column)}" for f in fields)
        sql = (
            f"UPDATE {table} SET {assignments} FROM UNNEST({arrays})"  # noqa: S608 - names only
            f" AS new ({names_in_unnest}) WHERE {table}.{key} = new.{key}"
        )
    else:
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
        sql = f"UPDATE {table} SET {assignments} WHERE {key} = %s"  # noqa: S608 - names only
    return _UpdatePlan(
        fields=fields,
        writes_relations=any(field.is_relation for field in fields),
        values_of=attrgetter(*(field.attname for field in columns)),
        converters=tuple(
            _converter_for(field, vendor=vendor, server_side_binding=server_side_binding)
            for field in columns
        ),
        as_arrays=as_arrays,
        sql=sql,
    )


_Convert = Callable[[Any, BaseDatabaseWrapper], Any]


@dataclass(frozen=True)
class _InsertPlan:
    """How to turn instances of one model into the parameters of its INSERT: the columns'
    fields, one getter for all their values, the fields whose ``pre_save`` changes the value
    on insert, and per column a converter to what the driver is sent."""

    fields: tuple[Field, ...]
    values_of: Callable[[Model], tuple[Any, ...]]
    stamped: tuple[tuple[int, Field], ...]
    converters: tuple[_Convert, ...]
    as_arrays: bool
    # PostgreSQL, every column a text, integer, boolean or aware datetime: the rows go as one
    # JSON parameter (json_converters make each value what JSON carries exactly).
    as_json: bool
    columns: tuple[str, ...]
    json_converters: tuple[_Convert, ...]
    json_kinds: tuple[str | None, ...]
    datetime_indexes: tuple[int, ...]
    plain_types: dict[tuple[type, ...], bool] = dataclass_field(
        default_factory=dict, compare=False, hash=False
    )

    def _stamped_values(self, row: Model) -> list[Any]:
        values = list(self.values_of(row))
        for index, field in self.stamped:
            values[index] = field.pre_save(row, True)
        return values

    def values(self, rows: Sequence[Model], db: BaseDatabaseWrapper) -> list[list[Any]]:
        """Per row, the values sent for its columns."""
        return [
            [
                convert(value, db)
                for convert, value in zip(self.converters, self._stamped_values(row), strict=True)
            ]
            for row in rows
        ]

    def json_rows(self, rows: Sequence[Model], db: BaseDatabaseWrapper) -> str:
        """The rows as one JSON array of objects keyed by column, for ``as_json``."""
        objects = []
        for row in rows:
            values = self._stamped_values(row)
            if self._is_plain(tuple(map(type, values))):
                # Every value is already what JSON carries, but for the times.
                for index in self.datetime_indexes:
                    if values[index] is not None:
                        values[index] = self.json_converters[index](values[index], db)
            else:
                values = [
                    convert(value, db)
                    for convert, value in zip(self.json_converters, values, strict=True)
                ]
            objects.append(dict(zip(self.columns, values, strict=True)))
        # orjson: the standard library's encoder was half the cost of this method.
        return orjson.dumps(objects).decode()

    def _is_plain(self, types: tuple[type, ...]) -> bool:
        """Whether values of these types (one per column) go into JSON as they are, times
        aside: a str (choices too) in a text column, an int in an integer one, a bool in a
        boolean one, a datetime, or None. Worked out once per combination (a plan's rows have
        a few): a converter called for every value was most of the cost of the JSON."""
        known = self.plain_types.get(types)
        if known is None:
            known = all(
                kind is type(None)
                or (column_kind == "text" and issubclass(kind, str))
                or (column_kind == "integer" and kind is int)
                or (column_kind == "boolean" and kind is bool)
                or (column_kind == "datetime" and issubclass(kind, datetime))
                for kind, column_kind in zip(types, self.json_kinds, strict=True)
            )
            if len(self.plain_types) < 64:
                self.plain_types[types] = known
        return known


def _insertable_fields(model: type[Model]) -> tuple[Field, ...]:
    opts = model._meta
    if opts.parents:
        raise ValueError(f"insert_rows cannot insert {model.__name__}: multi-table inheritance")
    if not isinstance(opts.pk, AutoFieldMixin) or opts.db_returning_fields != [opts.pk]:
        raise ValueError(
            f"insert_rows needs {model.__name__}'s database-filled column to be only its "
            "auto-increment key (no db_default, no generated fields): use bulk_create"
        )
    fields = tuple(field for field in opts.concrete_fields if field is not opts.pk)
    if any(hasattr(field, "get_placeholder") for field in fields):
        raise ValueError(
            f"insert_rows cannot insert {model.__name__}: a field needs SQL of its own"
        )
    return fields


@cache
def _insert_plan(model: type[Model], vendor: str, server_side_binding: bool) -> _InsertPlan:
    fields = _insertable_fields(model)
    db = connections[router.db_for_write(model)]
    return _InsertPlan(
        fields=fields,
        values_of=attrgetter(*(field.attname for field in fields))
        if len(fields) > 1
        else lambda row: (getattr(row, fields[0].attname),),
        stamped=tuple(
            (index, field) for index, field in enumerate(fields) if _changes_on_insert(field)
        ),
        converters=tuple(
            _converter_for(field, vendor=vendor, server_side_binding=server_side_binding)
            for field in fields
        ),
        as_arrays=vendor == "postgresql"
        and all(_column_field(field).get_internal_type() in db.data_types for field in fields),
        as_json=vendor == "postgresql" and all(_json_kind(field) for field in fields),
        columns=tuple(field.column for field in fields),
        json_converters=tuple(_json_converter_for(field) or _prepared(field) for field in fields),
        json_kinds=tuple(_json_kind(field) for field in fields),
        datetime_indexes=tuple(
            index for index, field in enumerate(fields) if _json_kind(field) == "datetime"
        ),
    )


@cache
def _insert_sql(model: type[Model], vendor: str, row_count: int | None) -> str:
    """The INSERT for ``row_count`` rows of ``model`` (one placeholder per value), or with
    ``row_count=None`` for any number of rows (PostgreSQL: one array per column), or with
    ``row_count=0`` for any number of rows as one JSON parameter (PostgreSQL)."""
    db = connections[router.db_for_write(model)]
    assert db.vendor == vendor  # noqa: S101 - the cache key names what the text depends on
    quote = db.ops.quote_name
    fields = _insertable_fields(model)
    columns = ", ".join(quote(field.column) for field in fields)
    table, key = quote(model._meta.db_table), quote(model._meta.pk.column)
    if row_count == 0:
        # The table's own row type reads each object's values by column name with the
        # columns' input functions: a text too long for its varchar is refused, not cut, and
        # a timestamp keeps its microseconds. One parameter, however many rows: dumping an
        # array per column cost psycopg more CPU than the rest of an eight-row insert.
        return (
            f"INSERT INTO {table} ({columns}) SELECT {columns}"  # noqa: S608 - names only
            f" FROM json_populate_recordset(NULL::{table}, %s::json) RETURNING {key}"
        )
    if row_count is None:
        # Django's own shape for several rows on PostgreSQL, and the one that stays cheap in
        # the driver: binding on the client, psycopg splits a statement of over 50 placeholders
        # at every one of them on each execution (it caches only smaller ones), which for eight
        # outbox rows cost more than the rest of the insert. Array types go without their
        # length (varchar, not varchar(20)) so that nothing is cut short before the column
        # checks it.
        arrays = ", ".join(f"(%s)::{_array_type(field, db)}[]" for field in fields)
        rows = f"SELECT * FROM UNNEST({arrays})"  # noqa: S608 - column types only
    else:
        row = f"({placeholders(len(fields))})"
        rows = "VALUES " + ", ".join([row] * row_count)
    return f"INSERT INTO {table} ({columns}) {rows} RETURNING {key}"  # noqa: S608


def _column_field(field: Field) -> Field:
    """The field that says how ``field``'s column is typed and prepared: a key's target."""
    return field.target_field if isinstance(field, ForeignKey) else field


def _array_type(field: Field, db: BaseDatabaseWrapper) -> str:
    # Only fields of the backend's own types come here (as_arrays), and those have one.
    return cast("str", field.db_type(db)).split("(")[0]


def _changes_on_insert(field: Field) -> bool:
    """Whether ``field.pre_save(row, add=True)`` can differ from the value the row holds."""
    if type(field).pre_save is Field.pre_save:
        return False
    if isinstance(field, DateField | DateTimeField | TimeField) and type(field).pre_save in {
        DateField.pre_save,
        DateTimeField.pre_save,
        TimeField.pre_save,
    }:
        return bool(field.auto_now or field.auto_now_add)
    return True


def _prepared(field: Field) -> _Convert:
    """Django's own preparation of a value for saving, as bulk_create applies it."""

    def convert(value: Any, db: BaseDatabaseWrapper) -> Any:
        if hasattr(value, "resolve_expression"):
            raise TypeError(
                f"insert_rows and update_rows take values, not expressions ({field.name}={value!r})"
            )
        return field.get_db_prep_save(value, connection=db)

    return convert


# Field classes whose preparation returns a value of these kinds unchanged on both databases
# (their to_python/get_prep_value only coerce other types): exact classes, so a subclass that
# prepares differently (an encrypted field, say) goes through Django.
_TEXT_FIELDS = {CharField, TextField, EmailField, SlugField, URLField}
_INTEGER_FIELDS = {
    AutoField,
    BigAutoField,
    SmallAutoField,
    IntegerField,
    BigIntegerField,
    SmallIntegerField,
    PositiveIntegerField,
    PositiveBigIntegerField,
    PositiveSmallIntegerField,
}


def _json_kind(field: Field) -> str | None:
    """What JSON carries of ``field``'s column: "text", "integer", "boolean" or "datetime" (an
    aware one), or None for a column of another kind (the insert then goes as arrays)."""
    kind: type[Field] = type(field)
    if kind in {ForeignKey, OneToOneField}:
        kind = type(_column_field(field))
    if kind in _TEXT_FIELDS:
        return "text"
    if kind in _INTEGER_FIELDS:
        return "integer"
    if kind is BooleanField:
        return "boolean"
    if kind is DateTimeField and settings.USE_TZ:
        return "datetime"
    return None


def _json_converter_for(field: Field) -> _Convert | None:
    """For the JSON insert: a conversion to the JSON value PostgreSQL reads back as exactly
    what Django's preparation would send (a text, a number, true/false, an ISO 8601 time with
    its offset, null), or None for a field of another kind."""
    prepared = _prepared(field)
    kind = _json_kind(field)
    if kind == "text":
        return lambda value, db: (
            value if value is None or isinstance(value, str) else prepared(value, db)
        )
    if kind == "integer":
        # int(): Django's preparation may wrap it for server-side binding (psycopg's Int8).
        def integer(value: Any, db: BaseDatabaseWrapper) -> Any:
            if value is None or type(value) is int:
                return value
            value = prepared(value, db)
            return None if value is None else int(value)

        return integer
    if kind == "boolean":
        return lambda value, db: (
            value if value is None or type(value) is bool else prepared(value, db)
        )
    if kind == "datetime":

        def moment(value: Any, db: BaseDatabaseWrapper) -> Any:
            if value is None:
                return None
            if not (isinstance(value, datetime) and value.utcoffset() is not None):
                value = prepared(value, db)  # a naive one: made aware as save() does
            return value.isoformat()

        return moment
    return None


def _converter_for(field: Field, *, vendor: str, server_side_binding: bool) -> _Convert:
    """The cheapest conversion that sends what Django's preparation would: a type check that
    passes known-plain values on, and Django's own path for anything else."""
    prepared = _prepared(field)
    kind: type[Field] = type(field)
    if kind in {ForeignKey, OneToOneField}:
        # A key is prepared as its target column is; None stays None.
        kind = type(_column_field(field))
    if kind in _TEXT_FIELDS:
        # Choices (str enums) pass too: CharField.to_python keeps any str as it is.
        return lambda value, db: (
            value if value is None or isinstance(value, str) else prepared(value, db)
        )
    if kind in _INTEGER_FIELDS and not server_side_binding:
        # On PostgreSQL Django wraps integers in psycopg's Int4/Int8 so that server-side
        # binding types the parameter; bound on the client (this project), an int's literal
        # is the same either way. bool is an int but IntegerField would send int(True).
        return lambda value, db: (
            value if value is None or type(value) is int else prepared(value, db)
        )
    if kind is BooleanField:
        return lambda value, db: (
            value if value is None or type(value) is bool else prepared(value, db)
        )
    if kind is DateTimeField and vendor == "postgresql" and settings.USE_TZ:
        # PostgreSQL takes aware datetimes as they are; a naive one goes through Django, which
        # warns and makes it aware as save() does. (SQLite always needs Django's text form.)
        return lambda value, db: (
            value
            if value is None or (isinstance(value, datetime) and value.utcoffset() is not None)
            else prepared(value, db)
        )
    return prepared


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
