"""Sending due outbox rows: claim, gate, rate-limit, send, record; and reconciliation.

At most once to the provider, never silently lost (ARCHITECTURE invariant 4):
1. Due rows are claimed in a short transaction (``SELECT … FOR UPDATE SKIP LOCKED``) and
   marked ``sending`` with a lease before anything talks to the provider, so two workers never
   send the same row.
2. The network call happens outside any transaction; its outcome is recorded with a conditional
   update. If the process dies in between, the row stays ``sending`` past its lease.
3. ``messages_reconcile_stuck`` resolves such rows from the provider's records (a status
   callback may already have done it) and sends again only when the provider positively has no
   such message, and only once.
"""

from __future__ import annotations

import logging
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Case, CharField, F, Q, Value, When
from django.utils import timezone

from bookings.models import Appointment
from clinic.models import Location
from reminders.backends import SmsBackend, SmsError, get_backend
from reminders.models import CAP_EXEMPT_CATEGORIES, Message, ReminderRule
from reminders.ratelimit import rate_limit_wait
from reminders.rendering import OPT_OUT_LINE
from reminders.services.outbox import client_opt_out, describe_error

logger = logging.getLogger(__name__)

Category = ReminderRule.Category
Status = Message.Status

BATCH_SIZE = 100
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_MAX_SECONDS = 300.0
# After a lease expires, wait this long for a status callback before asking the provider.
RECONCILE_GRACE = timedelta(minutes=1)
# A row whose outcome nobody can establish for this long is failed for staff to look at.
RECONCILE_GIVE_UP = timedelta(hours=24)
DAILY_REMINDER_CAP = 2

# Messages the client asked for or a person wrote: sent whatever the clock says.
_IGNORES_QUIET_HOURS = frozenset({Category.VERIFICATION, Category.REPLY, Category.ADHOC})
_NO_CONSENT_NEEDED = frozenset({Category.VERIFICATION})
_DEFAULT_STALE_MINUTES = {Category.VERIFICATION: 10}
_COUNTED_STATUSES = (Status.SENDING, Status.SENT, Status.DELIVERED)


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    skipped: int = 0
    failed: int = 0
    retrying: int = 0
    uncertain: int = 0
    released: int = 0
    message_ids: list[int] = field(default_factory=list)


def _lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "SMS_CLAIM_LEASE_SECONDS", 120))


def _zone_for(message: Message) -> ZoneInfo:
    location = message.location
    if location is None and message.appointment_id is not None:
        location = message.appointment.location
    if location is None:
        location = Location.objects.filter(is_active=True).order_by("id").first()
    return location.zone if location is not None else ZoneInfo(settings.TIME_ZONE)


def quiet_hours_end_after(*, moment: datetime, zone: ZoneInfo) -> datetime | None:
    """If ``moment`` falls in quiet hours (settings.QUIET_HOURS, local to ``zone``), the UTC
    time they end; else None. The wall-clock end is localised on its own date, so it is right
    on both sides of a DST change."""
    start, end = settings.QUIET_HOURS
    local = moment.astimezone(zone)
    wall = local.time()
    if start > end:  # wraps midnight, e.g. 21:00–08:00
        if wall >= start:
            end_date = local.date() + timedelta(days=1)
        elif wall < end:
            end_date = local.date()
        else:
            return None
    elif start <= wall < end:
        end_date = local.date()
    else:
        return None
    return datetime.combine(end_date, end, tzinfo=zone).astimezone(UTC)


def _next_day_start(*, moment: datetime, zone: ZoneInfo) -> datetime:
    start_of_sending: time = settings.QUIET_HOURS[1]
    next_date = moment.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(next_date, start_of_sending, tzinfo=zone).astimezone(UTC)


def _local_day_bounds(*, moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    local_date = moment.astimezone(zone).date()
    start = datetime.combine(local_date, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(local_date + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def _stale_after(message: Message) -> timedelta | None:
    minutes = (
        message.rule.stale_after_minutes
        if message.rule is not None
        else _DEFAULT_STALE_MINUTES.get(message.category)
    )
    return timedelta(minutes=minutes) if minutes else None


def _respects_quiet_hours(message: Message) -> bool:
    if message.rule is not None:
        return message.rule.respects_quiet_hours
    return message.category not in _IGNORES_QUIET_HOURS


def _skip(message: Message, reason: str, report: DispatchReport) -> None:
    message.status = Status.SKIPPED
    message.status_reason = reason[:300]
    report.skipped += 1


def _defer(message: Message, due_at: datetime, reason: str, report: DispatchReport) -> None:
    stale_after = _stale_after(message)
    if stale_after is not None and due_at - message.due_at > stale_after:
        _skip(message, f"{reason}; it would be too late by then", report)
        return
    message.due_at = due_at
    message.status_reason = reason[:300]
    report.deferred += 1


def _gate(
    message: Message,
    *,
    now: datetime,
    sent_today: dict[int, int],
    recent_attempts: dict[int, list[datetime]],
    report: DispatchReport,
) -> bool:
    """Decide what to do with a claimed row: True = send now; otherwise the row has been
    marked skipped or moved to a later due time."""
    client = message.client
    if message.category not in _NO_CONSENT_NEEDED:
        if client is None or client.sms_consent_at is None:
            _skip(message, "The client has not agreed to SMS", report)
            return False
        if client.sms_opted_out_at is not None:
            _skip(message, "The client opted out of SMS", report)
            return False
    if (
        message.rule is not None
        and message.rule.only_while_course_unfinished
        and message.appointment_id is not None
        and Appointment.objects.filter(
            client_id=message.client_id,
            service_id=message.appointment.service_id,
            start_at__gt=now,
            status__in=[Appointment.Status.BOOKED, Appointment.Status.CONFIRMED],
        ).exists()
    ):
        _skip(message, "The next session is already booked", report)
        return False
    stale_after = _stale_after(message)
    if stale_after is not None and now - message.due_at > stale_after:
        late_hours = (now - message.due_at).total_seconds() / 3600
        _skip(message, f"Too late to be useful ({late_hours:.0f} h after it was due)", report)
        return False
    zone = _zone_for(message)
    if _respects_quiet_hours(message):
        quiet_end = quiet_hours_end_after(moment=now, zone=zone)
        if quiet_end is not None:
            _defer(message, quiet_end, "Moved out of quiet hours", report)
            return False
    if message.category not in CAP_EXEMPT_CATEGORIES and client is not None:
        if client.pk not in sent_today:
            day_start, day_end = _local_day_bounds(moment=now, zone=zone)
            sent_today[client.pk] = sum(
                1 for moment in recent_attempts.get(client.pk, ()) if day_start <= moment < day_end
            )
        if sent_today[client.pk] >= DAILY_REMINDER_CAP:
            _defer(
                message,
                _next_day_start(moment=now, zone=zone),
                f"Daily limit of {DAILY_REMINDER_CAP} reminders reached",
                report,
            )
            return False
        sent_today[client.pk] += 1
    return True


def _recent_reminder_attempts(client_ids: set[int], now: datetime) -> dict[int, list[datetime]]:
    """When each client's cap-counted messages went out in the last 36 hours (enough to cover
    "today" in any time zone): one query per batch, not one per row."""
    attempts: dict[int, list[datetime]] = {}
    if not client_ids:
        return attempts
    rows = (
        Message.objects.filter(
            client_id__in=client_ids,
            status__in=_COUNTED_STATUSES,
            last_attempt_at__gte=now - timedelta(hours=36),
        )
        .exclude(category__in=CAP_EXEMPT_CATEGORIES)
        .values_list("client_id", "last_attempt_at")
    )
    for client_id, moment in rows:
        attempts.setdefault(client_id, []).append(moment)
    return attempts


def _clients_already_messaged(client_ids: set[int]) -> set[int]:
    if not client_ids:
        return set()
    return set(
        Message.objects.filter(client_id__in=client_ids, status__in=_COUNTED_STATUSES)
        .values_list("client_id", flat=True)
        .distinct()
    )


def _with_opt_out_line(message: Message, messaged: set[int]) -> str:
    """The first message a client ever gets names the clinic and says how to opt out."""
    if message.client_id is None or message.category == Category.VERIFICATION:
        return message.body
    first = message.client_id not in messaged
    messaged.add(message.client_id)
    if not first or "STOP" in message.body:
        return message.body
    return f"{message.body} {OPT_OUT_LINE}"


def messages_claim_due(
    *, now: datetime | None = None, batch_size: int = BATCH_SIZE, report: DispatchReport
) -> list[Message]:
    """Claim up to ``batch_size`` due rows for this worker and apply consent, staleness, quiet
    hours and the daily cap. Returns the rows to send now, already marked ``sending``."""
    now = now or timezone.now()
    with transaction.atomic():
        # SKIP LOCKED: concurrent workers take disjoint batches instead of queueing behind each
        # other. The due-row partial index (message_due_idx) keeps this fast at any table size.
        # SQLite ignores FOR UPDATE; its writers are serialised anyway.
        candidates = list(
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Status.SCHEDULED, due_at__lte=now)
            .select_related("client", "rule", "location", "appointment")
            .order_by("due_at", "id")[:batch_size]
        )
        report.claimed += len(candidates)
        client_ids = {m.client_id for m in candidates if m.client_id is not None}
        # Rows claimed now are still ``scheduled`` in the database, so these see only
        # messages that already went out.
        recent_attempts = _recent_reminder_attempts(client_ids, now)
        messaged = _clients_already_messaged(client_ids)
        sent_today: dict[int, int] = {}
        to_send: list[Message] = []
        held_back: list[Message] = []
        with_new_body: list[Message] = []
        # Higher-priority messages get the daily cap's places first.
        for message in sorted(
            candidates, key=lambda m: (-(m.rule.priority if m.rule else 100), m.due_at, m.pk)
        ):
            if _gate(
                message,
                now=now,
                sent_today=sent_today,
                recent_attempts=recent_attempts,
                report=report,
            ):
                body = _with_opt_out_line(message, messaged)
                if body != message.body:
                    message.body = body
                    with_new_body.append(message)
                message.status = Status.SENDING
                message.attempts += 1
                message.last_attempt_at = now
                message.lease_expires_at = now + _lease()
                to_send.append(message)
            else:
                message.updated_at = now
                held_back.append(message)
        if to_send:
            # One statement for the common case; per-row work only for the few exceptions.
            Message.objects.filter(pk__in=[m.pk for m in to_send]).update(
                status=Status.SENDING,
                status_reason="",
                attempts=F("attempts") + 1,
                last_attempt_at=now,
                lease_expires_at=now + _lease(),
                updated_at=now,
            )
        if with_new_body:
            Message.objects.bulk_update(with_new_body, ["body"])
        if held_back:
            Message.objects.bulk_update(
                held_back, ["status", "status_reason", "due_at", "updated_at"]
            )
    return sorted(to_send, key=lambda m: (m.due_at, m.pk))


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
    success is queued there for ``_record_accepted`` instead of being written at once."""
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
        result = backend.send(to=message.to, body=message.body, message_id=message.pk)
    except SmsError as exc:
        _record_failure(message=message, error=exc, report=report)
        return
    except Exception:
        # An unexpected bug after the request may have gone out: treat like a lost answer.
        logger.exception("unexpected error while sending", extra={"message_id": message.pk})
        report.uncertain += 1
        return
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


def _relax_commit_durability() -> None:
    """Recording a send outcome need not wait for the WAL flush: if PostgreSQL loses the last
    few commits in a crash, those rows are back to ``sending`` and reconciliation resolves them
    from the provider's records. (The claim is NOT relaxed: it must be durable before sending.)
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


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
        report.uncertain += 1
        return
    if error.permanent:
        sending.update(
            status=Status.FAILED,
            error_code=error.code,
            status_reason=describe_error(error.code)[:300],
            lease_expires_at=None,
            updated_at=now,
        )
        report.failed += 1
        if error.code == 21610 and message.client_id is not None:
            client_opt_out(client=message.client, method="carrier_21610", now=now)
        return
    if message.attempts >= MAX_ATTEMPTS:
        sending.update(
            status=Status.FAILED,
            error_code=error.code,
            status_reason=f"Gave up after {message.attempts} attempts ({error})"[:300],
            lease_expires_at=None,
            updated_at=now,
        )
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
            batch_size = max(1, min(BATCH_SIZE, int(rate * _lease().total_seconds() / 6)))
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
