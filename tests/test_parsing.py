"""The shared input parsers: whatever text arrives, what comes out can be computed with."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.errors import ValidationFailed
from clinic.parsing import (
    MAX_ID,
    bounded_search,
    date_or_none,
    datetime_or_none,
    id_or_none,
    parse_date,
    parse_datetime,
    parse_id,
    search_terms,
    whole_number_or_none,
)


@given(st.text())
def test_any_text_is_a_bigint_id_or_none(text):
    number = id_or_none(text)

    assert number is None or 1 <= number <= MAX_ID


@given(st.text())
def test_any_text_is_a_date_a_week_either_side_of_which_exists_or_none(text):
    day = date_or_none(text)

    if day is not None:
        assert day - timedelta(days=7) < day + timedelta(days=7)


@given(st.datetimes(timezones=st.timezones()) | st.datetimes())
def test_any_date_and_time_that_parses_converts_to_utc_and_back(moment):
    parsed = datetime_or_none(moment.isoformat(), require_offset=False)

    if parsed is not None and parsed.utcoffset() is not None:
        assert parsed.astimezone(UTC) == parsed


@pytest.mark.parametrize(
    "text", ["²", "١٢", "１２", "-1", "0", "1.5", " 7 ", str(2**63), "9" * 30, "", "abc", None]
)
def test_ids_are_ascii_digits_in_the_bigint_range(text):
    expected = 7 if text == " 7 " else None
    assert id_or_none(text) == expected


def test_a_bad_id_names_its_field():
    with pytest.raises(ValidationFailed) as refused:
        parse_id("²", field="practitioner")

    assert refused.value.field == "practitioner"


def test_whole_numbers_respect_the_column():
    assert whole_number_or_none("30007", maximum=2**31 - 1) == 30007
    assert whole_number_or_none(str(2**31), maximum=2**31 - 1) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("9999-12-31", date(2999, 12, 31)),  # pages clamp
        ("0001-01-01", date(1900, 1, 1)),
        ("2026-13-01", None),
        ("２０２６-12-01", None),
    ],
)
def test_pages_get_a_date_moved_into_the_supported_range(text, expected):
    assert date_or_none(text) == expected


def test_the_api_refuses_a_date_outside_the_supported_range_naming_it():
    with pytest.raises(ValidationFailed) as refused:
        parse_date("9999-12-31", field="to")

    assert refused.value.field == "to"


@pytest.mark.parametrize(
    "text",
    [
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "2026-12-01T10:00:00",  # no offset
        "2026-12-01T10:00:00+24:00",
        "not a time",
    ],
)
def test_a_start_that_cannot_be_converted_to_utc_is_refused(text):
    with pytest.raises(ValidationFailed):
        parse_datetime(text, field="start")


def test_an_extreme_but_real_offset_is_accepted():
    assert parse_datetime("2026-12-01T10:00:00-23:59", field="start") == datetime.fromisoformat(
        "2026-12-01T10:00:00-23:59"
    )


def test_a_search_is_bounded_in_characters_and_words():
    words = search_terms(" ".join(["Maya"] * 4000))

    assert 1 <= len(words) <= 6
    assert len(bounded_search("x" * 5000)) <= 100


@pytest.mark.parametrize("typed", ["0.0", "0", 1700000000, "2026-12-01T00:00", "01/12/2026", ""])
def test_an_api_date_is_only_ever_written_yyyy_mm_dd(typed):
    from pydantic import TypeAdapter, ValidationError

    from clinic.parsing import ApiDate

    with pytest.raises(ValidationError):
        TypeAdapter(ApiDate).validate_python(typed)
    assert TypeAdapter(ApiDate).validate_python("2026-12-01") == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("typed", "pounds"),
    [("£45", "45.00"), ("1,200.5", "1200.50"), ("", "0.00"), (None, "0.00"), (" 0.99 ", "0.99")],
)
def test_pounds_are_read_as_typed_to_the_penny(typed, pounds):
    from decimal import Decimal

    from clinic.parsing import parse_pounds

    amount = parse_pounds(typed, field="price", label="the price", under=Decimal(10000))
    assert str(amount) == pounds


@pytest.mark.parametrize("typed", ["12.345", "-1", "NaN", "Infinity", "1e3", "abc", "1000"])
def test_pounds_that_are_not_money_or_too_much_name_the_field(typed):
    from decimal import Decimal

    from clinic.parsing import parse_pounds

    with pytest.raises(ValidationFailed) as raised:
        parse_pounds(typed, field="price", label="the price", under=Decimal(1000))
    assert raised.value.field == "price"
