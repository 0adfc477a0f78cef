"""The seam between the dispatcher and an SMS provider."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class SmsError(Exception):
    """A send or lookup that did not succeed.

    ``permanent``: retrying cannot help (bad number, unsubscribed, bad credentials).
    ``maybe_accepted``: the provider may have taken the message (5xx, timeout after the request
    went out); the caller must not resend before checking (reconciliation).
    ``retry_after``: seconds the provider asked us to wait, if it said.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: int | None = None,
        retry_after: float | None = None,
        maybe_accepted: bool = False,
    ):
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after
        self.maybe_accepted = maybe_accepted


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str  # the provider's initial status, e.g. "queued" or "accepted"


@dataclass(frozen=True)
class LookupResult:
    """What the provider's records say about a message we may have sent."""

    found: bool
    sid: str | None = None
    status: str | None = None


class SmsBackend:
    """Send one SMS; look one up. Implementations raise SmsError, never provider exceptions."""

    #: Identifies the sending identity for the shared rate limiter.
    sender_key: str = "default"
    #: Whether the provider tells us when a text reached the phone (status callbacks). Without
    #: it "sent" is the last status a message gets, and a delivery rate would be a made-up 0 %.
    reports_delivery: bool = False

    def send(self, *, to: str, body: str, message_id: int | None = None) -> SendResult:
        raise NotImplementedError

    def lookup(self, *, to: str, body: str, since: datetime) -> LookupResult:
        """Did a message with this body go to ``to`` since ``since``? Raises SmsError when the
        provider cannot answer (then nothing may be concluded)."""
        raise NotImplementedError
