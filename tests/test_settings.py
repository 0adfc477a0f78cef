from __future__ import annotations

import json
import subprocess
import sys
from datetime import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.env import env_bool, env_database, env_float, env_int, env_list, env_time_range


def test_without_database_url_the_embedded_sqlite_file_is_used_in_wal_immediate_mode():
    config = env_database("DATABASE_URL", "/tmp/x.sqlite3", environ={})
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/tmp/x.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["timeout"] >= 5


@pytest.mark.parametrize(
    ("url", "name", "host", "port"),
    [
        ("postgres://app:secret@db:5432/aftercare", "aftercare", "db", 5432),
        ("postgresql://postgres@127.0.0.1/aftercare_ci", "aftercare_ci", "127.0.0.1", ""),
        ("postgres://u:p%40ss@10.0.0.5:6543/clinic?sslmode=require", "clinic", "10.0.0.5", 6543),
    ],
)
def test_postgres_urls_are_parsed(url, name, host, port):
    config = env_database("DATABASE_URL", "/unused", environ={"DATABASE_URL": url})
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == name
    assert config["HOST"] == host
    assert config["PORT"] == port


def test_postgresql_prepares_repeated_statements_unless_a_pooler_forbids_it():
    url = "postgres://app@db/aftercare?sslmode=require"
    config = env_database("DATABASE_URL", "/unused", environ={"DATABASE_URL": url})
    assert config["OPTIONS"]["server_side_binding"] is True
    assert config["OPTIONS"]["prepare_threshold"] == 5
    assert config["OPTIONS"]["sslmode"] == "require"

    config = env_database(
        "DATABASE_URL",
        "/unused",
        environ={"DATABASE_URL": url, "DATABASE_PREPARED_STATEMENTS": "0"},
    )
    assert config["OPTIONS"] == {"sslmode": "require", "connect_timeout": 10}


def test_an_unreachable_postgresql_fails_within_seconds_unless_the_url_says_otherwise():
    config = env_database("DATABASE_URL", "/unused", environ={"DATABASE_URL": "postgres://db/a"})
    assert config["OPTIONS"]["connect_timeout"] == 10
    url = "postgres://db/a?connect_timeout=3"
    config = env_database("DATABASE_URL", "/unused", environ={"DATABASE_URL": url})
    assert config["OPTIONS"]["connect_timeout"] == 3


def test_password_with_escaped_characters_is_decoded():
    config = env_database(
        "DATABASE_URL", "/unused", environ={"DATABASE_URL": "postgres://u:p%40ss@h/db"}
    )
    assert config["PASSWORD"] == "p@ss"


def test_sqlite_url_keeps_the_wal_options():
    config = env_database(
        "DATABASE_URL", "/unused", environ={"DATABASE_URL": "sqlite:////tmp/other.db"}
    )
    assert config["NAME"] == "/tmp/other.db"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/db", "nonsense", "redis://localhost:6379/0"]
)
def test_unsupported_database_urls_name_the_variable(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env_database("DATABASE_URL", "/unused", environ={"DATABASE_URL": url})


def test_postgres_url_without_database_name_is_rejected():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must name a database"):
        env_database("DATABASE_URL", "/unused", environ={"DATABASE_URL": "postgres://u@host"})


def test_booleans_accept_common_words_and_reject_others():
    assert env_bool("DEBUG", False, environ={"DEBUG": "yes"}) is True
    assert env_bool("DEBUG", True, environ={"DEBUG": "0"}) is False
    assert env_bool("DEBUG", True, environ={}) is True
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be a boolean"):
        env_bool("DEBUG", True, environ={"DEBUG": "maybe"})


def test_numbers_are_checked():
    assert env_int("N", 3, environ={"N": "7"}) == 7
    assert env_float("RATE", 1.0, environ={"RATE": "2.5"}) == 2.5
    with pytest.raises(ImproperlyConfigured, match="N must be an integer"):
        env_int("N", 3, environ={"N": "seven"})
    with pytest.raises(ImproperlyConfigured, match="SMS_RATE_PER_SECOND must be at least 0"):
        env_float("SMS_RATE_PER_SECOND", 1.0, minimum=0, environ={"SMS_RATE_PER_SECOND": "-1"})


def test_lists_and_time_ranges():
    assert env_list("ALLOWED_HOSTS", [], environ={"ALLOWED_HOSTS": "a.test, b.test,"}) == [
        "a.test",
        "b.test",
    ]
    assert env_time_range("QUIET_HOURS", "21:00-08:00", environ={}) == (time(21), time(8))
    with pytest.raises(ImproperlyConfigured, match="QUIET_HOURS"):
        env_time_range("QUIET_HOURS", "21:00-08:00", environ={"QUIET_HOURS": "late"})


DEVELOPMENT = {"DEBUG": "1", "SECRET_KEY": "d" * 20 + "Dev7!x" * 6}
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 20 + "Z9x!q" * 8,
    "ALLOWED_HOSTS": "clinic.example",
    "SMS_BACKEND": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "token",
    "TWILIO_FROM_NUMBER": "+447700900001",
}


def _import_settings(
    env: dict[str, str], code: str = "import django; django.setup()"
) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": "/usr/bin:/bin",
        "AFTERCARE_VAR_DIR": "/tmp/aftercare-settings-test",
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_debug_is_off_unless_set_so_a_bare_environment_needs_a_secret_key():
    result = _import_settings({})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG=0" in result.stderr


def test_development_mode_has_no_built_in_secret_key_either():
    result = _import_settings({"DEBUG": "1"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    assert "var/secret-key" in result.stderr


def test_production_mode_refuses_to_start_without_secret_key():
    result = _import_settings({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG=0" in result.stderr


def test_production_mode_refuses_an_insecure_secret_key():
    result = _import_settings({"DEBUG": "0", "SECRET_KEY": "django-insecure-short"})
    assert result.returncode != 0
    assert "SECRET_KEY is insecure" in result.stderr


def test_production_mode_starts_with_a_strong_secret_key():
    result = _import_settings(PRODUCTION)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("backend", [None, "console"], ids=["unset", "console"])
def test_production_mode_refuses_to_print_sms_to_the_log(backend):
    env = {key: value for key, value in PRODUCTION.items() if key != "SMS_BACKEND"}
    if backend:
        env["SMS_BACKEND"] = backend
    result = _import_settings(env)
    assert result.returncode != 0
    assert "SMS_BACKEND must be set to twilio when DEBUG=0" in result.stderr


def test_twilio_backend_requires_credentials():
    result = _import_settings({**DEVELOPMENT, "SMS_BACKEND": "twilio"})
    assert result.returncode != 0
    assert "TWILIO_ACCOUNT_SID must be set" in result.stderr


def test_importing_settings_creates_no_files_or_folders(tmp_path):
    var_dir = tmp_path / "not-yet"
    result = _import_settings(
        {**DEVELOPMENT, "AFTERCARE_VAR_DIR": str(var_dir)}, code="import clinic.settings"
    )
    assert result.returncode == 0, result.stderr
    assert not var_dir.exists()


def test_the_whole_beat_schedule_is_in_settings_and_names_registered_tasks():
    from clinic.celery import app

    # Read by a process that only imports the settings: no app may add entries later.
    result = _import_settings(
        DEVELOPMENT,
        code="import json, clinic.settings as s; print(json.dumps(s.CELERY_BEAT_SCHEDULE))",
    )
    assert result.returncode == 0, result.stderr
    schedule = json.loads(result.stdout)
    app.loader.import_default_modules()
    assert {entry["task"] for entry in schedule.values()} <= set(app.tasks)
    assert {
        "bookings.release_expired_holds",
        "bookings.tentative_holds_release_due",
        "bookings.verifications_delete_old",
        "bookings.retention_enforce",
        "reminders.messages_retention_enforce",
        "reminders.dispatch_due_messages",
        "reminders.reconcile_sending_messages",
        "reminders.send_unsent_staff_alerts",
        "payments.abandon_expired_deposits",
        "payments.reconcile",
        "waitlist.offers_sweep",
        "waitlist.entries_expire",
        "clinic.prune_embedded_broker",  # without REDIS_URL: the SQLite broker keeps messages
    } == {entry["task"] for entry in schedule.values()}


def test_deploy_checks_pass_in_production_settings():
    env = {**PRODUCTION, "PUBLIC_BASE_URL": "https://clinic.example"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={"PATH": "/usr/bin:/bin", "AFTERCARE_VAR_DIR": "/tmp/aftercare-settings-test", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _photo_storage_in(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='clinic.settings'; django.setup()\n"
        "from django.core.files.storage import storages\n"
        "s = storages['photos']\n"
        "print(type(s).__module__ + '.' + type(s).__name__, getattr(s, 'default_acl', '-'),"
        " getattr(s, 'querystring_auth', '-'), getattr(s, 'bucket_name', '-'))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={
            "PATH": "/usr/bin:/bin",
            "AFTERCARE_VAR_DIR": "/tmp/aftercare-settings-test",
            **DEVELOPMENT,
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )


def test_photos_are_local_files_by_default_and_a_private_s3_bucket_when_asked():
    local = _photo_storage_in({})
    assert local.stdout.startswith("django.core.files.storage.filesystem.FileSystemStorage")
    s3 = _photo_storage_in({"PHOTO_STORAGE": "s3", "PHOTO_S3_BUCKET": "clinic-photos"})
    assert s3.stdout.split() == [
        "storages.backends.s3.S3Storage",
        "private",
        "True",
        "clinic-photos",
    ]


@pytest.mark.parametrize(
    ("env", "named"),
    [({"PHOTO_STORAGE": "s3"}, "PHOTO_S3_BUCKET"), ({"PHOTO_STORAGE": "ftp"}, "PHOTO_STORAGE")],
)
def test_a_bad_photo_storage_setting_stops_start_up_naming_the_variable(env, named):
    result = _import_settings({**DEVELOPMENT, **env})
    assert result.returncode != 0
    assert named in result.stderr


@pytest.mark.parametrize(("level", "shown"), [("ERROR", False), ("WARNING", True), ("INFO", True)])
def test_a_4xx_answer_is_logged_only_when_log_level_lets_warnings_through(level, shown):
    code = (
        "import django, logging; django.setup();"
        " logging.getLogger('django.request').warning('Conflict: /api/v1/bookings')"
    )
    result = _import_settings({**DEVELOPMENT, "LOG_LEVEL": level}, code=code)
    assert result.returncode == 0, result.stderr
    assert ("Conflict: /api/v1/bookings" in result.stdout) is shown
