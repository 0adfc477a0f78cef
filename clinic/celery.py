from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

app = Celery("aftercare")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="clinic.ping")
def ping() -> str:
    """A trivial task used by health checks and the broker round-trip test."""
    return "pong"


@worker_process_init.connect
def _task_process_warm_up(**kwargs: object) -> None:
    """Each process that runs tasks (a prefork child, or a solo worker itself) warms up as a
    web worker does, once Django and every task module are loaded, then freezes what start-up
    built (clinic.warmup). Cold, a worker's first text built reverse()'s lookup for its status
    callback address (17 ms) after it had reserved its send slot, reached the provider 28 ms
    after that slot, and crowded the next second's texts there (bench/reminders.py)."""
    from clinic.warmup import worker_process_prepare

    worker_process_prepare()
