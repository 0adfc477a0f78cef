"""A fake of Twilio's Programmable Messaging REST API, good enough for the official library.

Run it standalone (``python -m tests.fake_twilio --port 8765``) for ``make run`` demos and
benchmarks, or in-process from tests (``FakeTwilio().start()``). It implements create, fetch
and list of messages, posts signed status callbacks (sent → delivered) to each message's
StatusCallback, and can be told to misbehave:

``POST /_fake/faults`` with JSON ``{"next": ["429", "500", "timeout", "21211", "21610",
"crash-after-accept", "undelivered-30006"], "latency_ms": 0, "callbacks": true}`` (or
``{"fault": "429", "count": 3}``) makes the next create requests fail in that order
(``undelivered-<code>``: accepted, then reported ``sent`` and ``undelivered`` with that
ErrorCode, the undelivered callback posted twice as Twilio's retries may); ``GET /_fake/messages`` lists
every accepted message (with ``received_at``, for counting duplicates and rates);
``POST /_fake/reset`` forgets everything. ``deliver_inbound(url, from_, to, body)`` plays a
client's incoming SMS: a signed webhook POST to ``url``, as Twilio makes it, returning the TwiML.

Tests that need "a worker is mid-batch" call ``hold_after(n)``: the first ``n`` create
requests are answered, every later one waits (counted in ``held``) until ``release()``. A test
then gates on ``held`` instead of racing the clock.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import queue
import secrets
import socket
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse
from urllib.request import Request, urlopen

from twilio.request_validator import RequestValidator

logger = logging.getLogger(__name__)

DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "fake-auth-token"  # noqa: S105 - the fake's well-known test token

ERRORS = {
    "21211": (400, "The 'To' number is not a valid phone number."),
    "21408": (400, "Permission to send an SMS has not been enabled for the region."),
    "21610": (400, "Attempt to send to unsubscribed recipient"),
    "21614": (400, "'To' number is not a valid mobile number"),
    "21611": (400, "This 'From' number has exceeded the maximum number of queued messages"),
    "429": (429, "Too Many Requests"),
    "500": (500, "Internal Server Error"),
    "503": (503, "Service Unavailable"),
}


def _rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment, usegmt=True) if moment else None


def _parse_filter_date(value: str) -> datetime | None:
    try:
        if "T" in value:
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


class FakeTwilio:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        callbacks: bool = True,
        timeout_seconds: float = 5.0,
    ):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.callbacks = callbacks
        self.timeout_seconds = timeout_seconds
        self.latency_ms = 0
        self.lock = threading.Lock()
        self.messages: dict[str, dict] = {}
        self.accepted: list[dict] = []
        self.faults: list[str] = []
        self.requests_seen = 0
        # Holding: create requests after the first ``_hold_after`` wait for ``_released``.
        self._hold_after: int | None = None
        self._admitted = 0
        self._released = threading.Event()
        self._released.set()
        self._held_changed = threading.Condition(self.lock)
        self.held = 0
        self._callback_queue: queue.Queue = queue.Queue()
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTwilio:
        for target in (self.httpd.serve_forever, self._callback_worker):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._callback_queue.put(None)

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.accepted.clear()
            self.faults.clear()
            self.latency_ms = 0
            self.requests_seen = 0
            self._hold_after = None
            self._admitted = 0
        self._released.set()

    def hold_after(self, count: int) -> None:
        """Answer the next ``count`` create requests; hold every later one until release()."""
        with self.lock:
            self._hold_after = count
            self._admitted = 0
            self._released.clear()

    def release(self) -> None:
        """Let held requests (and every later one) through."""
        with self.lock:
            self._hold_after = None
        self._released.set()

    def wait_until_held(self, count: int, *, timeout: float = 60) -> None:
        """Block until ``count`` requests are being held (an event, not a guess at timing)."""
        with self._held_changed:
            if not self._held_changed.wait_for(lambda: self.held >= count, timeout=timeout):
                raise AssertionError(f"only {self.held} of {count} requests arrived to be held")

    def _wait_if_held(self) -> None:
        with self.lock:
            if self._hold_after is None:
                return
            self._admitted += 1
            if self._admitted <= self._hold_after:
                return
            self.held += 1
            self._held_changed.notify_all()
        try:
            # Bounded so a forgotten release cannot hang a test run.
            self._released.wait(timeout=300)
        finally:
            with self.lock:
                self.held -= 1
                self._held_changed.notify_all()

    def inject(self, *faults: str, latency_ms: int | None = None) -> None:
        with self.lock:
            self.faults.extend(faults)
            if latency_ms is not None:
                self.latency_ms = latency_ms

    # -- behaviour -------------------------------------------------------------------------

    def create_message(
        self, params: dict[str, str], *, undelivered_code: int | None = None
    ) -> dict:
        now = datetime.now(UTC)
        sid = "SM" + secrets.token_hex(16)
        service = params.get("MessagingServiceSid")
        message = {
            "sid": sid,
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "to": params["To"],
            "from": params.get("From") or None,
            "messaging_service_sid": service,
            "body": params["Body"],
            "status": "accepted" if service else "queued",
            "direction": "outbound-api",
            "date_created": _rfc2822(now),
            "date_updated": _rfc2822(now),
            "date_sent": None,
            "error_code": None,
            "error_message": None,
            "num_segments": "1",
            "num_media": "0",
            "price": None,
            "price_unit": "USD",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
        }
        record = {
            "message": message,
            "received_at": time.time(),
            "created": now,
            "sent": None,
            "status_callback": params.get("StatusCallback"),
            "validity_period": params.get("ValidityPeriod"),
            "undelivered_code": undelivered_code,
        }
        with self.lock:
            self.messages[sid] = record
            self.accepted.append(record)
        if record["status_callback"] and self.callbacks:
            self._callback_queue.put(sid)
        else:
            self._advance(sid, "sent")
            self._advance(sid, "undelivered" if undelivered_code else "delivered")
        return message

    def _advance(self, sid: str, status: str) -> dict:
        now = datetime.now(UTC)
        with self.lock:
            record = self.messages[sid]
            record["message"]["status"] = status
            record["message"]["date_updated"] = _rfc2822(now)
            if status == "sent" and record["sent"] is None:
                record["sent"] = now
                record["message"]["date_sent"] = _rfc2822(now)
            return dict(record["message"])

    def _callback_worker(self) -> None:
        validator = RequestValidator(self.auth_token)
        while True:
            sid = self._callback_queue.get()
            if sid is None:
                return
            time.sleep(0.02)
            url = self.messages[sid]["status_callback"]
            code = self.messages[sid]["undelivered_code"]
            outcomes = ("sent", "undelivered", "undelivered") if code else ("sent", "delivered")
            for status in outcomes:
                message = self._advance(sid, status)
                params = {
                    "MessageSid": sid,
                    "SmsSid": sid,
                    "MessageStatus": status,
                    "SmsStatus": status,
                    "AccountSid": self.account_sid,
                    "From": message["from"] or "",
                    "To": message["to"],
                    "ApiVersion": "2010-04-01",
                    "MessagingServiceSid": message["messaging_service_sid"] or "",
                }
                if code and status == "undelivered":
                    params["ErrorCode"] = str(code)
                request = Request(  # noqa: S310 - URL given by the test's own configuration
                    url,
                    data=urlencode(params).encode(),
                    headers={"X-Twilio-Signature": validator.compute_signature(url, params)},
                )
                try:
                    with urlopen(request, timeout=5):  # noqa: S310
                        pass
                except OSError as exc:
                    logger.info("status callback to %s failed: %s", url, exc)

    def deliver_inbound(self, url: str, *, from_: str, to: str, body: str) -> str:
        """Post an incoming SMS to our inbound webhook at ``url`` the way Twilio does (form
        fields, ``X-Twilio-Signature`` over the URL and sorted params); returns the TwiML."""
        sid = "SM" + secrets.token_hex(16)
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": self.account_sid,
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "ApiVersion": "2010-04-01",
        }
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        request = Request(  # noqa: S310 - URL given by the test's own configuration
            url, data=urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
        )
        with urlopen(request, timeout=self.timeout_seconds) as response:  # noqa: S310
            return response.read().decode()

    def list_messages(self, query: dict[str, list[str]]) -> list[dict]:
        to = query.get("To", [None])[0]
        after = _parse_filter_date(query.get("DateSent>", [""])[0])
        before = _parse_filter_date(query.get("DateSent<", [""])[0])
        with self.lock:
            records = list(self.messages.values())
        found = []
        for record in sorted(records, key=lambda r: r["created"], reverse=True):
            moment = record["sent"] or record["created"]
            if to and record["message"]["to"] != to:
                continue
            if after and moment < after:
                continue
            if before and moment > before:
                continue
            found.append(dict(record["message"]))
        return found

    def accepted_log(self) -> list[dict]:
        with self.lock:
            return [
                {
                    "sid": record["message"]["sid"],
                    "to": record["message"]["to"],
                    "body": record["message"]["body"],
                    "status": record["message"]["status"],
                    "received_at": record["received_at"],
                    "validity_period": record["validity_period"],
                    "status_callback": record["status_callback"],
                }
                for record in self.accepted
            ]


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeTwilio
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the body waits for the
    # client's delayed ACK (~40 ms a request), which would make the fake the bottleneck.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return

    def _send_json(self, status: int, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _error(self, status: int, code: int, message: str) -> None:
        self._send_json(
            status,
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
        )

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorised(self, account_sid: str) -> bool:
        fake = self.server_fake
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == fake.account_sid == account_sid and password == fake.auth_token

    def _route(self) -> tuple[str, list[str], dict[str, list[str]]]:
        parsed = urlparse(self.path)
        return parsed.path, [p for p in parsed.path.split("/") if p], parse_qs(parsed.query)

    def do_GET(self) -> None:  # noqa: N802
        fake = self.server_fake
        path, parts, query = self._route()
        if path == "/_fake/messages":
            self._send_json(200, {"messages": fake.accepted_log()})
            return
        if len(parts) >= 4 and parts[:2] == ["2010-04-01", "Accounts"]:
            if not self._authorised(parts[2]):
                self._error(401, 20003, "Authenticate")
                return
            if parts[3:] == ["Messages.json"]:
                found = fake.list_messages(query)
                uri = f"/2010-04-01/Accounts/{parts[2]}/Messages.json"
                self._send_json(
                    200,
                    {
                        "messages": found,
                        "page": 0,
                        "page_size": max(len(found), 50),
                        "first_page_uri": uri,
                        "next_page_uri": None,
                        "previous_page_uri": None,
                        "uri": uri,
                        "start": 0,
                        "end": max(len(found) - 1, 0),
                    },
                )
                return
            if len(parts) == 5 and parts[3] == "Messages" and parts[4].endswith(".json"):
                record = fake.messages.get(parts[4][: -len(".json")])
                if record is None:
                    self._error(404, 20404, "The requested resource was not found")
                else:
                    self._send_json(200, record["message"])
                return
        self._error(404, 20404, "The requested resource was not found")

    def do_POST(self) -> None:  # noqa: N802
        fake = self.server_fake
        path, parts, _query = self._route()
        raw = self._read_body()
        if path == "/_fake/faults":
            control = json.loads(raw or b"{}")
            faults = [str(f) for f in control.get("next", [])]
            if "fault" in control:
                faults += [str(control["fault"])] * int(control.get("count", 1))
            fake.inject(*faults, latency_ms=control.get("latency_ms"))
            if "callbacks" in control:
                fake.callbacks = bool(control["callbacks"])
            self._send_json(200, {"faults": fake.faults, "latency_ms": fake.latency_ms})
            return
        if path == "/_fake/reset":
            fake.reset()
            self._send_json(200, {"ok": True})
            return
        if parts[:2] != ["2010-04-01", "Accounts"] or parts[3:] != ["Messages.json"]:
            self._error(404, 20404, "The requested resource was not found")
            return
        if not self._authorised(parts[2]):
            self._error(401, 20003, "Authenticate")
            return
        params = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
        with fake.lock:
            fake.requests_seen += 1
        fake._wait_if_held()
        with fake.lock:
            fault = fake.faults.pop(0) if fake.faults else None
            latency = fake.latency_ms
        if latency:
            time.sleep(latency / 1000)
        if fault == "timeout":
            # Never answers and never accepts: the client times out.
            time.sleep(fake.timeout_seconds)
            self.close_connection = True
            return
        if fault in ERRORS:
            status, message = ERRORS[fault]
            code = {"429": 20429, "500": 20500, "503": 20503}.get(fault, int(fault))
            self._error(status, code, message)
            return
        if not params.get("To") or not params.get("Body"):
            self._error(400, 21604, "A 'To' phone number and a 'Body' are required.")
            return
        if not (params.get("From") or params.get("MessagingServiceSid")):
            self._error(400, 21603, "A 'From' or 'MessagingServiceSid' is required.")
            return
        undelivered_code = (
            int(fault.removeprefix("undelivered-"))
            if fault and fault.startswith("undelivered-")
            else None
        )
        message = fake.create_message(params, undelivered_code=undelivered_code)
        if fault == "crash-after-accept":
            # Accepted, then the connection dies before the answer: the caller cannot know.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send_json(201, message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
