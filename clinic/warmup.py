"""Warming a web worker before it takes traffic.

A fresh worker's first request used to pay ~400 ms for work every later request skips: the
URLconf imports every view module (and django-ninja builds the API's schemas), templates are
parsed, time zones loaded. ``warm_up`` does that once, at start-up, without touching the
database (connections belong to the request threads, not to the thread that warms up).
"""

from __future__ import annotations

import logging
import time as clock
from zoneinfo import ZoneInfo

from django.conf import settings
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
    """Import every view, parse the hot templates and load the configured time zone."""
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
    logger.info("worker warmed up", extra={"ms": round((clock.perf_counter() - started) * 1000, 1)})
