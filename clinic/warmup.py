"""Warming a web worker before it takes traffic.

A fresh worker's first request used to pay ~400 ms for work every later request skips: the
URLconf imports every view module (and django-ninja builds the API's schemas), templates are
parsed, time zones loaded. Its first booking then paid another ~200 ms of CPU: Celery builds
its app and producer pool on the first publish, phonenumbers compiles a country's patterns the
first time it validates one of its numbers, and the reminder rules are read into the process.
Under a burst that is several cold requests per worker, each holding a thread (and a calendar
lock) for longer. ``warm_up`` does all of it once, at start-up.
"""

from __future__ import annotations

import contextlib
import logging
import time as clock
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.db import DatabaseError, connections
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import get_resolver

logger = logging.getLogger(__name__)

# The pages clients hit hardest: the booking site's time picker.
HOT_TEMPLATES = (
    "bookings/site/times.html",
    "bookings/site/_picker_body.html",
)


def warm_up() -> None:
    """Import every view, parse the hot templates, load the configured time zone, build the
    task producer, and read what bookings need from the database (best effort)."""
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
    _warm_from_database()
    logger.info("worker warmed up", extra={"ms": round((clock.perf_counter() - started) * 1000, 1)})


def _warm_task_producer() -> None:
    # Registering the tasks and building the producer pool connects to nothing: the broker is
    # dialled on the first publish, so a broker that is down does not hold up start-up.
    from clinic.celery import app

    app.finalize(auto=True)
    app.amqp.router  # noqa: B018 - routes and queues, built on first use
    app.producer_pool  # noqa: B018
    app.backend  # noqa: B018 - the result backend every publish's result handle names


def phone_countries_warmed() -> list[str]:
    """Compile the phone patterns of every location's country, as validating a client's
    number there would: the country of each active location, checked with its example
    mobile number. Returns the countries."""
    from bookings.services.clients import normalise_phone
    from clinic.errors import ValidationFailed
    from clinic.models import Location

    countries = sorted(
        set(Location.objects.filter(is_active=True).values_list("country", flat=True))
    )
    for country in countries:
        example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
        if example is None:
            continue
        # An example the rules refuse has still compiled them.
        with contextlib.suppress(ValidationFailed):
            normalise_phone(
                phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164),
                region=country,
            )
    return countries


def _warm_from_database() -> None:
    from reminders.rulebook import active_rules

    try:
        phone_countries_warmed()
        active_rules()
    except DatabaseError:
        # A database that is not up (or not migrated) yet: the first requests warm instead.
        logger.warning("warm-up could not read the database", exc_info=True)
    finally:
        # This thread serves no request: its connection would only sit open.
        connections.close_all()
