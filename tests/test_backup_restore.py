"""The backup and restore commands of README's "Operating Aftercare", against PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest
from django.db import connection

from bookings.models import Appointment
from reminders.models import Message
from tests import factories
from tests.stack import ROOT

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _url(database: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{database}"


@pytest.fixture
def scratch_database():
    name = f"{connection.settings_dict['NAME']}_restore"
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _url(name)
    with psycopg.connect(_url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(command: list[str], database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        command,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_backup_restores_into_a_scratch_database_with_the_schema_complete(
    scratch_database, tmp_path, practitioner, treatment_service, location
):
    appointment = factories.AppointmentFactory(
        practitioner=practitioner, service=treatment_service, location=location
    )
    Message.objects.create(
        appointment=appointment,
        client=appointment.client,
        location=location,
        category="confirmation",
        to=appointment.client.phone,
        body="See you soon",
        due_at=appointment.start_at,
    )
    dump = tmp_path / "aftercare.dump"

    backup = _run([str(ROOT / "bin" / "backup"), str(dump)], _url(connection.settings_dict["NAME"]))
    assert backup.returncode == 0, backup.stderr
    restore = _run([str(ROOT / "bin" / "restore"), str(dump)], scratch_database)
    assert restore.returncode == 0, restore.stderr

    with psycopg.connect(scratch_database) as restored:
        assert restored.execute(
            f"SELECT count(*) FROM {Appointment._meta.db_table}"  # noqa: S608 - a model's table
        ).fetchone() == (1,)
        assert restored.execute(
            f"SELECT body FROM {Message._meta.db_table}"  # noqa: S608 - a model's table
        ).fetchall() == [("See you soon",)]
    # Every migration is recorded: the restored clinic needs no schema work to start.
    check = _run([sys.executable, "manage.py", "migrate", "--check"], scratch_database)
    assert check.returncode == 0, check.stdout + check.stderr
