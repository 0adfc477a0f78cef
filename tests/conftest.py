"""Shared fixtures: named actors (so permission tests read like stories), a small clinic, and
the rule that integration tests never silently skip in CI."""

from __future__ import annotations

import importlib
import os
from datetime import time

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from clinic import roles
from tests import factories

REQUIRE_SERVICES = bool(os.environ.get("CI") or os.environ.get("REQUIRE_SERVICES"))


def _unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (CI/REQUIRE_SERVICES is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def _redis_reachable() -> bool:
    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(autouse=True)
def _integration_services(request: pytest.FixtureRequest) -> None:
    """Integration tests need PostgreSQL and Redis; without them they skip with the reason, or
    fail when CI or REQUIRE_SERVICES is set."""
    if request.node.get_closest_marker("integration") is None:
        return
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine != "django.db.backends.postgresql":
        _unavailable("integration test needs PostgreSQL: set TEST_DATABASE_URL or DATABASE_URL")
    if not _redis_reachable():
        _unavailable("integration test needs Redis: set REDIS_URL to a running server")


# Rows that data migrations install and the app relies on.
MIGRATION_DATA = (
    ("clinic.migrations.0002_staff_roles", "create_roles"),
    ("bookings.migrations.0005_default_screening_questionnaire", "create_defaults"),
    ("bookings.migrations.0015_default_screening_follow_ups", "add_follow_ups"),
    ("reminders.migrations.0002_default_protocol", "add_default_protocol"),
    ("reminders.migrations.0007_default_red_flags", "add_red_flags"),
    ("reminders.migrations.0009_catch_up_rules", "add_catch_up_rules"),
    ("reminders.migrations.0011_messages_follow_the_record", "forwards"),
    ("reminders.migrations.0013_records_recall_rating", "add_outcome_rating_rules"),
)


@pytest.fixture(autouse=True)
def _data_from_migrations(request: pytest.FixtureRequest) -> None:
    """A transactional test flushes every table when it ends, including the rows that data
    migrations installed (roles, screening questionnaire, consent form, reminder protocol).
    Put them back (idempotently) before each test that runs with real transactions, so tests
    do not depend on which transactional test ran before them."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if not transactional:
        return
    request.getfixturevalue("_django_db_helper")
    from django.apps import apps

    for module, function in MIGRATION_DATA:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def _locmem_sms(settings) -> None:  # noqa: PT004
    settings.SMS_BACKEND = "locmem"


def _staff(username: str, role: str | None):
    user = factories.UserFactory(username=username)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def reception(db):
    return _staff("rita_reception", roles.RECEPTION)


@pytest.fixture
def practitioner_user(db):
    return _staff("pat_practitioner", roles.PRACTITIONER)


@pytest.fixture
def manager(db):
    return _staff("mona_manager", roles.MANAGER)


@pytest.fixture
def stranger(db):
    return _staff("sam_stranger", None)


@pytest.fixture
def location(db):
    return factories.LocationFactory()


@pytest.fixture
def room(location):
    return factories.RoomFactory(location=location, name="Room 1")


@pytest.fixture
def consultation_service(db):
    return factories.ServiceFactory(
        name="Skin consultation",
        slug="skin-consultation",
        kind="consultation",
        duration_minutes=30,
        price=0,
    )


@pytest.fixture
def treatment_service(room):
    service = factories.ServiceFactory(
        name="Micro-needling – face",
        slug="microneedling-face",
        kind="treatment",
        duration_minutes=60,
        buffer_after_minutes=15,
        requires_consultation=True,
        course_size=3,
        min_interval_days=28,
    )
    service.rooms.add(room)
    return service


@pytest.fixture
def practitioner(location, practitioner_user, consultation_service, treatment_service):
    """Works Monday to Friday 09:00–17:00 at ``location`` and performs both services."""
    practitioner = factories.PractitionerFactory(user=practitioner_user, display_name="Pat Lee")
    practitioner.locations.add(location)
    practitioner.services.add(consultation_service, treatment_service)
    for weekday in range(5):
        factories.WorkingHoursFactory(
            practitioner=practitioner,
            location=location,
            weekday=weekday,
            start_time=time(9),
            end_time=time(17),
        )
    return practitioner


@pytest.fixture
def client_person(db):
    return factories.ClientFactory()


@pytest.fixture(scope="session", autouse=True)
def _no_stray_sessions_on_the_test_database(django_db_setup, django_db_blocker):  # noqa: PT004
    """Worker processes started by integration tests can still hold a connection when the
    session ends; PostgreSQL then refuses to drop the test database. End those sessions first
    (this fixture tears down before django_db_setup, which it depends on)."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
