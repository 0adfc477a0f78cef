"""Structured, greppable log lines: ``ts=… level=… logger=… msg="…" key=value``.

Extra fields come from ``logger.info("…", extra={"appointment_id": 3})``. Never pass message
bodies or screening answers here: log lines leave the clinic's control.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def _quote(value: object) -> str:
    text = str(value)
    if text == "" or any(ch in text for ch in ' "=\n'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


# Links that carry their own credential in the path: manage (/b/), re-check (/r/), care pages
# (/c/), staff calendar feeds, the booking API by manage token, verification handles. Anyone
# reading an access log could otherwise open a client's booking.
_TOKEN_IN_PATH = re.compile(
    r"(?P<prefix>/(?:b|r|c)/|/staff/feeds/|/api/v1/bookings/|/api/v1/verifications/)"
    r"(?P<token>[^/\s?\"']+)"
)
_NOT_TOKENS = {"issue", "revoke"}


def scrub_tokens(text: str) -> str:
    """``text`` with every token or handle in a URL path replaced by ``[token]``."""

    def replace(match: re.Match[str]) -> str:
        token = match.group("token")
        if token in _NOT_TOKENS:
            return match.group(0)
        suffix = ".ics" if token.endswith(".ics") else ""
        return f"{match.group('prefix')}[token]{suffix}"

    return _TOKEN_IN_PATH.sub(replace, text)


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        timestamp = datetime.fromtimestamp(record.created, tz=UTC).isoformat(
            timespec="milliseconds"
        )
        parts = [
            f"ts={timestamp}",
            f"level={record.levelname.lower()}",
            f"logger={record.name}",
            f"msg={_quote(record.getMessage())}",
        ]
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                parts.append(f"{key}={_quote(value)}")
        if record.exc_info:
            parts.append(f"exc={_quote(self.formatException(record.exc_info))}")
        # Django's request logger puts the path in the message ("Not Found: /b/…/") and the
        # request in an extra field: scrub the whole line rather than each field.
        return scrub_tokens(" ".join(parts))
