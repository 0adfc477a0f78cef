"""Parsing of untrusted input shared by every view, API operation and webhook.

Request values reach dates, timezone arithmetic and the database: ``int("²")`` raises although
``"²".isdigit()`` is true, ``date(9999, 12, 31) + timedelta(days=7)`` overflows, converting
``9999-12-31T23:59:59-23:59`` to UTC overflows, and an id past PostgreSQL's ``bigint`` is a
database error. Everything here accepts only what the rest of the code can compute with and
turns anything else into ``ValidationFailed`` naming the field (a 422 in the API) or, in the
``*_or_none`` variants that pages use, into ``None`` so the page falls back to a sane default.

The API's schemas use the annotated types at the bottom (``Id``, ``ApiDate``, ``ApiDatetime``)
so the same bounds hold there and are visible in the OpenAPI schema.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

from clinic.errors import ValidationFailed

# Primary keys are PostgreSQL bigints (SQLite integers have the same range); plain integer
# columns are 32-bit.
MAX_ID = 2**63 - 1
MAX_INTEGER = 2**31 - 1
# Dates the service reasons about: history back to 1900, plans up to 2999. Wide enough for any
# real booking, report or birthday, and far enough from date.min/max that a week or a timezone
# shift never overflows.
EARLIEST_ON = date(1900, 1, 1)
LATEST_ON = date(2999, 12, 31)
# Search input: a name and a phone number fit easily; a 4,000-word query must not become a
# 4,000-term SQL expression.
MAX_SEARCH_CHARS = 100
MAX_SEARCH_WORDS = 6

_ASCII_ID = re.compile(r"[0-9]{1,19}")


def whole_number_or_none(value: object, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """A whole number written in ASCII digits within [minimum, maximum], or None for anything
    else (missing, ``abc``, ``²``, ``-1``, ``1.5``, too big for the column)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value or "").strip()
        if not _ASCII_ID.fullmatch(text):
            return None
        number = int(text)
    return number if minimum <= number <= maximum else None


def id_or_none(value: object) -> int | None:
    """A positive database id (bigint) written in ASCII digits, or None for anything else."""
    return whole_number_or_none(value, minimum=1)


def parse_id(value: object, *, field: str) -> int:
    """Like ``id_or_none`` but a bad value is ``ValidationFailed`` naming ``field``."""
    number = id_or_none(value)
    if number is None:
        raise ValidationFailed(f"{field} must be a positive whole number.", field=field)
    return number


def ids_from(values: list[str]) -> list[int]:
    """The valid ids among several posted values (a multi-select), bad ones dropped."""
    return [number for number in (id_or_none(value) for value in values) if number is not None]


def _date_in_range(day: date) -> bool:
    return EARLIEST_ON <= day <= LATEST_ON


def _iso_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text or not text.isascii():
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def date_or_none(value: object) -> date | None:
    """An ISO date (``2026-12-01``), moved into 1900–2999 when it lies outside (pages then
    clamp further, e.g. to the booking horizon), or None when it is not a date at all."""
    day = _iso_date(value)
    if day is None:
        return None
    return clamp_date(day, earliest=EARLIEST_ON, latest=LATEST_ON)


def parse_date(value: object, *, field: str) -> date:
    """An ISO date between 1900 and 2999; anything else is ``ValidationFailed``."""
    day = _iso_date(value)
    if day is None or not _date_in_range(day):
        raise ValidationFailed(
            f"{field} must be a date written YYYY-MM-DD between "
            f"{EARLIEST_ON.isoformat()} and {LATEST_ON.isoformat()}.",
            field=field,
        )
    return day


def clamp_date(day: date, *, earliest: date, latest: date) -> date:
    """``day`` moved into [earliest, latest] (a week asked for past the booking horizon shows
    the last bookable week rather than an error)."""
    return max(earliest, min(day, latest))


def checked_datetime(moment: datetime) -> datetime:
    """``moment`` if it can be converted to UTC and lies in the supported dates; naive values
    (wall-clock time somewhere) are checked by their date alone. Raises ``ValueError``."""
    if moment.tzinfo is not None and moment.utcoffset() is not None:
        try:
            in_utc = moment.astimezone(UTC)
        except (OverflowError, ValueError) as error:
            raise ValueError("date and time out of range") from error
        if not _date_in_range(in_utc.date()):
            raise ValueError(
                f"date must be between {EARLIEST_ON.isoformat()} and {LATEST_ON.isoformat()}"
            )
        return moment
    if not _date_in_range(moment.date()):
        raise ValueError(
            f"date must be between {EARLIEST_ON.isoformat()} and {LATEST_ON.isoformat()}"
        )
    return moment


def datetime_or_none(value: object, *, require_offset: bool = True) -> datetime | None:
    """An ISO 8601 date and time (with a UTC offset unless ``require_offset`` is False) that
    converts to UTC without overflowing, or None."""
    text = str(value or "").strip()
    if not text or not text.isascii():
        return None
    try:
        moment = checked_datetime(datetime.fromisoformat(text))
    except ValueError:
        return None
    if require_offset and moment.utcoffset() is None:
        return None
    return moment


def parse_datetime(value: object, *, field: str, require_offset: bool = True) -> datetime:
    moment = datetime_or_none(value, require_offset=require_offset)
    if moment is None:
        offset = " with a UTC offset" if require_offset else ""
        raise ValidationFailed(
            f"{field} must be an ISO 8601 date and time{offset} (e.g. 2026-12-01T10:00:00+00:00).",
            field=field,
        )
    return moment


def search_terms(query: str) -> list[str]:
    """The words of a search box, bounded in characters and in number of words."""
    return str(query or "")[:MAX_SEARCH_CHARS].split()[:MAX_SEARCH_WORDS]


def bounded_search(query: str) -> str:
    """The search text as it will be used, for showing back in the box."""
    return " ".join(search_terms(query))


# --- pydantic types for the API ----------------------------------------------------------------


def _checked_date(day: date) -> date:
    if not _date_in_range(day):
        raise ValueError(
            f"date must be between {EARLIEST_ON.isoformat()} and {LATEST_ON.isoformat()}"
        )
    return day


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
ApiDate = Annotated[date, AfterValidator(_checked_date)]
# A start the calendar sends without an offset is wall-clock time at the location.
ApiDatetime = Annotated[datetime, AfterValidator(checked_datetime)]
AwareApiDatetime = Annotated[AwareDatetime, AfterValidator(checked_datetime)]
SearchText = Annotated[str, Field(max_length=MAX_SEARCH_CHARS)]
