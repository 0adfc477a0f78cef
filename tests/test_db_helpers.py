"""clinic.db: the any_of lookup, one-statement advisory locks, fixed-statement readers,
insert_rows and update_rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import FieldDoesNotExist
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import F, Model
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext_lazy

from bookings.models import AppointmentEvent, Client
from clinic.db import (
    _builds_plainly,
    any_of_sql,
    array_parameter,
    column_list,
    first_row,
    insert_rows,
    joined_first_row,
    joined_rows,
    lock_for_transaction,
    model_rows,
    new_row,
    update_rows,
)
from clinic.models import Service, WorkingHours
from records.models import TreatmentPhoto
from reminders.models import Message, ReminderRule
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
    names = ("Ann", 'O"Neil', "Bo,b", "NULL", "{Cy}", "D\\e", " Ed ")
    clients = [factories.ClientFactory(first_name=name) for name in names]

    assert _ids_matching("id", [clients[0].pk, clients[2].pk]) == [clients[0].pk, clients[2].pk]
    assert _ids_matching("first_name", ['O"Neil', "Bo,b"]) == [clients[1].pk, clients[2].pk]
    assert _ids_matching("first_name", list(names[3:])) == [c.pk for c in clients[3:]]
    assert _ids_matching("id", []) == []


@pytest.mark.integration
def test_on_postgresql_any_of_sql_takes_an_array():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    test_any_of_sql_reads_every_value_from_one_parameter_on_this_database()


def test_locks_then_ask_whether_a_statement_finds_a_row_in_one_round_trip():
    client = factories.ClientFactory()
    question = "SELECT 1 FROM bookings_client WHERE id = %s"
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert lock_for_transaction("b", "a", then_exists=(question, [client.pk])) is True
        assert lock_for_transaction("a", then_exists=(question, [client.pk + 1])) is False
        assert lock_for_transaction("a") is False
    # Each call is one statement (SQLite takes no locks, so the last asks nothing at all).
    assert len(queries.captured_queries) == (3 if connection.vendor == "postgresql" else 2)


@pytest.mark.integration
def test_on_postgresql_locks_and_their_question_are_one_statement():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    test_locks_then_ask_whether_a_statement_finds_a_row_in_one_round_trip()


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


def _same_as_raw(model: type[Model], sql: str, params: list) -> list[Model]:
    """model_rows' instances, checked field by field (value and type) against raw()'s."""
    ours = model_rows(model, sql, params)
    theirs = list(model._default_manager.raw(sql, params))
    assert [row.pk for row in ours] == [row.pk for row in theirs]
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine.get_deferred_fields() == reference.get_deferred_fields()
        assert mine._state.db == reference._state.db
        assert not mine._state.adding
        assert vars(mine).keys() - {"_state"} == vars(reference).keys() - {"_state"}
        for field in model._meta.concrete_fields:
            if field.attname in reference.get_deferred_fields():
                continue
            value, expected = getattr(mine, field.attname), getattr(reference, field.attname)
            assert (value, type(value)) == (expected, type(expected)), field.name
    return ours


def test_model_rows_converts_every_field_as_raw_does_and_keeps_extra_columns():
    service = factories.ServiceFactory(price=Decimal("45.50"), buffer_after_minutes=10)
    visit = factories.AppointmentFactory(service=service)
    AppointmentEvent.objects.create(
        appointment=visit, kind="booked", actor_label="client", details={"a": [1, "ü"]}
    )
    factories.ClientFactory(phone_verified_at=timezone.now(), sms_opted_out_at=None)

    services = _same_as_raw(Service, "SELECT * FROM clinic_service WHERE id = %s", [service.pk])
    assert services[0].price == Decimal("45.50")
    assert services[0].buffer_after == timedelta(minutes=10)
    hours = WorkingHours.objects.create(
        practitioner=visit.practitioner,
        location=visit.location,
        weekday=2,
        start_time=time(9, 30),
        end_time=time(17),
        valid_from=date(2026, 12, 1),
    )
    (read,) = _same_as_raw(WorkingHours, "SELECT * FROM clinic_workinghours", [])
    assert (read.start_time, read.valid_from) == (hours.start_time, date(2026, 12, 1))
    events = _same_as_raw(AppointmentEvent, "SELECT * FROM bookings_appointmentevent", [])
    assert events[0].details == {"a": [1, "ü"]}
    assert events[0].created_at.tzinfo is not None
    # An aware datetime parameter is adapted as raw() adapts it; a column that is not a field
    # becomes an attribute.
    clients = _same_as_raw(
        Client,
        "SELECT *, 1 + 1 AS two FROM bookings_client WHERE created_at <= %s ORDER BY id",
        [timezone.now()],
    )
    assert len(clients) == Client.objects.count()
    assert {c.two for c in clients} == {2}


def test_model_rows_defers_the_fields_a_statement_leaves_out_and_needs_the_primary_key():
    client = factories.ClientFactory(first_name="Ann")

    (row,) = _same_as_raw(
        Client, "SELECT id, first_name FROM bookings_client WHERE id = %s", [client.pk]
    )
    assert row.first_name == "Ann"
    assert "phone" in row.get_deferred_fields()
    assert row.phone == client.phone  # loaded on first use, as with raw()
    with pytest.raises(FieldDoesNotExist):
        model_rows(Client, "SELECT first_name FROM bookings_client", [])


def test_model_rows_builds_instances_through_django_while_a_model_has_init_receivers():
    clients = [factories.ClientFactory(), factories.ClientFactory()]
    sql = "SELECT * FROM bookings_client WHERE id = ANY(%s) ORDER BY id"
    if connection.vendor != "postgresql":
        sql = f"SELECT * FROM bookings_client WHERE {any_of_sql('id')} ORDER BY id"  # noqa: S608
    ids = array_parameter(c.pk for c in clients)
    seen: list[Model] = []

    def record(sender, instance, **kwargs):
        seen.append(instance)

    model_rows(Client, sql, [ids])  # a reader made while nothing listens
    post_init.connect(record, sender=Client)
    try:
        read = model_rows(Client, sql, [ids])
    finally:
        post_init.disconnect(record, sender=Client)

    assert [id(row) for row in seen] == [id(row) for row in read]
    assert read == clients
    assert model_rows(Client, sql, [ids]) == clients
    assert len(seen) == 2


def test_only_models_whose_attributes_are_plainly_assigned_skip_from_db():
    assert _builds_plainly(Client)
    assert _builds_plainly(Message)  # keys: their attribute only drops a cached object
    assert not _builds_plainly(TreatmentPhoto)  # a file field's attribute wraps the value


def test_first_row_reads_one_row_or_none_and_the_same_statement_again_reuses_its_reader():
    first, second = factories.ClientFactory(), factories.ClientFactory()
    sql = "SELECT * FROM bookings_client WHERE id = %s"

    assert first_row(Client, sql, [first.pk]) == first
    assert first_row(Client, sql, [second.pk]).phone == second.phone  # type: ignore[union-attr]
    assert first_row(Client, sql, [0]) is None
    assert first_row(Client, "SELECT * FROM bookings_client ORDER BY id", []) == first


def test_joined_first_row_reads_each_model_side_by_side_and_none_for_a_join_that_found_nothing():
    client = factories.ClientFactory(first_name="Ada")
    service = Service.objects.create(name="Peel", slug="peel", duration_minutes=30)
    sql = (
        f"SELECT {column_list(Client, table='c')}, {column_list(Service, table='s')}"
        " FROM bookings_client c LEFT JOIN clinic_service s ON s.id = %s WHERE c.id = %s"
    )

    found = joined_first_row((Client, Service), sql, [service.pk, client.pk])
    assert found == (client, service)
    assert found[0].first_name == "Ada"  # type: ignore[index]
    assert found[1].duration == service.duration  # type: ignore[index]
    assert joined_first_row((Client, Service), sql, [0, client.pk]) == (client, None)
    assert joined_first_row((Client, Service), sql, [service.pk, 0]) is None
    with pytest.raises(ValueError, match="columns"):
        joined_first_row((Client,), sql, [service.pk, client.pk])


def test_joined_rows_reads_some_fields_and_extra_columns_of_each_model_for_every_row():
    ada = factories.ClientFactory(first_name="Ada")
    bo = factories.ClientFactory(first_name="Bo")
    service = Service.objects.create(name="Peel", slug="peel", duration_minutes=30)
    sql = (
        "SELECT c.id, c.first_name, 7 AS lucky, s.id, s.name FROM bookings_client c"  # noqa: S608
        " LEFT JOIN clinic_service s ON s.id = c.id * 0 + %s WHERE c.id IN (%s, %s)"
        " ORDER BY c.id"
    )

    rows = joined_rows(((Client, 3), (Service, 2)), sql, [service.pk, ada.pk, bo.pk])
    assert rows == [(ada, service), (bo, service)]
    assert [(row[0].first_name, row[0].lucky) for row in rows] == [("Ada", 7), ("Bo", 7)]
    assert "phone" in rows[0][0].get_deferred_fields()
    assert rows[1][0].phone == bo.phone  # loaded on first use
    assert rows[0][1].name == "Peel"
    assert joined_rows(((Client, 3), (Service, 2)), sql, [0, ada.pk, bo.pk]) == [
        (ada, None),
        (bo, None),
    ]
    assert joined_rows(((Client, 3), (Service, 2)), sql, [service.pk, 0, 0]) == []
    with pytest.raises(ValueError, match="columns"):
        joined_rows(((Client, 3), (Service, 1)), sql, [service.pk, ada.pk, bo.pk])


@pytest.mark.integration
def test_on_postgresql_model_rows_converts_as_raw_does():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    test_model_rows_converts_every_field_as_raw_does_and_keeps_extra_columns()
    test_model_rows_defers_the_fields_a_statement_leaves_out_and_needs_the_primary_key()


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_repeated_statement_is_prepared_and_survives_a_migration_adding_a_column():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    import psycopg

    from bookings.selectors.booking import service_for_booking

    service = factories.ServiceFactory()
    for _ in range(6):
        assert service_for_booking(service_id=service.pk) == service
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("clinic_service" in statement for statement in prepared)
    # A deploy migrates from another process while running ones keep their prepared
    # statements: a select list that said ``*`` now fails with "cached plan must not change
    # result type" on every call, until the process restarts.
    params = connection.get_connection_params()
    dsn = {key: params[key] for key in ("dbname", "user", "host", "port") if params.get(key)}
    with psycopg.connect(**dsn, autocommit=True) as migration:
        migration.execute("ALTER TABLE clinic_service ADD COLUMN added_by_a_migration integer")
        try:
            assert service_for_booking(service_id=service.pk) == service
        finally:
            migration.execute("ALTER TABLE clinic_service DROP COLUMN added_by_a_migration")


# insert_rows: the same rows as bulk_create, on whichever database the suite runs.

_FROZEN_AT = datetime(2026, 5, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _messages(appointment, rules, **changes) -> list[Message]:
    """Unsaved outbox rows with every kind of value a plan writes: keys set by id and by
    instance, choices, defaults left out, nulls, datetimes, a retry pointing at a saved row."""
    rows = []
    for number, rule in enumerate(rules):
        values = {
            "appointment": appointment,
            "client_id": appointment.client_id,
            "location": appointment.location,
            "rule": rule,
            "category": rule.category,
            "to": appointment.client.phone,
            "body": f"Text {number}: “quoted”, 'single', \"double\", back\\slash, 50% off,"
            " tab\t new\nline, {braces}, 😀 beyond the BMP, \u2028",
            "due_at": _FROZEN_AT + timedelta(days=number, microseconds=number),
            "appointment_version": appointment.version,
        }
        if number % 2:
            values |= {"status": Message.Status.SKIPPED, "status_reason": "Too late"}
        if "client" in changes:
            del values["client_id"]
        rows.append(Message(**(values | changes)))
    return rows


def _second_visit(first):
    """Another visit of the same client at the same location, a day later."""
    return factories.AppointmentFactory(
        client=first.client, location=first.location, start_at=first.start_at + timedelta(days=1)
    )


def _columns(rows) -> list[dict]:
    """Every column of the rows as stored, in the order given, without the key."""
    model = type(rows[0])
    stored = {row["id"]: row for row in model.objects.filter(pk__in=[r.pk for r in rows]).values()}
    return [{k: v for k, v in stored[row.pk].items() if k != "id"} for row in rows]


def _instance_state(rows) -> list[dict]:
    return [
        {k: v for k, v in vars(row).items() if k not in {"id", "_state"}}
        | {"adding": row._state.adding, "db": row._state.db}
        for row in rows
    ]


@time_machine.travel(_FROZEN_AT, tick=False)
def test_insert_rows_stores_and_returns_what_bulk_create_does_for_several_rows():
    rules = list(ReminderRule.objects.order_by("pk")[:8])
    by_bulk_create = factories.AppointmentFactory()
    by_insert_rows = _second_visit(by_bulk_create)
    earlier = Message.objects.create(
        client=by_bulk_create.client, category=rules[0].category, to="+447911000000", body="x",
        due_at=_FROZEN_AT,
    )  # fmt: skip
    expected = Message.objects.bulk_create(_messages(by_bulk_create, rules, retry_of=earlier))

    inserted = insert_rows(Message, _messages(by_insert_rows, rules, retry_of=earlier))

    assert all(row.pk is not None for row in inserted)
    assert [row.pk for row in inserted] == sorted(row.pk for row in inserted)
    differ_by_appointment = [{**row, "appointment_id": None} for row in _columns(expected)]
    assert [{**row, "appointment_id": None} for row in _columns(inserted)] == differ_by_appointment
    assert _columns(inserted)[0]["created_at"] == _FROZEN_AT  # auto_now_add, stamped
    assert _columns(inserted)[0]["updated_at"] == _FROZEN_AT  # auto_now
    assert [row.body for row in Message.objects.filter(pk__in=[m.pk for m in inserted])] == [
        row.body for row in inserted
    ]  # each key is its own row's
    expected_state = [{**state, "appointment_id": None} for state in _instance_state(expected)]
    inserted_state = [{**state, "appointment_id": None} for state in _instance_state(inserted)]
    assert inserted_state == expected_state
    assert inserted[0].retry_of == earlier  # the related instance stays cached, as it was


@time_machine.travel(_FROZEN_AT, tick=False)
def test_insert_rows_stores_one_row_as_create_does_with_json_and_nulls():
    appointment = factories.AppointmentFactory()
    details = {"moved": ["2026-05-01T09:00:00+00:00", None], "n": 1.5, "ok": True, "név": "“x”"}
    created = AppointmentEvent.objects.create(
        appointment=appointment, kind="moved", actor=None, actor_label="client", details=details
    )
    defaulted = AppointmentEvent.objects.create(
        appointment=appointment, kind="booked", actor_label="client"
    )

    inserted = insert_rows(
        AppointmentEvent,
        [
            AppointmentEvent(
                appointment=appointment, kind="moved", actor=None, actor_label="client",
                details=details,
            )
        ],
    )  # fmt: skip
    inserted_default = insert_rows(
        AppointmentEvent, [AppointmentEvent(appointment=appointment, kind="booked", actor_label="client")]
    )  # fmt: skip

    several = insert_rows(
        AppointmentEvent,
        [
            AppointmentEvent(appointment=appointment, kind="moved", actor_label="client", details=value)
            for value in (details, [1, "two"], "text", {})
        ],
    )  # fmt: skip

    assert _columns(inserted) == _columns([created])
    assert [row["details"] for row in _columns(several)] == [details, [1, "two"], "text", {}]
    assert _columns(inserted_default) == _columns([defaulted])
    assert AppointmentEvent.objects.get(pk=inserted[0].pk).details == details
    assert _columns(inserted_default)[0]["details"] == {}
    assert inserted[0].created_at == _FROZEN_AT
    assert (inserted[0]._state.adding, inserted[0]._state.db) == (False, "default")


@time_machine.travel(_FROZEN_AT, tick=False)
def test_insert_rows_prepares_values_of_other_types_as_django_does():
    rules = list(ReminderRule.objects.order_by("pk")[:2])
    odd = {"attempts": "3", "error_code": True, "to": 447911000001, "subject": gettext_lazy("Hi")}
    naive = {"sent_at": datetime(2026, 5, 1, 10, 0)}  # noqa: DTZ001 - naive on purpose
    by_bulk_create = factories.AppointmentFactory()
    by_insert_rows = _second_visit(by_bulk_create)
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        expected = Message.objects.bulk_create(_messages(by_bulk_create, rules, **odd, **naive))
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        inserted = insert_rows(Message, _messages(by_insert_rows, rules, **odd, **naive))

    assert [{**row, "appointment_id": None} for row in _columns(inserted)] == [
        {**row, "appointment_id": None} for row in _columns(expected)
    ]
    assert _columns(inserted)[0]["attempts"] == 3
    assert _columns(inserted)[0]["to"] == "447911000001"


def test_insert_rows_sends_one_statement_and_nothing_for_no_rows():
    appointment = factories.AppointmentFactory()
    rules = list(ReminderRule.objects.order_by("pk")[:8])

    with CaptureQueriesContext(connection) as queries:
        assert insert_rows(Message, []) == []
        insert_rows(Message, _messages(appointment, rules))
        insert_rows(Message, _messages(appointment, rules[:1], channel=Message.Channel.EMAIL))

    assert len(queries) == 2
    assert Message.objects.filter(appointment=appointment).count() == 9


def test_insert_rows_splits_what_one_statement_cannot_carry_and_keeps_every_key():
    appointment = factories.AppointmentFactory()
    rows = [
        Message(client=appointment.client, category="adhoc", to="+1", body=str(n), due_at=_FROZEN_AT)
        for n in range(1200)  # over SQLite's 999 variables whatever the batch arithmetic
    ]  # fmt: skip

    insert_rows(Message, rows)

    stored = dict(Message.objects.filter(pk__in=[r.pk for r in rows]).values_list("pk", "body"))
    assert len(stored) == 1200
    assert all(stored[row.pk] == row.body for row in rows)


def test_insert_rows_raises_integrity_error_for_a_broken_constraint_and_inserts_nothing():
    appointment = factories.AppointmentFactory()
    rule = ReminderRule.objects.order_by("pk").first()
    insert_rows(Message, _messages(appointment, [rule]))
    again = _messages(appointment, [rule, ReminderRule.objects.order_by("pk")[1]])

    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Message, list(reversed(again)))

    assert Message.objects.filter(appointment=appointment).count() == 1
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            insert_rows(Message, _messages(appointment, [rule]))
        # As after a failed bulk_create: the block can only be rolled back now.
        assert transaction.get_connection().needs_rollback
        transaction.set_rollback(True)


def test_insert_rows_refuses_what_it_cannot_insert_as_bulk_create_would():
    appointment = factories.AppointmentFactory()
    rule = ReminderRule.objects.order_by("pk").first()
    unsaved_client = Client(first_name="New", phone="+447911000002")

    with pytest.raises(ValueError, match="unsaved related object 'client'"):
        insert_rows(Message, _messages(appointment, [rule], client=unsaved_client))
    saved = insert_rows(Message, _messages(appointment, [rule]))
    with pytest.raises(ValueError, match="new rows"):
        insert_rows(Message, saved)
    with pytest.raises(TypeError, match="not expressions"):
        insert_rows(Message, _messages(appointment, [rule], attempts=F("attempts") + 1))
    with pytest.raises(TypeError, match="AppointmentEvent"):
        insert_rows(Message, [AppointmentEvent(appointment=appointment, kind="x")])
    assert Message.objects.filter(appointment=appointment).count() == 1


@pytest.mark.integration
def test_on_postgresql_rows_go_as_one_json_parameter_and_json_columns_as_arrays():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    appointment = factories.AppointmentFactory()
    rules = list(ReminderRule.objects.order_by("pk")[:8])

    with CaptureQueriesContext(connection) as queries:
        inserted = insert_rows(Message, _messages(appointment, rules))
        insert_rows(Message, _messages(appointment, rules[:1], channel=Message.Channel.EMAIL))
        insert_rows(
            AppointmentEvent,
            [AppointmentEvent(appointment=appointment, kind="x", details={"n": n}) for n in (1, 2)],
        )

    assert len(queries) == 3
    assert "json_populate_recordset(" in queries[0]["sql"]
    assert "json_populate_recordset(" in queries[1]["sql"]  # one row: the same statement
    assert "FROM UNNEST(" in queries[2]["sql"]  # a JSON column's value is not a JSON text
    assert [m.rule_id for m in Message.objects.filter(pk__in=[m.pk for m in inserted])] == [
        rule.pk for rule in rules
    ]


@pytest.mark.integration
def test_on_postgresql_a_text_too_long_for_its_column_is_refused_not_cut():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    appointment = factories.AppointmentFactory()
    rule = ReminderRule.objects.order_by("pk").first()

    with pytest.raises(DataError), transaction.atomic():
        Message.objects.bulk_create(_messages(appointment, [rule], status_reason="x" * 301))
    with pytest.raises(DataError), transaction.atomic():
        insert_rows(Message, _messages(appointment, [rule], status_reason="x" * 301))

    assert not Message.objects.filter(appointment=appointment).exists()


def test_new_row_holds_what_the_model_built_from_keywords_holds():
    appointment = factories.AppointmentFactory()
    rule = ReminderRule.objects.order_by("pk").first()
    values = {
        "appointment_id": appointment.pk,
        "client_id": appointment.client_id,
        "rule_id": rule.pk,
        "category": rule.category,
        "to": "+447911000003",
        "body": "Hi",
        "due_at": _FROZEN_AT,
        "status": Message.Status.SKIPPED,
    }

    built = new_row(Message, **values)

    assert type(built) is Message
    assert built.pk is None
    assert built._state.adding
    assert _instance_state([built]) == _instance_state([Message(**values)])
    assert built.attempts == 0
    assert built.channel == Message.Channel.SMS
    insert_rows(Message, [built])
    assert _columns([built])[0]["body"] == "Hi"


def test_new_row_asks_a_callable_default_for_each_row_and_refuses_unknown_names():
    appointment = factories.AppointmentFactory()
    first = new_row(AppointmentEvent, appointment_id=appointment.pk, kind="x")
    second = new_row(AppointmentEvent, appointment_id=appointment.pk, kind="x")

    assert first.details == {}
    assert first.details is not second.details

    with pytest.raises(TypeError, match="appointment"):
        new_row(AppointmentEvent, appointment=appointment)


# update_rows: the same stored rows as bulk_update, on whichever database the suite runs.

_CHANGED_FIELDS = ["status", "status_reason", "due_at", "updated_at", "error_code", "to", "rule"]


def _changed(rows, rules, **changes) -> None:
    """Give every row new values of every kind update_rows writes: choices, text with quotes,
    datetimes, nulls set and cleared, a key by instance."""
    for number, row in enumerate(rows):
        row.status = Message.Status.SCHEDULED if number % 2 else Message.Status.SKIPPED
        row.status_reason = f"Moved {number}: “quoted”, 'single', back\\slash, 50% off"
        row.due_at = _FROZEN_AT + timedelta(hours=number, microseconds=7)
        row.updated_at = _FROZEN_AT + timedelta(minutes=number)
        row.error_code = None if number % 2 else 30003
        row.rule = None if number % 2 else rules[number]
        for name, value in changes.items():
            setattr(row, name, value)


@time_machine.travel(_FROZEN_AT, tick=False)
def test_update_rows_stores_what_bulk_update_stores_and_counts_the_rows():
    rules = list(ReminderRule.objects.order_by("pk")[:4])
    by_bulk_update = insert_rows(Message, _messages(factories.AppointmentFactory(), rules))
    by_update_rows = insert_rows(Message, _messages(factories.AppointmentFactory(), rules))
    untouched = _columns(by_update_rows)
    _changed(by_bulk_update, rules)
    _changed(by_update_rows, rules)

    expected = Message.objects.bulk_update(by_bulk_update, _CHANGED_FIELDS)
    written = update_rows(Message, by_update_rows, _CHANGED_FIELDS)

    assert written == expected == len(rules)
    ignore = {"appointment_id": None, "client_id": None, "location_id": None, "to": None}
    assert [row | ignore for row in _columns(by_update_rows)] == [
        row | ignore for row in _columns(by_bulk_update)
    ]
    assert _columns(by_update_rows)[1]["status_reason"] == by_update_rows[1].status_reason
    assert [row["rule_id"] for row in _columns(by_update_rows)] == [
        rules[0].pk, None, rules[2].pk, None
    ]  # fmt: skip
    assert _columns(by_update_rows)[0]["error_code"] == 30003
    # Only the fields named change: not the body, and auto_now only because it was listed.
    assert [row["body"] for row in _columns(by_update_rows)] == [row["body"] for row in untouched]
    assert _columns(by_update_rows)[2]["updated_at"] == _FROZEN_AT + timedelta(minutes=2)


@time_machine.travel(_FROZEN_AT, tick=False)
def test_update_rows_prepares_values_of_other_types_as_django_does():
    rules = list(ReminderRule.objects.order_by("pk")[:2])
    by_bulk_update = insert_rows(Message, _messages(factories.AppointmentFactory(), rules))
    by_update_rows = insert_rows(Message, _messages(factories.AppointmentFactory(), rules))
    odd = {"error_code": "21610", "to": 447911000001, "status_reason": gettext_lazy("Hi")}
    _changed(by_bulk_update, rules, **odd)
    _changed(by_update_rows, rules, **odd)

    Message.objects.bulk_update(by_bulk_update, [*_CHANGED_FIELDS, "attempts"])
    update_rows(Message, by_update_rows, [*_CHANGED_FIELDS, "attempts"])

    assert [row["error_code"] for row in _columns(by_update_rows)] == [21610, 21610]
    assert [row["to"] for row in _columns(by_update_rows)] == ["447911000001"] * 2
    assert [row["status_reason"] for row in _columns(by_update_rows)] == ["Hi", "Hi"]
    assert [row["due_at"] for row in _columns(by_update_rows)] == [
        row["due_at"] for row in _columns(by_bulk_update)
    ]


def test_update_rows_sends_one_statement_on_postgresql_and_nothing_for_no_rows():
    rules = list(ReminderRule.objects.order_by("pk")[:3])
    rows = insert_rows(Message, _messages(factories.AppointmentFactory(), rules))
    _changed(rows, rules)

    with CaptureQueriesContext(connection) as queries:
        assert update_rows(Message, [], ["status"]) == 0
        update_rows(Message, rows, _CHANGED_FIELDS)

    if connection.vendor == "postgresql":
        assert len(queries) == 1
        assert "FROM UNNEST(" in queries[0]["sql"]
    assert [row["status"] for row in _columns(rows)] == ["skipped", "scheduled", "skipped"]


def test_update_rows_fails_in_an_atomic_block_as_bulk_update_does_and_changes_nothing():
    rules = list(ReminderRule.objects.order_by("pk")[:2])
    rows = insert_rows(Message, _messages(factories.AppointmentFactory(), rules))
    before = _columns(rows)
    for row in rows:
        row.provider_sid = "SM-the-same"  # unique: the second row breaks the constraint
        row.status = Message.Status.SENT

    with transaction.atomic():
        with pytest.raises(IntegrityError):
            update_rows(Message, rows, ["provider_sid", "status"])
        # As after a failed bulk_update: the block can only be rolled back now.
        assert transaction.get_connection().needs_rollback
        transaction.set_rollback(True)

    assert _columns(rows) == before


def test_update_rows_refuses_what_it_cannot_write_as_bulk_update_would():
    rules = list(ReminderRule.objects.order_by("pk")[:1])
    saved = insert_rows(Message, _messages(factories.AppointmentFactory(), rules))
    unsaved = _messages(factories.AppointmentFactory(), rules)

    with pytest.raises(ValueError, match="saved rows"):
        update_rows(Message, unsaved, ["status"])
    with pytest.raises(ValueError, match="primary keys"):
        update_rows(Message, saved, ["id"])
    with pytest.raises(ValueError, match="each row once"):
        update_rows(Message, [saved[0], Message.objects.get(pk=saved[0].pk)], ["status"])
    saved[0].attempts = F("attempts") + 1
    with pytest.raises(TypeError, match="not expressions"):
        update_rows(Message, saved, ["attempts"])
    saved[0].attempts = 0
    saved[0].client = Client(first_name="New", phone="+447911000002")
    with pytest.raises(ValueError, match="unsaved related object 'client'"):
        update_rows(Message, saved, ["client"])
    with pytest.raises(TypeError, match="AppointmentEvent"):
        update_rows(Message, [AppointmentEvent(pk=1)], ["status"])
