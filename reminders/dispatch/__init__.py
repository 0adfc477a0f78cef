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

from reminders.dispatch.claim import (
    BATCH_SIZE,
    DAILY_REMINDER_CAP,
    DispatchReport,
    messages_claim_due,
    quiet_hours_end_after,
)
from reminders.dispatch.reconcile import ReconcileReport, messages_reconcile_stuck
from reminders.dispatch.send import MAX_ATTEMPTS, message_send_claimed, messages_dispatch_due

__all__ = [
    "BATCH_SIZE",
    "DAILY_REMINDER_CAP",
    "MAX_ATTEMPTS",
    "DispatchReport",
    "ReconcileReport",
    "message_send_claimed",
    "messages_claim_due",
    "messages_dispatch_due",
    "messages_reconcile_stuck",
    "quiet_hours_end_after",
]
