"""No double booking, enforced by PostgreSQL.

Exclusion constraints (btree_gist) reject two active appointments whose blocked intervals
(buffers included) overlap for the same practitioner or the same room. They are created only on
PostgreSQL; on SQLite the same rule is enforced by ``bookings.services`` inside a BEGIN IMMEDIATE
transaction. They are kept out of the model state on purpose: Django would otherwise try to
validate them in Python on SQLite (admin forms call ``validate_constraints``).
"""

from __future__ import annotations

from django.db import migrations

ACTIVE = "('held', 'pending_clearance', 'booked', 'confirmed', 'arrived', 'completed')"

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""
    ALTER TABLE bookings_appointment ADD CONSTRAINT appointment_no_practitioner_overlap
    EXCLUDE USING gist (
        practitioner_id WITH =,
        tstzrange(blocked_start_at, blocked_end_at, '[)') WITH &&
    ) WHERE (status IN {ACTIVE})
    """,
    f"""
    ALTER TABLE bookings_appointment ADD CONSTRAINT appointment_no_room_overlap
    EXCLUDE USING gist (
        room_id WITH =,
        tstzrange(blocked_start_at, blocked_end_at, '[)') WITH &&
    ) WHERE (status IN {ACTIVE} AND room_id IS NOT NULL)
    """,
]

DROP = [
    "ALTER TABLE bookings_appointment DROP CONSTRAINT IF EXISTS appointment_no_room_overlap",
    "ALTER TABLE bookings_appointment DROP CONSTRAINT IF EXISTS appointment_no_practitioner_overlap",
]


def _run(statements: list[str]):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP), elidable=False)]
