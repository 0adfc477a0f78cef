"""One client, one place, enforced by PostgreSQL.

An exclusion constraint rejects two active appointments of the same client whose visits (buffers
excluded) overlap. Like the practitioner and room constraints (0002) it exists only on
PostgreSQL and stays out of the model state; ``bookings.services.appointments`` checks the same
rule inside the placement transaction on every database.
"""

from __future__ import annotations

from django.db import migrations

ACTIVE = "('held', 'pending_clearance', 'booked', 'confirmed', 'arrived', 'completed')"

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    f"""
    ALTER TABLE bookings_appointment ADD CONSTRAINT appointment_no_client_overlap
    EXCLUDE USING gist (
        client_id WITH =,
        tstzrange(start_at, end_at, '[)') WITH &&
    ) WHERE (status IN {ACTIVE} AND client_id IS NOT NULL)
    """,
]

DROP = ["ALTER TABLE bookings_appointment DROP CONSTRAINT IF EXISTS appointment_no_client_overlap"]


def _run(statements: list[str]):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("bookings", "0007_appointment_blocked_start_index")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP), elidable=False)]
