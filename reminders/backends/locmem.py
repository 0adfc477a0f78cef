"""In-memory backend for tests: keeps what was sent in ``outbox`` and can be told to fail."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from reminders.backends.base import LookupResult, SendResult, SmsBackend, SmsError, new_sid


@dataclass
class SentSms:
    sid: str
    to: str
    body: str
    message_id: int | None
    sent_at: datetime = field(default_factory=timezone.now)


outbox: list[SentSms] = []
# Queue of SmsError to raise on the next sends; an error with ``maybe_accepted`` is raised
# AFTER the message is recorded, like a provider that accepted but whose answer was lost.
faults: list[SmsError] = []
_lock = threading.Lock()


def reset() -> None:
    with _lock:
        outbox.clear()
        faults.clear()


class LocmemBackend(SmsBackend):
    sender_key = "locmem"

    def send(self, *, to: str, body: str, message_id: int | None = None) -> SendResult:
        with _lock:
            fault = faults.pop(0) if faults else None
            if fault is not None and not fault.maybe_accepted:
                raise fault
            sid = new_sid("SM")
            outbox.append(SentSms(sid=sid, to=to, body=body, message_id=message_id))
        if fault is not None:
            raise fault
        return SendResult(sid=sid, status="queued")

    def lookup(self, *, to: str, body: str, since: datetime) -> LookupResult:
        with _lock:
            for sms in outbox:
                if sms.to == to and sms.body == body and sms.sent_at >= since:
                    return LookupResult(found=True, sid=sms.sid, status="sent")
        return LookupResult(found=False)
