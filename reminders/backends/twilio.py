"""Twilio through the official library. The only module that knows Twilio's error codes.

Error handling follows TWILIO.md: 429/20429 and 21611 were never processed, so they are safe to
retry; a 5xx or a timeout after the request went out means the message MAY exist at Twilio
(there is no idempotency key), so the caller must reconcile instead of resending.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from reminders.backends.base import LookupResult, SendResult, SmsBackend, SmsError

logger = logging.getLogger(__name__)

RETRYABLE_CODES = frozenset({20429, 21611, 30001})
PERMANENT_REASONS = {
    20003: "bad credentials",
    21211: "invalid To number",
    21408: "region not enabled",
    21610: "recipient unsubscribed",
    21614: "not a mobile number",
}
# Twilio's "the recipient has unsubscribed" (they replied STOP to the sender).
OPTED_OUT = 21610

# What staff read on a failed or undelivered message (synchronous and delivery errors).
ERROR_REASONS = {
    20003: "The SMS provider rejected our credentials: the clinic's SMS settings need fixing.",
    21211: "The phone number is not valid: check the client's number.",
    21408: "Sending to this country is not enabled for the clinic's SMS account.",
    21610: "The client has unsubscribed from SMS (replied STOP).",
    21614: "The number is not a mobile number: check the client's number.",
    30003: "The handset was unreachable.",
    30004: "The message was blocked by the carrier or recipient.",
    30005: "The number is unknown or no longer in service.",
    30006: "The number is a landline or the carrier cannot take SMS.",
    30007: "The carrier filtered the message as spam.",
    30008: "The carrier reported an unknown error.",
}


def describe_error(code: int | None) -> str:
    if code is None:
        return "The SMS provider reported an error."
    return ERROR_REASONS.get(code, f"The SMS provider reported error {code}.")


def is_opt_out(code: int | None) -> bool:
    """Whether Twilio's error code means the client has opted out of texts."""
    return code == OPTED_OUT


def _retry_after(exc: TwilioRestException) -> float | None:
    # The library does not keep response headers; Twilio's 429s carry none we rely on.
    return None


class TwilioBackend(SmsBackend):
    reports_delivery = True

    def __init__(self) -> None:
        self.client = Client(
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_AUTH_TOKEN,
            http_client=TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT_SECONDS),
        )
        if settings.TWILIO_API_BASE_URL:
            # A plain attribute the library reads on every request (TWILIO.md).
            self.client.api.base_url = settings.TWILIO_API_BASE_URL
        self.sender_key = (
            settings.TWILIO_MESSAGING_SERVICE_SID or settings.TWILIO_FROM_NUMBER or "twilio"
        )

    def _status_callback(self, message_id: int | None) -> str:
        url = settings.PUBLIC_BASE_URL + reverse("reminders:twilio-status")
        # Our row id rides along so a callback can resolve a row whose worker died before it
        # recorded the SID.
        return f"{url}?{urlencode({'m': message_id})}" if message_id is not None else url

    def send(self, *, to: str, body: str, message_id: int | None = None) -> SendResult:
        sender = (
            {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
            if settings.TWILIO_MESSAGING_SERVICE_SID
            else {"from_": settings.TWILIO_FROM_NUMBER}
        )
        try:
            created = self.client.messages.create(
                to=to,
                body=body,
                status_callback=self._status_callback(message_id),
                validity_period=settings.TWILIO_VALIDITY_PERIOD_SECONDS,
                **sender,
            )
        except TwilioRestException as exc:
            raise self._map_rest_error(exc) from None
        except (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError) as exc:
            raise SmsError(f"could not connect: {type(exc).__name__}", permanent=False) from None
        except requests.exceptions.ConnectionError as exc:
            if _refused_before_sending(exc):
                raise SmsError("connection refused", permanent=False) from None
            raise SmsError(
                f"connection lost after sending: {type(exc).__name__}",
                permanent=False,
                maybe_accepted=True,
            ) from None
        except (requests.exceptions.RequestException, TwilioException) as exc:
            raise SmsError(
                f"no answer from Twilio: {type(exc).__name__}", permanent=False, maybe_accepted=True
            ) from None
        return SendResult(sid=created.sid, status=created.status or "queued")

    def lookup(self, *, to: str, body: str, since: datetime) -> LookupResult:
        window_start = since - timedelta(minutes=5)
        try:
            # Everything sent to this number since the attempt (all pages)…
            candidates = list(self.client.messages.list(to=to, date_sent_after=window_start))
            # …plus the newest page without a date filter: a message still queued at Twilio
            # has no date_sent yet, and missing it would make "absent" cause a duplicate.
            candidates += self.client.messages.list(to=to, limit=100)
        except (TwilioException, requests.exceptions.RequestException) as exc:
            raise SmsError(f"message list failed: {type(exc).__name__}", permanent=False) from None
        for candidate in candidates:
            created = candidate.date_created
            if candidate.body == body and (created is None or created >= window_start):
                return LookupResult(found=True, sid=candidate.sid, status=candidate.status)
        return LookupResult(found=False)

    @staticmethod
    def _map_rest_error(exc: TwilioRestException) -> SmsError:
        code = int(exc.code) if exc.code is not None else None
        if exc.status == 429 or code in RETRYABLE_CODES:
            return SmsError(
                f"Twilio asked us to slow down ({code})",
                permanent=False,
                code=code,
                retry_after=_retry_after(exc),
            )
        if exc.status >= 500:
            return SmsError(
                f"Twilio server error {exc.status}",
                permanent=False,
                code=code,
                maybe_accepted=True,
            )
        reason = PERMANENT_REASONS.get(code or 0, "rejected by Twilio")
        return SmsError(f"{reason} ({code})", permanent=True, code=code)


def _refused_before_sending(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the TCP connection was never made, so Twilio cannot have the message."""
    text = repr(exc)
    return "NewConnectionError" in text or "Connection refused" in text
