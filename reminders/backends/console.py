"""Development backend: writes each SMS to stdout (``make run``)."""

from __future__ import annotations

import sys
from datetime import datetime

from reminders.backends.base import LookupResult, SendResult, SmsBackend, new_sid


class ConsoleBackend(SmsBackend):
    sender_key = "console"

    def send(self, *, to: str, body: str, message_id: int | None = None) -> SendResult:
        sid = new_sid("SM")
        sys.stdout.write(f"--- SMS {sid} to {to} ---\n{body}\n---\n")
        sys.stdout.flush()
        return SendResult(sid=sid, status="sent")

    def lookup(self, *, to: str, body: str, since: datetime) -> LookupResult:
        # Nothing left the machine and stdout cannot be searched: say "not found", so that
        # reconciliation prints it once more (harmless here) instead of leaving it ``sending``.
        return LookupResult(found=False)
