"""Handing claimed rows to the provider (rate-limited) and recording the outcome."""

from __future__ import annotations

import logging
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Case, CharField, Value, When
from django.utils import timezone

from bookings.models import Appointment
from bookings.services import health_recheck_request
from reminders.backends import SendResult, SmsBackend, SmsError, get_backend
from reminders.backends.email import email_send
from reminders.backends.twilio import describe_error, is_opt_out
from reminders.dispatch.claim import (
    BATCH_SIZE,
    DispatchReport,
    claim_lease,
    messages_claim_due,
)
from reminders.metrics import sms_accepted, sms_not_accepted
from reminders.models import Message, ReminderRule
from reminders.ratelimit import rate_limit_wait
from reminders.services.email_channel import (
    SMS_UNREACHABLE_CODES,
    message_plan_email_fallback,
    sms_unreachable_reason,
)
from reminders.services.outbox import client_opt_out

logger = logging.getLogger(__name__)

Status = Message.Status

MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 300.0


def _backoff_seconds(attempts: int, retry_after: float | None) -> float:
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    # Full jitter: workers that hit the same 429 spread out instead of retrying in lockstep.
    delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - not security relevant
    return max(delay, retry_after or 0.0)


# Successful sends are recorded in small groups: one transaction per group instead of one per
# message. A crash before a group is recorded leaves its rows ``sending``, which reconciliation
# resolves from the provider's records (they are there), exactly as for a single row.
RECORD_GROUP_SIZE = 20


@dataclass(frozen=True)
class _Accepted:
    message_id: int
    sid: str
    status: str


def message_send_claimed(
    *,
    message: Message,
    backend: SmsBackend,
    report: DispatchReport,
    accepted: list[_Accepted] | None = None,
) -> None:
    """Hand one claimed row to the provider and record what happened. With ``accepted``, a
    success is queued there for ``_record_accepted`` instead of being written at once. An
    email row goes through Django's email backend instead of the SMS provider."""
    if not message.is_email:
        # The shared rate limit is the SMS sender's; email has no such limit here.
        rate_limit_wait(sender_key=backend.sender_key)
    if message.lease_expires_at is not None and timezone.now() >= message.lease_expires_at:
        # Past our lease, reconciliation may hand this row to someone else: never send it
        # now. The condition on our own lease value makes sure we only release our claim.
        Message.objects.filter(
            pk=message.pk, status=Status.SENDING, lease_expires_at=message.lease_expires_at
        ).update(
            status=Status.SCHEDULED,
            lease_expires_at=None,
            status_reason="Claim expired before sending; queued again",
            updated_at=timezone.now(),
        )
        report.released += 1
        return
    try:
        result: SendResult = (
            email_send(message)
            if message.is_email
            else backend.send(to=message.to, body=message.body, message_id=message.pk)
        )
    except SmsError as exc:
        _record_failure(message=message, error=exc, report=report)
        return
    except Exception:
        # An unexpected bug after the request may have gone out: treat like a lost answer.
        logger.exception("unexpected error while sending", extra={"message_id": message.pk})
        _not_accepted(message, outcome="uncertain", error_code=None)
        report.uncertain += 1
        return
    if not message.is_email:  # the SMS metrics count texts only
        sms_accepted(due_at=message.due_at, now=timezone.now())
    outcome = _Accepted(message.pk, result.sid, result.status)
    report.sent += 1
    report.message_ids.append(message.pk)
    if accepted is None:
        _record_accepted([outcome])
    else:
        accepted.append(outcome)
        if len(accepted) >= RECORD_GROUP_SIZE:
            _record_accepted(accepted)
            accepted.clear()


def _record_accepted(outcomes: list[_Accepted]) -> None:
    """Mark accepted rows ``sent`` with their SIDs, in one transaction."""
    if not outcomes:
        return
    now = timezone.now()
    ids = [outcome.message_id for outcome in outcomes]
    with transaction.atomic():
        _relax_commit_durability()
        Message.objects.filter(pk__in=ids, status=Status.SENDING).update(
            status=Status.SENT,
            provider_sid=Case(
                *[When(pk=o.message_id, then=Value(o.sid)) for o in outcomes],
                output_field=CharField(),
            ),
            provider_status=Case(
                *[When(pk=o.message_id, then=Value(o.status)) for o in outcomes],
                output_field=CharField(),
            ),
            sent_at=now,
            lease_expires_at=None,
            updated_at=now,
        )
        # A status callback may have overtaken us and moved a row on (and recorded the SID
        # from its message id); only fill in a SID that is still missing.
        missing = set(
            Message.objects.filter(pk__in=ids, provider_sid__isnull=True).values_list(
                "pk", flat=True
            )
        )
        for outcome in outcomes:
            if outcome.message_id in missing:
                Message.objects.filter(pk=outcome.message_id, provider_sid__isnull=True).update(
                    provider_sid=outcome.sid, updated_at=now
                )
        # The re-check text is the question: from now on a missing answer is "unanswered".
        for appointment in Appointment.objects.filter(
            messages__pk__in=ids, messages__category=ReminderRule.Category.HEALTH_RECHECK
        ).distinct():
            health_recheck_request(appointment=appointment, now=now)


def _relax_commit_durability() -> None:
    """Recording a send outcome need not wait for the WAL flush: if PostgreSQL loses the last
    few commits in a crash, those rows are back to ``sending`` and reconciliation resolves them
    from the provider's records. (The claim is NOT relaxed: it must be durable before sending.)
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _not_accepted(message: Message, *, outcome: str, error_code: int | None) -> None:
    if not message.is_email:  # the SMS metrics count texts only
        sms_not_accepted(outcome=outcome, error_code=error_code)


def _record_failure(*, message: Message, error: SmsError, report: DispatchReport) -> None:
    now = timezone.now()
    sending = Message.objects.filter(pk=message.pk, status=Status.SENDING)
    if error.maybe_accepted:
        # Twilio may have the message: leave it ``sending`` for reconciliation, never resend.
        logger.warning(
            "send outcome unknown; left for reconciliation",
            extra={"message_id": message.pk, "error": str(error)},
        )
        sending.update(status_reason=f"Outcome unknown ({error}); checking with the provider")
        _not_accepted(message, outcome="uncertain", error_code=error.code)
        report.uncertain += 1
        return
    if error.permanent:
        reason = str(error) if message.is_email else describe_error(error.code)
        sending.update(
            status=Status.FAILED,
            error_code=error.code,
            status_reason=reason[:300],
            lease_expires_at=None,
            updated_at=now,
        )
        _not_accepted(message, outcome="failed", error_code=error.code)
        report.failed += 1
        if message.is_email:
            return
        if is_opt_out(error.code) and message.client is not None:
            client_opt_out(client=message.client, method="carrier_21610", now=now)
        if error.code in SMS_UNREACHABLE_CODES:
            message.status = Status.FAILED
            message_plan_email_fallback(
                sms=message, why=sms_unreachable_reason(error.code), now=now
            )
        return
    if message.attempts >= MAX_ATTEMPTS:
        sending.update(
            status=Status.FAILED,
            error_code=error.code,
            status_reason=f"Gave up after {message.attempts} attempts ({error})"[:300],
            lease_expires_at=None,
            updated_at=now,
        )
        _not_accepted(message, outcome="failed", error_code=error.code)
        report.failed += 1
        return
    delay = _backoff_seconds(message.attempts, error.retry_after)
    sending.update(
        status=Status.SCHEDULED,
        due_at=now + timedelta(seconds=delay),
        error_code=error.code,
        status_reason=f"Retrying in {delay:.0f} s ({error})"[:300],
        lease_expires_at=None,
        updated_at=now,
    )
    _not_accepted(message, outcome="retrying", error_code=error.code)
    report.retrying += 1


def messages_dispatch_due(
    *, max_batches: int = 50, batch_size: int | None = None, now: datetime | None = None
) -> DispatchReport:
    """Send everything due, batch by batch, until nothing is due or ``max_batches`` is done."""
    backend = get_backend()
    report = DispatchReport()
    rate = settings.SMS_RATE_PER_SECOND
    if batch_size is None:
        # Keep a batch short enough to finish well inside its lease at the configured rate,
        # even with several workers sharing that rate.
        batch_size = BATCH_SIZE
        if rate:
            batch_size = max(1, min(BATCH_SIZE, int(rate * claim_lease().total_seconds() / 6)))
    for _ in range(max_batches):
        claimed = messages_claim_due(now=now, batch_size=batch_size, report=report)
        _send_claimed_batch(claimed, backend=backend, report=report)
        if not claimed and not _more_due(now=now or timezone.now()):
            break
    return report


def _send_claimed_batch(
    claimed: list[Message], *, backend: SmsBackend, report: DispatchReport
) -> None:
    """Send a claimed batch. Sending is network-bound, so on PostgreSQL a few threads each
    take an interleaved share of the batch (every row is already claimed by this worker, so
    they never overlap). SQLite allows one writer at a time: there it stays sequential."""
    threads = min(getattr(settings, "SMS_SEND_THREADS", 4), len(claimed))
    # Inside a transaction other threads could not see its uncommitted rows.
    if threads <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        _send_share(claimed, backend=backend, report=report)
        return

    def _run(share: list[Message]) -> DispatchReport:
        share_report = DispatchReport()
        try:
            _send_share(share, backend=backend, report=share_report)
        finally:
            connections.close_all()  # this thread's own connection
        return share_report

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sms-send") as pool:
        shares = [claimed[index::threads] for index in range(threads)]
        for share_report in pool.map(_run, shares):
            for name in ("sent", "failed", "retrying", "uncertain", "released"):
                setattr(report, name, getattr(report, name) + getattr(share_report, name))
            report.message_ids.extend(share_report.message_ids)


def _send_share(share: list[Message], *, backend: SmsBackend, report: DispatchReport) -> None:
    accepted: list[_Accepted] = []
    try:
        for message in share:
            message_send_claimed(message=message, backend=backend, report=report, accepted=accepted)
    finally:
        _record_accepted(accepted)


def _more_due(*, now: datetime) -> bool:
    # Rows deferred or skipped in the last batch do not count; only rows still due.
    return Message.objects.filter(status=Status.SCHEDULED, due_at__lte=now).exists()
