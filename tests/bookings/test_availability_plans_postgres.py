"""free_slots reads only the asked practitioners' and rooms' visits in the window, on PostgreSQL,
whatever plan the prepared statement gets: the generic plan (chosen after five runs on one
connection) once read every practitioner's visits in the window through an index on
blocked_start_at alone, so the cost of one practitioner's month grew with the clinic."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from bookings.availability import free_slots
from bookings.models import Appointment
from tests import factories
from tests.bookings import test_availability

LONDON = ZoneInfo("Europe/London")
pytestmark = [pytest.mark.integration, pytest.mark.django_db]
PRACTITIONERS = 10
HISTORY_DAYS = 300


@pytest.fixture
def busy_clinic():
    """Ten practitioners, three rooms, a solo practitioner with a roomless service; six visits a
    day each for HISTORY_DAYS before today and 60 days after (about 20,000 rows)."""
    location = factories.LocationFactory(timezone="Europe/London")
    rooms = [factories.RoomFactory(location=location) for _ in range(3)]
    service = factories.ServiceFactory(duration_minutes=60, buffer_after_minutes=15)
    service.rooms.set(rooms)
    solo_service = factories.ServiceFactory(duration_minutes=30)
    team = [factories.PractitionerFactory() for _ in range(PRACTITIONERS)]
    solo = factories.PractitionerFactory()
    for practitioner in team:
        practitioner.locations.add(location)
        practitioner.services.add(service)
    solo.locations.add(location)
    solo.services.add(solo_service)
    for practitioner in [*team, solo]:
        for weekday in range(7):
            factories.WorkingHoursFactory(
                practitioner=practitioner, location=location, weekday=weekday
            )
    today = timezone.localdate(timezone.now(), LONDON)
    midnight = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    rows = []
    for index, practitioner in enumerate([*team, solo]):
        client = factories.ClientFactory()
        # The first three practitioners work in a room of their own (no two visits share one).
        room_id = rooms[index].pk if index < len(rooms) else None
        rows.append((practitioner.pk, room_id, client.pk))
    with connection.cursor() as cursor:
        for practitioner_id, room_id, client_id in rows:
            cursor.execute(
                f"""
                INSERT INTO {Appointment._meta.db_table}
                    (client_id, service_id, practitioner_id, room_id, location_id, start_at,
                     end_at, blocked_start_at, blocked_end_at, status, version, channel,
                     cancellation_reason, override_reason, held_by_browser, created_at,
                     updated_at)
                SELECT %s, %s, %s, %s, %s, visit, visit + interval '60 minutes', visit,
                       visit + interval '75 minutes',
                       CASE WHEN visit < %s THEN 'completed' ELSE 'booked' END, 1, 'staff',
                       '', '', '', now(), now()
                FROM generate_series(%s::timestamptz, %s::timestamptz, interval '1 day') AS day,
                     generate_series(0, 5) AS position,
                     LATERAL (SELECT day + interval '9 hours'
                                  + position * interval '75 minutes' AS visit) AS visits
                """,  # noqa: S608 - the table name only
                [
                    client_id,
                    service.pk,
                    practitioner_id,
                    room_id,
                    location.pk,
                    midnight,
                    midnight - timedelta(days=HISTORY_DAYS),
                    midnight + timedelta(days=60),
                ],
            )
        cursor.execute(f"ANALYZE {Appointment._meta.db_table}")
    return {
        "location": location,
        "team": {"service": service, "practitioner": None},
        "solo": {"service": solo_service, "practitioner": solo},
        "window": (today + timedelta(days=1), today + timedelta(days=30)),
    }


def _blocked_time_statement(clinic: dict, question: str) -> tuple[str, list]:
    """The statement (with %s placeholders) and parameters free_slots sends for blocked time."""
    sent: list[tuple[str, list]] = []

    def record(execute, sql, params, many, context):  # noqa: ANN001 - Django's wrapper shape
        sent.append((sql, list(params or [])))
        return execute(sql, params, many, context)

    start_date, end_date = clinic["window"]
    with connection.execute_wrapper(record):
        free_slots(
            location=clinic["location"],
            start_date=start_date,
            end_date=end_date,
            **clinic[question],
        )
    (statement,) = [(sql, params) for sql, params in sent if "blocked_start_at" in sql]
    return statement


def _type_of(value: object) -> str:
    """The parameter's type as the driver sends it, for PREPARE."""
    if isinstance(value, datetime):
        return "timestamptz"
    if isinstance(value, date):
        return "date"
    if isinstance(value, int):
        return "int8"
    return "text"


def _scans_of_appointments(plan: dict) -> list[dict]:
    """Plan nodes that read bookings_appointment or one of its indexes."""
    found = []
    if plan.get("Relation Name") == Appointment._meta.db_table or (
        plan.get("Node Type") == "Bitmap Index Scan"
        and plan.get("Index Name", "") in _appointment_index_names()
    ):
        found.append(plan)
    for child in plan.get("Plans", []):
        found += _scans_of_appointments(child)
    return found


def _appointment_index_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s",
            [Appointment._meta.db_table],
        )
        return {name for (name,) in cursor.fetchall()}


def test_blocked_time_is_read_per_practitioner_and_room_in_any_plan(busy_clinic):
    # One test for the four cases: building the 20,000 rows is most of its time.
    for question in ["team", "solo"]:
        sql, params = _blocked_time_statement(busy_clinic, question)
        for plan_mode in ["force_custom_plan", "force_generic_plan"]:
            scans = _scans_of_appointments(_plan(sql, params, plan_mode=plan_mode))
            assert scans, (question, plan_mode)
            for scan in scans:
                assert scan["Node Type"] != "Seq Scan", (question, plan_mode, scan)
                if "Index Name" in scan:
                    # Each index range starts at an asked practitioner or room, not at the
                    # window's first visit.
                    condition = scan["Index Cond"]
                    assert "practitioner_id" in condition or "room_id" in condition, (
                        question,
                        plan_mode,
                        scan["Index Name"],
                        condition,
                    )


def _plan(sql: str, params: list, *, plan_mode: str) -> dict:
    """EXPLAIN of ``sql`` as a prepared statement, with its custom or its generic plan."""
    numbered = sql
    for number in range(1, len(params) + 1):
        numbered = numbered.replace("%s", f"${number}", 1)
    types = [_type_of(value) for value in params]
    arguments = ", ".join(f"%s::{type_name}" for type_name in types)
    with connection.cursor() as cursor:
        cursor.execute(f"SET plan_cache_mode = {plan_mode}")
        cursor.execute(f"PREPARE availability_probe ({', '.join(types)}) AS {numbered}")
        try:
            # Values quoted into the text: a utility statement cannot infer bound text's type.
            explain = psycopg.ClientCursor(cursor.connection).mogrify(
                f"EXPLAIN (FORMAT JSON) EXECUTE availability_probe({arguments})", params
            )
            cursor.execute(explain)
            (plan_text,) = cursor.fetchone()
        finally:
            cursor.execute("DEALLOCATE availability_probe")
            cursor.execute("RESET plan_cache_mode")
    return (json.loads(plan_text) if isinstance(plan_text, str) else plan_text)[0]["Plan"]


def test_blocked_time_is_rounded_outwards_to_whole_seconds_on_postgresql(location, practitioner):
    test_availability.test_a_block_ending_a_microsecond_into_a_start_forbids_it_and_one_ending_before_does_not(
        location, practitioner
    )
