"""Warming a worker process (a web worker, a Celery task process) before it takes traffic.

A fresh worker's first request used to pay ~400 ms for work every later request skips: the
URLconf imports every view module (and django-ninja builds the API's schemas), templates are
parsed, time zones loaded. Its first booking then paid another ~200 ms of CPU: Celery builds
its app and producer pool on the first publish, phonenumbers compiles a country's patterns the
first time it validates one of its numbers, and the reminder rules are read into the process.
Under a burst that is several cold requests per worker, each holding a thread (and a calendar
lock) for longer. A Celery task process's first text likewise built reverse()'s lookup after
reserving its send slot. ``warm_up`` does all of it once, at start-up; the apps' own parts
(phone patterns, rules) through the ``worker_warming`` signal, since this app may not import
them.
"""

from __future__ import annotations

import gc
import logging
import time as clock
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections
from django.dispatch import Signal
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import get_resolver

logger = logging.getLogger(__name__)

# Sent once in each web worker before it accepts and in each Celery task process before its
# first task (best effort: a receiver that raises is logged, and the worker starts). Receivers
# may read the database.
worker_warming = Signal()

# The pages clients hit hardest: the booking site's time picker.
HOT_TEMPLATES = (
    "bookings/site/times.html",
    "bookings/site/_picker_body.html",
)


def warm_up() -> None:
    """Import every view, parse the hot templates, load the configured time zone, build the
    task producer, and let each app warm what it owns (``worker_warming``), best effort."""
    started = clock.perf_counter()
    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - importing the URLconf imports every view
    resolver.reverse_dict  # noqa: B018 - and builds the lookup that reverse() uses
    for name in HOT_TEMPLATES:
        try:
            get_template(name)
        except TemplateDoesNotExist:
            logger.warning("warm-up template missing", extra={"template": name})
    ZoneInfo(settings.TIME_ZONE)
    try:
        _warm_task_producer()
    except Exception:  # noqa: BLE001 - best effort: a worker must start even if this fails
        logger.warning("warm-up could not build the task producer", exc_info=True)
    _warm_apps()
    logger.info("worker warmed up", extra={"ms": round((clock.perf_counter() - started) * 1000, 1)})


def _warm_task_producer() -> None:
    # Registering the tasks and building the producer pool connects to nothing: the broker is
    # dialled on the first publish, so a broker that is down does not hold up start-up.
    from clinic.celery import app

    app.finalize(auto=True)
    app.amqp.router  # noqa: B018 - routes and queues, built on first use
    app.producer_pool  # noqa: B018
    app.backend  # noqa: B018 - the result backend every publish's result handle names


def _warm_apps() -> None:
    # Each app warms what it owns (this app may not import the apps above it): bookings the
    # phone patterns of its locations' countries, reminders its rules.
    try:
        for receiver, outcome in worker_warming.send_robust(sender=None):
            if isinstance(outcome, Exception):
                # A database that is not up (or not migrated) yet: the first requests warm.
                logger.warning(
                    "warm-up step failed",
                    extra={"step": getattr(receiver, "__qualname__", str(receiver))},
                    exc_info=outcome,
                )
    finally:
        # This thread serves no request: its connection would only sit open.
        connections.close_all()


def startup_objects_freeze() -> None:
    """Put what start-up built (modules, classes, the URLconf, templates, Django's registries)
    out of the garbage collector's reach: it lives as long as the process does. Left in, every
    full collection walked all of it with every thread of the process stopped: 40-100 ms in a
    Celery worker, every few seconds while it sent (bench/reminders.py), so its sending threads
    woke late together and their texts crowded into one second at the provider. Frozen, a full
    collection took about 5 ms. Called once a worker process is ready, before its first job."""
    gc.collect()  # what start-up left as garbage goes now instead of being kept for good
    gc.freeze()


def worker_process_prepare() -> None:
    """What every worker process does once before its first job (gunicorn's post_worker_init,
    Celery's worker_process_init): warm up, then freeze what start-up built, the warm-up's
    imports and parsed templates included."""
    warm_up()
    startup_objects_freeze()
