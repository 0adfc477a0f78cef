"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from kombu import Connection

from clinic.broker import delivered_messages_delete, sqlite_broker


def test_delivered_messages_are_pruned_and_waiting_ones_kept(tmp_path):
    path = tmp_path / "broker.sqlite3"
    url, options = sqlite_broker(str(path))
    with Connection(url, transport_options=options) as connection:
        queue = connection.SimpleQueue("tasks")
        for n in range(3):
            queue.put({"n": n})
        for _ in range(2):
            queue.get(timeout=5).ack()
        queue.close()

    assert delivered_messages_delete(broker_url=url, older_than=timedelta(hours=1)) == 0
    assert delivered_messages_delete(broker_url=url, older_than=timedelta(0)) == 2

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT count(*) FROM kombu_message").fetchone() == (1,)
    with Connection(url, transport_options=options) as connection:
        queue = connection.SimpleQueue("tasks")
        assert queue.get(timeout=5).payload == {"n": 2}
        queue.close()


def test_pruning_leaves_other_brokers_and_empty_files_alone(tmp_path):
    assert (
        delivered_messages_delete(broker_url="redis://127.0.0.1:6379/0", older_than=timedelta(0))
        == 0
    )
    url, _ = sqlite_broker(str(tmp_path / "never-used.sqlite3"))
    assert delivered_messages_delete(broker_url=url, older_than=timedelta(0)) == 0
