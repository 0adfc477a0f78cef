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
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, Strict

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


def parse_pounds(value: object, *, field: str, label: str, under: Decimal) -> Decimal:
    """An amount typed in pounds (£45, 45.00, 1,200.50; empty means 0), exact to the penny and
    below ``under``; anything else is a ValidationFailed naming ``field``."""
    raw = str(value or "").strip().lstrip("£").replace(",", "") or "0"
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(f"Give {label} in pounds and pence, e.g. 45.00.", field=field)
    if amount >= under:
        raise ValidationFailed(f"{label.capitalize()} must be under £{under:,}.", field=field)
    return amount.quantize(Decimal("0.01"))


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


# --- dates and times typed by people, in the location's locale --------------------------------
#
# Native date/time inputs follow the *browser's* locale, so a UK clinic on a US-configured laptop
# sees mm/dd/yyyy and 12-hour times. Pages use plain text inputs instead, written and read in the
# location's convention (its country), and always also accept ISO (2026-12-01, 14:30, links and
# old bookmarks). The few regions that write the month first or use a 12-hour clock are listed;
# everyone else gets day first and 24 hours, like en-GB.
MONTH_FIRST_REGIONS = frozenset({"US", "PH", "FM", "MH", "PW"})
TWELVE_HOUR_REGIONS = frozenset({"US", "CA", "AU", "NZ", "IN", "PH", "FM", "MH", "PW"})

_TYPED_DATE = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})")
_TYPED_TIME = re.compile(r"([0-9]{1,2})(?:[:.]([0-9]{2}))?\s*([aApP]\.?[mM]\.?)?")


@dataclass(frozen=True)
class InputLocale:
    """How dates and times are written in one region's inputs."""

    day_first: bool
    twelve_hour: bool

    @property
    def date_hint(self) -> str:
        return "dd/mm/yyyy" if self.day_first else "mm/dd/yyyy"

    @property
    def time_hint(self) -> str:
        return "h:mm am/pm" if self.twelve_hour else "hh:mm, 24-hour"

    @property
    def datetime_hint(self) -> str:
        clock = "h:mm am/pm" if self.twelve_hour else "hh:mm"
        return f"{self.date_hint} {clock}"

    def format_date(self, day: date) -> str:
        return day.strftime("%d/%m/%Y" if self.day_first else "%m/%d/%Y")

    def format_time(self, moment: time | datetime) -> str:
        if not self.twelve_hour:
            return moment.strftime("%H:%M")
        hour = moment.hour % 12 or 12
        return f"{hour}:{moment.minute:02d} {'am' if moment.hour < 12 else 'pm'}"

    def format_datetime(self, moment: datetime) -> str:
        return f"{self.format_date(moment.date())} {self.format_time(moment)}"


# What the inputs' ``pattern`` attribute allows (the server is the authority; this only lets
# the browser point at a typo before sending). Written for the ``v`` flag browsers now use.
# (Outside a character class the v flag refuses an escaped "-": the whole pattern would be ignored.)
DATE_INPUT_PATTERN = r"[0-9]{1,2}[\/.\-][0-9]{1,2}[\/.\-][0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2}"
TIME_INPUT_PATTERN = r"[0-9]{1,2}([:.][0-9]{2})?( ?[aApP]\.?[mM]\.?)?"


def input_locale(region: str | None) -> InputLocale:
    """The input convention for a two-letter country code (GB when unknown)."""
    code = (region or "GB").upper()
    return InputLocale(
        day_first=code not in MONTH_FIRST_REGIONS, twelve_hour=code in TWELVE_HOUR_REGIONS
    )


def local_date_or_none(value: object, *, region: str | None) -> date | None:
    """A date typed in the region's order (``01/12/2026`` in the UK, ``12/01/2026`` in the US;
    ``/``, ``.`` or ``-`` between the parts) or as ISO, between 1900 and 2999; else None."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value if _date_in_range(value) else None
    text = str(value or "").strip()
    if not text or not text.isascii():
        return None
    day = _iso_date(text)
    if day is None:
        typed = _TYPED_DATE.fullmatch(text)
        if typed is None:
            return None
        first, second, year = (int(part) for part in typed.groups())
        day_number, month = (first, second) if input_locale(region).day_first else (second, first)
        try:
            day = date(year, month, day_number)
        except ValueError:
            return None
    return day if _date_in_range(day) else None


def parse_local_date(value: object, *, field: str, region: str | None) -> date:
    """Like ``local_date_or_none``; anything else is ``ValidationFailed`` naming ``field`` and
    showing the expected format."""
    day = local_date_or_none(value, region=region)
    if day is None:
        locale = input_locale(region)
        example = locale.format_date(date(2026, 12, 1))
        raise ValidationFailed(
            f"Enter a date as {locale.date_hint}, for example {example}.", field=field
        )
    return day


def optional_local_date(value: object, *, field: str, region: str | None) -> date | None:
    """``parse_local_date`` for an optional field: a blank value is None."""
    if not str(value or "").strip():
        return None
    return parse_local_date(value, field=field, region=region)


def local_time_or_none(value: object, *, region: str | None = None) -> time | None:
    """A time of day typed as ``14:30``, ``14.30``, ``9:05``, ``2:30 pm`` or ``2pm`` (either
    clock is understood everywhere: neither is ambiguous), or None."""
    if isinstance(value, time):
        return value
    text = str(value or "").strip()
    if not text or not text.isascii():
        return None
    typed = _TYPED_TIME.fullmatch(text)
    if typed is None:
        return None
    hour_text, minute_text, meridiem = typed.groups()
    if minute_text is None and meridiem is None:
        return None
    hour, minute = int(hour_text), int(minute_text or 0)
    if meridiem:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if meridiem[0] in "pP" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def parse_local_time(value: object, *, field: str, region: str | None) -> time:
    moment = local_time_or_none(value, region=region)
    if moment is None:
        locale = input_locale(region)
        example = locale.format_time(time(14, 30))
        raise ValidationFailed(
            f"Enter a time as {locale.time_hint}, for example {example}.", field=field
        )
    return moment


def local_datetime_or_none(value: object, *, region: str | None) -> datetime | None:
    """A wall-clock date and time typed as the region writes it (``02/12/2026 14:30``), or ISO
    (``2026-12-02T14:30``, what the calendar links carry), as a naive datetime; else None."""
    text = str(value or "").strip()
    if not text or not text.isascii():
        return None
    iso = datetime_or_none(text, require_offset=False)
    if iso is not None:
        return iso.replace(tzinfo=None) if iso.utcoffset() is None else iso
    parts = re.split(r"[\sT,]+", text, maxsplit=1)
    if len(parts) != 2:
        return None
    day = local_date_or_none(parts[0], region=region)
    moment = local_time_or_none(parts[1], region=region)
    if day is None or moment is None:
        return None
    return datetime.combine(day, moment)


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


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_text(value: object) -> object:
    # pydantic's lax mode reads a number ("0.0", 1700000000) as a Unix time: a date in the API
    # is only ever written YYYY-MM-DD, as the schema says.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("date must be written YYYY-MM-DD")


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
ApiDate = Annotated[date, BeforeValidator(_iso_date_text), AfterValidator(_checked_date)]
# A start the calendar sends without an offset is wall-clock time at the location.
ApiDatetime = Annotated[datetime, AfterValidator(checked_datetime)]
AwareApiDatetime = Annotated[AwareDatetime, AfterValidator(checked_datetime)]
SearchText = Annotated[str, Field(max_length=MAX_SEARCH_CHARS)]
# A JSON true or false, as the schema says: pydantic's default would read 0, 1, "yes" or "off"
# as a boolean, so a consent or a signature could be given by a number.
ApiBool = Annotated[bool, Strict()]
