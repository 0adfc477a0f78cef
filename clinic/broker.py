"""The embedded Celery broker: kombu's SQLAlchemy transport on its own SQLite file.

The web process, the worker and beat all write to it (publishing tasks, acknowledging them),
so every connection runs in WAL mode (readers never block the writer) with a busy timeout
(writers queue for the lock instead of failing); kombu takes messages in ``BEGIN IMMEDIATE``
transactions, so two readers can never take the same one.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta

BUSY_TIMEOUT_SECONDS = 30


def sqlite_broker_connection(path: str) -> sqlite3.Connection:
    # SQLAlchemy's pool hands a connection to one thread at a time, but not always the same one.
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def sqlite_broker(path: str) -> tuple[str, dict[str, object]]:
    """The broker URL and transport options for a SQLite broker file at ``path``."""
    creator: Callable[[], sqlite3.Connection] = functools.partial(sqlite_broker_connection, path)
    # Transport options go to SQLAlchemy's create_engine; the URL names the dialect, ``creator``
    # makes each connection.
    return f"sqla+sqlite:///{path}", {"creator": creator}


SQLITE_URL_PREFIX = "sqla+sqlite:///"


def delivered_messages_delete(*, broker_url: str, older_than: timedelta) -> int:
    """Delete messages the worker took longer than ``older_than`` ago from a SQLite broker.

    kombu's SQLAlchemy transport keeps every delivered message (``visible = 0``); without
    pruning the file grows by a row for every task, forever. Returns how many were deleted
    (0 for any other broker)."""
    if not broker_url.startswith(SQLITE_URL_PREFIX):
        return 0
    # kombu stamps a message with the local wall clock when it is taken (SQLAlchemy's format).
    cutoff = (datetime.now() - older_than).strftime("%Y-%m-%d %H:%M:%S.%f")  # noqa: DTZ005
    connection = sqlite_broker_connection(broker_url.removeprefix(SQLITE_URL_PREFIX))
    try:
        with connection:
            deleted = connection.execute(
                "DELETE FROM kombu_message WHERE visible = 0 AND timestamp < ?", [cutoff]
            ).rowcount
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):  # nothing was ever queued
            return 0
        raise
    finally:
        connection.close()
    return deleted
