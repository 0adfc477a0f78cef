"""Resolving rows left ``sending`` past their lease (a worker died, or an answer was lost)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from reminders.backends import SmsError, get_backend
from reminders.models import Message

logger = logging.getLogger(__name__)

Status = Message.Status

# After a lease expires, wait this long for a status callback before asking the provider.
RECONCILE_GRACE = timedelta(minutes=1)
# A row whose outcome nobody can establish for this long is failed for staff to look at.
RECONCILE_GIVE_UP = timedelta(hours=24)


@dataclass
class ReconcileReport:
    checked: int = 0
    confirmed_sent: int = 0
    resent: int = 0
    failed: int = 0
    unknown: int = 0


def messages_reconcile_stuck(*, now: datetime | None = None, limit: int = 200) -> ReconcileReport:
    """Resolve rows left ``sending`` past their lease (a worker died, or the provider's answer
    was lost). Found at the provider → ``sent``; positively absent after the grace period →
    sent again once; absent again → ``failed`` for staff. If the provider cannot answer, the
    row stays as it is and is tried next time."""
    now = now or timezone.now()
    report = ReconcileReport()
    backend = get_backend()
    stuck = list(
        Message.objects.filter(status=Status.SENDING, lease_expires_at__lt=now)
        .filter(Q(lease_expires_at__lt=now - RECONCILE_GRACE) | Q(provider_sid__isnull=False))
        .order_by("lease_expires_at")[:limit]
    )
    for message in stuck:
        report.checked += 1
        if message.provider_sid:
            # The provider gave us a SID: it has the message.
            Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
                status=Status.SENT, sent_at=F("last_attempt_at"), lease_expires_at=None
            )
            report.confirmed_sent += 1
            continue
        if message.channel == Message.Channel.EMAIL:
            # A mail server cannot be asked what it has: at most once means staff decide.
            Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
                status=Status.FAILED,
                status_reason="The email may or may not have gone (the send was interrupted); "
                "retry it if the client did not get it",
                lease_expires_at=None,
                updated_at=now,
            )
            report.failed += 1
            continue
        try:
            found = backend.lookup(
                to=message.to,
                body=message.body,
                since=(message.last_attempt_at or message.due_at) - timedelta(minutes=1),
            )
        except SmsError as exc:
            report.unknown += 1
            if now - (message.last_attempt_at or message.due_at) > RECONCILE_GIVE_UP:
                Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
                    status=Status.FAILED,
                    status_reason="Could not establish whether the provider sent it",
                    lease_expires_at=None,
                    updated_at=now,
                )
                report.failed += 1
            logger.warning("reconciliation lookup failed", extra={"error": str(exc)})
            continue
        if found.found:
            Message.objects.filter(
                pk=message.pk, status=Status.SENDING, provider_sid__isnull=True
            ).update(
                status=Status.SENT,
                provider_sid=found.sid,
                provider_status=found.status or "",
                sent_at=F("last_attempt_at"),
                lease_expires_at=None,
                status_reason="Confirmed with the provider after an interrupted send",
                updated_at=now,
            )
            report.confirmed_sent += 1
        elif not message.was_resent_after_reconciliation:
            resent = Message.objects.filter(
                pk=message.pk,
                status=Status.SENDING,
                provider_sid__isnull=True,
                was_resent_after_reconciliation=False,
            ).update(
                status=Status.SCHEDULED,
                due_at=now,
                was_resent_after_reconciliation=True,
                lease_expires_at=None,
                status_reason="The provider has no record of it; sending again once",
                updated_at=now,
            )
            report.resent += resent
        else:
            Message.objects.filter(pk=message.pk, status=Status.SENDING).update(
                status=Status.FAILED,
                status_reason="The provider has no record of it after a second attempt",
                lease_expires_at=None,
                updated_at=now,
            )
            report.failed += 1
    return report
