"""gunicorn settings for bin/web, from the environment (``--config python:clinic.gunicorn``)."""

from __future__ import annotations

import os

bind = [os.environ.get("BIND") or f"0.0.0.0:{os.environ.get('PORT') or '8000'}"]
# Threads, not just processes: a burst of slow clients queues in the threads instead of being
# refused, and a booking waits on the database, not the CPU.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
threads = int(os.environ.get("WEB_THREADS") or 8)
backlog = 2048
timeout = 30
graceful_timeout = 20
accesslog = "-"
# gunicorn's control socket lives in ~/.gunicorn by default and would be shared by every
# instance on the machine; supervisord is what controls this process.
control_socket_disable = True


def child_exit(server: object, worker: object) -> None:
    """A dead worker's live gauges must not linger in the shared metrics files."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
