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
def _startup_objects_freeze(**kwargs: object) -> None:
    """In each process that runs tasks (a prefork child, or a solo worker itself), once Django
    and every task module are loaded: see clinic.warmup.startup_objects_freeze."""
    from clinic.warmup import startup_objects_freeze

    startup_objects_freeze()
