"""Development backend: writes each SMS to stdout (``make run``)."""

from __future__ import annotations

import itertools
import sys
from datetime import datetime

from reminders.backends.base import LookupResult, SendResult, SmsBackend, SmsError

_counter = itertools.count(1)


class ConsoleBackend(SmsBackend):
    sender_key = "console"

    def send(self, *, to: str, body: str, message_id: int | None = None) -> SendResult:
        sid = f"SMconsole{next(_counter):023d}"
        sys.stdout.write(f"--- SMS {sid} to {to} ---\n{body}\n---\n")
        sys.stdout.flush()
        return SendResult(sid=sid, status="sent")

    def lookup(self, *, to: str, body: str, since: datetime) -> LookupResult:
        # Console sends cannot be half-done; there is nothing to look up.
        raise SmsError("The console backend keeps no records", permanent=False)
