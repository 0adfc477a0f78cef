"""Outbox figures for /metrics (see clinic.metrics for why some are read from the database at
scrape time and some are counted as they happen)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

import clinic.metrics  # noqa: F401 - names multiprocess files before any metric exists
from reminders.models import Message

Status = Message.Status

SMS_SENDS = Counter(
    "aftercare_sms_sends",
    "SMS handed to the provider, by outcome (accepted, retrying, failed, uncertain) and the "
    "provider's error code (empty when accepted)",
    ["outcome", "error_code"],
)
DISPATCH_LATENCY = Histogram(
    "aftercare_sms_dispatch_latency_seconds",
    "From a message being due to the provider accepting it",
    buckets=(1, 2, 5, 10, 30, 60, 120, 300, 900, 3600),
)


def sms_accepted(*, due_at: datetime, now: datetime) -> None:
    SMS_SENDS.labels(outcome="accepted", error_code="").inc()
    DISPATCH_LATENCY.observe(max((now - due_at).total_seconds(), 0.0))


def sms_not_accepted(*, outcome: str, error_code: int | None) -> None:
    SMS_SENDS.labels(
        outcome=outcome, error_code="" if error_code is None else str(error_code)
    ).inc()


class OutboxCollector:
    """Rows by status, how long the oldest due message has waited, failures by error code."""

    def collect(self):  # noqa: ANN201 - prometheus-client's collector protocol
        now = timezone.now()
        by_status = dict(
            Message.objects.order_by().values_list("status").annotate(count=Count("id"))
        )
        rows = GaugeMetricFamily(
            "aftercare_outbox_messages", "Outbox rows by status", labels=["status"]
        )
        for status in Status.values:
            rows.add_metric([status], by_status.get(status, 0))
        yield rows

        # Uses the partial index on due scheduled rows and the one on ``sending`` rows.
        oldest = Message.objects.filter(
            Q(status=Status.SCHEDULED, due_at__lte=now) | Q(status=Status.SENDING)
        ).aggregate(oldest=Min("due_at"))["oldest"]
        yield GaugeMetricFamily(
            "aftercare_outbox_oldest_due_unsent_seconds",
            "Age of the oldest message that is due and not yet sent (0 when none)",
            value=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        )

        failures = GaugeMetricFamily(
            "aftercare_outbox_failed_messages",
            "Outbox rows that ended failed or undelivered, by the provider's error code",
            labels=["status", "error_code"],
        )
        for status, code, count in (
            Message.objects.filter(status__in=[Status.FAILED, Status.UNDELIVERED])
            .order_by()
            .values_list("status", "error_code")
            .annotate(count=Count("id"))
        ):
            failures.add_metric([status, "" if code is None else str(code)], count)
        yield failures
