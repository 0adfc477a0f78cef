"""``GET /healthz``: is this process able to reach its database and its broker?"""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from clinic.celery import app as celery_app

logger = logging.getLogger(__name__)


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means "down" for a load balancer
        logger.warning("healthz database check failed", extra={"error": type(error).__name__})
        return "down"
    return "ok"


def broker_status() -> str:
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except Exception as error:  # kombu wraps transport errors in many types
        logger.warning("healthz broker check failed", extra={"error": type(error).__name__})
        return "down"
    return "ok"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    report = {"database": database_status(), "broker": broker_status()}
    status = 200 if all(value == "ok" for value in report.values()) else 503
    return JsonResponse(report, status=status)
