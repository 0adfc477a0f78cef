"""Celery tasks: thin wrappers; the rules live in ``reminders.dispatch``.

Both tasks are safe to run concurrently on any number of workers: rows are claimed with
SKIP LOCKED and every outcome is recorded with a conditional update.
"""

from __future__ import annotations

import logging

from celery import shared_task

from reminders import dispatch
from reminders.services import retention, staff_alerts

logger = logging.getLogger(__name__)


@shared_task(name="reminders.dispatch_due_messages", ignore_result=True)
def dispatch_due_messages(max_batches: int = 50) -> dict[str, int]:
    report = dispatch.messages_dispatch_due(max_batches=max_batches)
    if report.claimed:
        logger.info(
            "dispatch sweep",
            extra={
                "claimed": report.claimed,
                "sent": report.sent,
                "deferred": report.deferred,
                "skipped": report.skipped,
                "failed": report.failed,
                "retrying": report.retrying,
                "uncertain": report.uncertain,
                "released": report.released,
            },
        )
    return {"claimed": report.claimed, "sent": report.sent}


@shared_task(name="reminders.reconcile_sending_messages", ignore_result=True)
def reconcile_sending_messages() -> dict[str, int]:
    report = dispatch.messages_reconcile_stuck()
    if report.checked:
        logger.info(
            "reconciliation",
            extra={
                "checked": report.checked,
                "confirmed_sent": report.confirmed_sent,
                "resent": report.resent,
                "failed": report.failed,
                "unknown": report.unknown,
            },
        )
    return {"checked": report.checked, "resent": report.resent}


@shared_task(name="reminders.send_staff_alert", ignore_result=True)
def send_staff_alert(alert_id: int) -> bool:
    return staff_alerts.staff_alert_send(alert_id=alert_id)


@shared_task(name="reminders.send_unsent_staff_alerts", ignore_result=True)
def send_unsent_staff_alerts() -> int:
    return staff_alerts.staff_alerts_send_unsent()


@shared_task(name="reminders.messages_retention_enforce", ignore_result=True)
def enforce_message_retention() -> dict[str, int]:
    """Nightly (beat): blank the texts of messages and replies past MESSAGE_RETENTION_DAYS."""
    return retention.messages_retention_enforce()
