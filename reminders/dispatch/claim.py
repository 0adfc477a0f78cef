"""Claiming due rows and deciding, per row, whether it may go now: consent, opt-out,
staleness, quiet hours and the per-client daily cap."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from bookings.courses import next_session_is_booked
from bookings.models import Appointment, Client
from clinic.db import (
    any_of_sql,
    array_parameter,
    column_list,
    joined_rows,
    model_rows,
    update_rows,
)
from clinic.models import Location
from clinic.selectors import location_default
from reminders.models import (
    BEFORE_VISIT_CATEGORIES,
    CAP_EXEMPT_CATEGORIES,
    Message,
    ReminderRule,
)
from reminders.quiet_hours import quiet_hours_end_after
from reminders.rendering import OPT_OUT_LINE
from reminders.selectors import sms_blocked_reason
from reminders.services.email_channel import email_blocked_reason, message_plan_email_fallback

logger = logging.getLogger(__name__)
_Row = TypeVar("_Row", bound=Model)

Category = ReminderRule.Category
Status = Message.Status

BATCH_SIZE = 100
DAILY_REMINDER_CAP = 2

# Messages the client asked for or a person wrote: sent whatever the clock says.
_IGNORES_QUIET_HOURS = frozenset(
    {Category.VERIFICATION, Category.DATA_EXPORT, Category.REPLY, Category.ADHOC}
)
_NO_CONSENT_NEEDED = frozenset({Category.VERIFICATION, Category.DATA_EXPORT})
# A code lives 10 minutes and a data-copy link 24 hours: a text arriving later is useless.
_DEFAULT_STALE_MINUTES: dict[str, int] = {
    Category.VERIFICATION: 10,
    Category.DATA_EXPORT: 24 * 60,
    # An offer holds its time for minutes: deferred any later, it would offer a time gone.
    Category.WAITLIST_OFFER: 10,
}
_COUNTED_STATUSES = (Status.SENDING, Status.SENT, Status.DELIVERED)
# What the gate reads of a client: consent and opt-out for each channel, and whether there is
# an email address. Only these are loaded (the sender needs nothing else of the client).
_GATE_CLIENT_FIELDS = frozenset(
    {"sms_consent_at", "sms_opted_out_at", "email", "email_consent_at", "email_opted_out_at"}
)


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


def claim_lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "SMS_CLAIM_LEASE_SECONDS", 120))


def _zone_for(message: Message) -> ZoneInfo:
    location = message.location
    if location is None and message.appointment is not None:
        location = message.appointment.location
    if location is None:
        location = location_default()
    return location.zone if location is not None else ZoneInfo(settings.TIME_ZONE)


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


def _arrives_after_visit_start(message: Message, at: datetime) -> bool:
    return (
        message.category in BEFORE_VISIT_CATEGORIES
        and message.appointment is not None
        and at >= message.appointment.start_at
    )


def _defer(message: Message, due_at: datetime, reason: str, report: DispatchReport) -> None:
    if _arrives_after_visit_start(message, due_at):
        _skip(message, f"{reason}; it would arrive after the visit has started", report)
        return
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
    sms_blocked: list[Message],
    quiet_ends: dict[ZoneInfo, datetime | None],
) -> bool:
    """Decide what to do with a claimed row: True = send now; otherwise the row has been
    marked skipped or moved to a later due time."""
    client = message.client
    if message.is_email:
        blocked = email_blocked_reason(client)
        if blocked:
            _skip(message, blocked, report)
            return False
    elif message.category not in _NO_CONSENT_NEEDED:
        blocked = sms_blocked_reason(client)
        if blocked:
            _skip(message, blocked, report)
            if client is not None and client.sms_opted_out_at is not None:
                # Opted out of SMS only: a care message goes by email, where agreed to.
                sms_blocked.append(message)
            return False
    if (
        message.rule is not None
        and message.rule.only_while_course_unfinished
        and message.appointment is not None
        and next_session_is_booked(appointment=message.appointment, now=now)
    ):
        _skip(message, "The next session is already booked", report)
        return False
    if _arrives_after_visit_start(message, now):
        _skip(message, "The visit has already started", report)
        return False
    stale_after = _stale_after(message)
    if stale_after is not None and now - message.due_at > stale_after:
        late_hours = (now - message.due_at).total_seconds() / 3600
        _skip(message, f"Too late to be useful ({late_hours:.0f} h after it was due)", report)
        return False
    zone = _zone_for(message)
    if _respects_quiet_hours(message):
        # The same answer for every row of the batch in one zone.
        if zone not in quiet_ends:
            quiet_ends[zone] = quiet_hours_end_after(moment=now, zone=zone)
        quiet_end = quiet_ends[zone]
        if quiet_end is not None:
            _defer(message, quiet_end, "Moved out of quiet hours", report)
            return False
    # The daily cap limits texts. An email is either the twin of a text that had its place in
    # the cap, or replaces a text that could not arrive: neither counts nor waits for it.
    if (
        message.category not in CAP_EXEMPT_CATEGORIES
        and client is not None
        and not message.is_email
    ):
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


def _attach_locations_rules_and_visits(messages: list[Message]) -> None:
    """What the gate reads of each row's location, rule and visit, one statement each per
    batch. The visit is read only for rows whose gate asks for it (a text meant for before the
    visit, a row without a location, a course rule): a batch of day-before reminders used to
    load its visits one query per row."""
    location_ids = {m.location_id for m in messages if m.location_id is not None}
    rule_ids = {m.rule_id for m in messages if m.rule_id is not None}
    locations = _by_id(Location, "locations", location_ids)
    rules = _by_id(ReminderRule, "rules", rule_ids)
    location_cache = Message._meta.get_field("location").set_cached_value
    rule_cache = Message._meta.get_field("rule").set_cached_value
    for message in messages:
        if message.location_id is not None:
            location_cache(message, locations[message.location_id])
        if message.rule_id is not None:
            rule_cache(message, rules[message.rule_id])
    needing_visit = [
        m
        for m in messages
        if m.appointment_id is not None
        and (
            m.category in BEFORE_VISIT_CATEGORIES
            or m.location_id is None
            or (m.rule is not None and m.rule.only_while_course_unfinished)
        )
    ]
    visits = _by_id(
        Appointment, "visits", {m.appointment_id for m in needing_visit if m.appointment_id}
    )
    visit_cache = Message._meta.get_field("appointment").set_cached_value
    for message in needing_visit:
        # A visit deleted meanwhile takes its rows with it (CASCADE): nothing to attach.
        if message.appointment_id in visits:
            visit_cache(message, visits[message.appointment_id])


def _by_id(model: type[_Row], statement: str, ids: set[int]) -> dict[int, _Row]:
    if not ids:
        return {}
    rows = model_rows(model, _statements()[statement], [array_parameter(ids)])
    return {row.pk: row for row in rows}


def _recent_reminder_attempts(client_ids: set[int], now: datetime) -> dict[int, list[datetime]]:
    """When each client's cap-counted messages went out in the last 36 hours (enough to cover
    "today" in any time zone): one query per batch, not one per row."""
    attempts: dict[int, list[datetime]] = {}
    if not client_ids:
        return attempts
    rows = model_rows(
        Message,
        _statements()["recent_attempts"],
        [
            array_parameter(client_ids),
            connection.ops.adapt_datetimefield_value(now - timedelta(hours=36)),
            array_parameter(CAP_EXEMPT_CATEGORIES),
        ],
    )
    for row in rows:
        if row.client_id is not None and row.last_attempt_at is not None:  # always, by the WHERE
            attempts.setdefault(row.client_id, []).append(row.last_attempt_at)
    return attempts


def reminder_cap_reached(*, client_id: int, zone: ZoneInfo, now: datetime | None = None) -> bool:
    """Whether the client has had the daily cap of cap-counted texts today (local to ``zone``):
    the count ``_gate`` applies, for services that would rather pick someone else than have
    their text deferred to tomorrow (a waitlist offer)."""
    now = now or timezone.now()
    day_start, day_end = _local_day_bounds(moment=now, zone=zone)
    attempts = _recent_reminder_attempts({client_id}, now).get(client_id, [])
    return sum(1 for moment in attempts if day_start <= moment < day_end) >= DAILY_REMINDER_CAP


def _read_batch(
    *, now: datetime, batch_size: int
) -> tuple[list[Message], set[int], dict[int, list[datetime]]]:
    """Lock up to ``batch_size`` due rows and read, in the same statement, what the gate needs
    of their clients: the rows (their clients attached), the ids of the clients who have had
    a text before (a sending, sent or delivered SMS), and when each client's cap-counted texts
    of the last 36 hours went out (only for clients with a cap-counted text in the batch).

    One round trip instead of three: the statement's subqueries read the table as it was when
    the statement began, so the locked rows are still ``scheduled`` to them and are counted
    neither as texted before nor as attempts."""
    adapt = connection.ops.adapt_datetimefield_value
    rows = joined_rows(
        _batch_parts(),
        _statements()["batch"],
        [adapt(now), batch_size, adapt(now - timedelta(hours=36))],
    )
    client_cache = Message._meta.get_field("client").set_cached_value
    clients: dict[int, Client] = {}
    messages = []
    for message, client in rows:
        if client is not None:
            # One instance per client, however many of the batch's rows are theirs.
            client_cache(message, clients.setdefault(client.pk, client))
        messages.append(message)
    # The statement's two answers about a client's texts, read as attributes (model_rows).
    texted_before = {pk for pk, client in clients.items() if vars(client)["texted_before"]}
    attempts = {
        pk: _attempt_times(times)
        for pk, client in clients.items()
        if (times := vars(client)["recent_attempts"]) is not None
    }
    return messages, texted_before, attempts


def _attempt_times(value: Any) -> list[datetime]:
    """The attempt times the batch statement reads: an array on PostgreSQL, on SQLite a JSON
    array of its stored UTC texts."""
    if isinstance(value, str):
        return [datetime.fromisoformat(text).replace(tzinfo=UTC) for text in json.loads(value)]
    return list(value)


@cache
def _batch_parts() -> tuple[tuple[type[Model], int], ...]:
    """How the batch statement's columns divide: every column of the row, then the client's
    key, the fields the gate reads and the two answers about their texts."""
    return (
        (Message, len(Message._meta.concrete_fields)),
        (Client, len(_gate_client_columns()) + 3),
    )


def _gate_client_columns() -> list[str]:
    return [f.column for f in Client._meta.concrete_fields if f.name in _GATE_CLIENT_FIELDS]


@cache
def _statements_for(vendor: str) -> dict[str, str]:
    """The claim's statements, written once per process and database. A worker claims a batch
    every few seconds, and Django building these from querysets each time (resolving lookups,
    compiling, preparing each of 100 ids) was a third of the claim's CPU. Names come from the
    models; values other than fixed choice values are parameters."""
    q = connection.ops.quote_name
    postgresql = vendor == "postgresql"
    m, c = q(Message._meta.db_table), q(Client._meta.db_table)
    columns = ", ".join(q(f.column) for f in Message._meta.concrete_fields)
    batch_columns = ", ".join(f"batch.{q(f.column)}" for f in Message._meta.concrete_fields)
    gate_columns = [q(column) for column in _gate_client_columns()]
    counted = ", ".join(f"'{status}'" for status in _COUNTED_STATUSES)
    exempt = ", ".join(f"'{category}'" for category in sorted(CAP_EXEMPT_CATEGORIES))
    sms = f"'{Message.Channel.SMS.value}'"
    scheduled = f"'{Status.SCHEDULED.value}'"
    # SKIP LOCKED: concurrent workers take disjoint batches instead of queueing behind each
    # other; the due-row partial index (message_due_idx) keeps this fast at any table size,
    # and the status is written into the text so that a prepared (generic) plan can use it.
    # SQLite has no row locks: its writers are serialised anyway.
    lock = " FOR UPDATE SKIP LOCKED" if postgresql else ""
    # Materialised: the client questions are asked once per client, not once per row.
    materialized = " MATERIALIZED" if postgresql else ""
    attempts_of_client = (
        f" FROM {m} attempt WHERE attempt.client_id = {c}.id AND attempt.status IN ({counted})"  # noqa: S608
        f" AND attempt.channel = {sms} AND attempt.last_attempt_at >= %s"
        f" AND attempt.category NOT IN ({exempt})"
    )
    attempts = (
        f"ARRAY(SELECT attempt.last_attempt_at{attempts_of_client})"
        if postgresql
        else f"(SELECT json_group_array(attempt.last_attempt_at){attempts_of_client})"
    )
    by_id = any_of_sql("id")
    claim = (
        f"UPDATE {m} SET status = '{Status.SENDING.value}', status_reason = '',"  # noqa: S608
        f" attempts = attempts + 1, last_attempt_at = %s, lease_expires_at = %s, updated_at = %s,"
        f" body = CASE WHEN {by_id} THEN body || %s ELSE body END WHERE {by_id}"
    )
    if postgresql:
        # The rows held back are written in the same statement (their own rows: a statement
        # may not change one row twice).
        claim = (
            f"WITH held AS (UPDATE {m} SET status = new.status,"  # noqa: S608
            " status_reason = new.status_reason, due_at = new.due_at, updated_at = %s"
            " FROM UNNEST(%s::bigint[], %s::varchar[], %s::varchar[], %s::timestamptz[])"
            f" AS new (id, status, status_reason, due_at) WHERE {m}.id = new.id) {claim}"
        )
    return {
        "batch": f"WITH batch AS{materialized} (SELECT {columns} FROM {m}"  # noqa: S608
        f" WHERE status = {scheduled} AND due_at <= %s ORDER BY due_at, id LIMIT %s{lock}),"
        f" capped AS{materialized} (SELECT DISTINCT client_id FROM batch"
        f" WHERE channel = {sms} AND category NOT IN ({exempt})),"
        f" clients AS{materialized} (SELECT {c}.id, {', '.join(gate_columns)},"
        f" EXISTS (SELECT 1 FROM {m} texted WHERE texted.client_id = {c}.id"
        f" AND texted.status IN ({counted}) AND texted.channel = {sms}) AS texted_before,"
        f" CASE WHEN {c}.id IN (SELECT client_id FROM capped) THEN {attempts} END"
        f" AS recent_attempts FROM {c} WHERE {c}.id IN (SELECT client_id FROM batch))"
        f" SELECT {batch_columns}, clients.id,"
        f" {', '.join(f'clients.{column}' for column in gate_columns)},"
        " clients.texted_before, clients.recent_attempts"
        " FROM batch LEFT JOIN clients ON clients.id = batch.client_id"
        " ORDER BY batch.due_at, batch.id",
        "recent_attempts": f"SELECT id, client_id, last_attempt_at FROM {m}"  # noqa: S608
        f" WHERE {any_of_sql('client_id')} AND status IN ({counted}) AND channel = {sms}"
        f" AND last_attempt_at >= %s AND NOT ({any_of_sql('category')})",
        "locations": f"SELECT {column_list(Location)} FROM {q(Location._meta.db_table)}"  # noqa: S608
        f" WHERE {by_id}",
        "rules": f"SELECT {column_list(ReminderRule)} FROM {q(ReminderRule._meta.db_table)}"  # noqa: S608
        f" WHERE {by_id}",
        "visits": f"SELECT {column_list(Appointment)} FROM {q(Appointment._meta.db_table)}"  # noqa: S608
        f" WHERE {by_id}",
        # The opt-out line is the same for every first message: the database appends it.
        "claim": claim,
    }


def _statements() -> dict[str, str]:
    return _statements_for(connection.vendor)


def _with_opt_out_line(message: Message, messaged: set[int]) -> str:
    """The first text a client ever gets names the clinic and says how to opt out. (Every email
    carries its unsubscribe link, added when it is sent.)"""
    if message.client_id is None or message.category == Category.VERIFICATION or message.is_email:
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
        candidates, messaged, recent_attempts = _read_batch(now=now, batch_size=batch_size)
        report.claimed += len(candidates)
        _attach_locations_rules_and_visits(candidates)
        sent_today: dict[int, int] = {}
        sms_blocked: list[Message] = []
        quiet_ends: dict[ZoneInfo, datetime | None] = {}
        to_send: list[Message] = []
        held_back: list[Message] = []
        with_new_body: list[Message] = []
        lease_expires_at = now + claim_lease()
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
                sms_blocked=sms_blocked,
                quiet_ends=quiet_ends,
            ):
                body = _with_opt_out_line(message, messaged)
                if body != message.body:
                    message.body = body
                    with_new_body.append(message)
                message.status = Status.SENDING
                message.status_reason = ""
                message.attempts += 1
                message.last_attempt_at = now
                message.lease_expires_at = lease_expires_at
                message.updated_at = now
                to_send.append(message)
            else:
                message.updated_at = now
                held_back.append(message)
        if candidates:
            _write_batch(now=now, to_send=to_send, with_new_body=with_new_body, held_back=held_back)
        for message in sms_blocked:
            message_plan_email_fallback(sms=message, why="client opted out of SMS", now=now)
    return sorted(to_send, key=lambda m: (m.due_at, m.pk))


def _write_batch(
    *,
    now: datetime,
    to_send: list[Message],
    with_new_body: list[Message],
    held_back: list[Message],
) -> None:
    """Write what the gate decided: the rows to send marked ``sending`` with their lease (the
    opt-out line appended by the database: it is the same for every first message), and the
    rows held back with their new status, reason and due time. On PostgreSQL one statement."""
    adapt = connection.ops.adapt_datetimefield_value
    claim = [
        adapt(now),
        adapt(now + claim_lease()),
        adapt(now),
        array_parameter(m.pk for m in with_new_body),
        f" {OPT_OUT_LINE}",
        array_parameter(m.pk for m in to_send),
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            held: list[Any] = [
                now,
                array_parameter(m.pk for m in held_back),
                [m.status for m in held_back],
                [m.status_reason for m in held_back],
                [m.due_at for m in held_back],
            ]
            cursor.execute(_statements()["claim"], held + claim)
            return
        if to_send:
            cursor.execute(_statements()["claim"], claim)
    if held_back:
        update_rows(Message, held_back, ["status", "status_reason", "due_at", "updated_at"])
