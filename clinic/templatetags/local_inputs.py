"""Date and time inputs written the way the location writes them (``clinic.parsing``).

``{% date_input "valid_until" value region id="valid-until" %}`` renders a text input showing
``01/12/2026`` for a UK location (whatever the browser's own locale), with ``inputmode`` for a
number pad on phones, a ``pattern``, and a visible format hint the input is described by. The
value may be a date, an ISO string (a link's ``?from=2026-12-01``) or what the person typed
(shown back unchanged after an error). Views read the value with ``parse_local_date`` and
friends, which accept the same formats.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from clinic.parsing import (
    DATE_INPUT_PATTERN,
    TIME_INPUT_PATTERN,
    InputLocale,
    datetime_or_none,
    input_locale,
    local_date_or_none,
    local_time_or_none,
)

register = template.Library()


def _date_value(value: object, locale: InputLocale, region: str | None) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, datetime):
        value = value.date()
    day = value if isinstance(value, date) else local_date_or_none(value, region=region)
    return locale.format_date(day) if day is not None else str(value)


def _time_value(value: object, locale: InputLocale) -> str:
    if value in (None, ""):
        return ""
    moment = value if isinstance(value, time) else local_time_or_none(value)
    return locale.format_time(moment) if moment is not None else str(value)


def _datetime_value(value: object, locale: InputLocale) -> str:
    if value in (None, ""):
        return ""
    moment = value if isinstance(value, datetime) else datetime_or_none(value, require_offset=False)
    if moment is None:
        return str(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return locale.format_datetime(moment)


def _render(
    *,
    name: str,
    value: str,
    example: str,
    hint: str,
    input_id: str,
    pattern: str | None,
    size: int,
    required: bool,
    autocomplete: str,
    inputmode: str,
    invalid: bool,
    shared_hint_id: str = "",
) -> SafeString:
    hint_id = shared_hint_id or f"{input_id}-hint"
    # An invalid input is also described by its error message (``<id>-error``, as forms here
    # name it).
    described_by = f"{hint_id} {input_id}-error" if invalid else hint_id
    if shared_hint_id:
        # A grid of inputs (opening hours) shares one hint, shown once above it.
        return format_html(
            '<input id="{}" name="{}" type="text" inputmode="{}" autocomplete="{}" '
            'spellcheck="false" size="{}" value="{}" aria-describedby="{}" class="local-input"'
            "{}{}{}>",
            input_id,
            name,
            inputmode,
            autocomplete,
            size,
            value,
            described_by,
            format_html(' pattern="{}"', pattern) if pattern else "",
            mark_safe(" required") if required else "",  # noqa: S308 - a constant
            mark_safe(' aria-invalid="true"') if invalid else "",  # noqa: S308 - a constant
        )
    return format_html(
        '<input id="{}" name="{}" type="text" inputmode="{}" autocomplete="{}" '
        'spellcheck="false" size="{}" value="{}" aria-describedby="{}" class="local-input"'
        "{}{}{}>"
        '<span class="input-hint" id="{}"><span class="input-hint__example">For example {} </span>'
        "({})</span>",
        input_id,
        name,
        inputmode,
        autocomplete,
        size,
        value,
        described_by,
        format_html(' pattern="{}"', pattern) if pattern else "",
        mark_safe(" required") if required else "",  # noqa: S308 - a constant
        mark_safe(' aria-invalid="true"') if invalid else "",  # noqa: S308 - a constant
        hint_id,
        example,
        hint,
    )


@register.simple_tag
def date_input(
    name: str,
    value: object,
    region: str | None,
    *,
    id: str = "",  # noqa: A002 - mirrors the HTML attribute
    required: bool = False,
    autocomplete: str = "off",
    invalid: bool = False,
) -> SafeString:
    locale = input_locale(region)
    return _render(
        name=name,
        value=_date_value(value, locale, region),
        example=locale.format_date(date(2026, 12, 1)),
        hint=locale.date_hint,
        input_id=id or name,
        pattern=DATE_INPUT_PATTERN,
        size=12,
        required=required,
        autocomplete=autocomplete,
        inputmode="numeric",
        invalid=invalid,
    )


@register.simple_tag
def time_input(
    name: str,
    value: object,
    region: str | None,
    *,
    id: str = "",  # noqa: A002 - mirrors the HTML attribute
    required: bool = False,
    invalid: bool = False,
    hint_id: str = "",
) -> SafeString:
    """``hint_id``: the id of a hint shared by several inputs (see ``time_hint``)."""
    locale = input_locale(region)
    return _render(
        shared_hint_id=hint_id,
        name=name,
        value=_time_value(value, locale),
        example=locale.format_time(time(14, 30)),
        hint=locale.time_hint,
        input_id=id or name,
        pattern=TIME_INPUT_PATTERN,
        size=8,
        required=required,
        autocomplete="off",
        # Phones' numeric pads have no colon: the full keyboard, opened on numbers.
        inputmode="text",
        invalid=invalid,
    )


@register.simple_tag
def datetime_input(
    name: str,
    value: object,
    region: str | None,
    *,
    id: str = "",  # noqa: A002 - mirrors the HTML attribute
    required: bool = False,
    invalid: bool = False,
) -> SafeString:
    locale = input_locale(region)
    example = locale.format_datetime(datetime(2026, 12, 1, 14, 30))  # noqa: DTZ001 - wall clock
    return _render(
        name=name,
        value=_datetime_value(value, locale),
        example=example,
        hint=locale.datetime_hint,
        input_id=id or name,
        pattern=None,
        size=18,
        required=required,
        autocomplete="off",
        inputmode="text",
        invalid=invalid,
    )


@register.filter
def input_datetime_value(value: object, region: str | None = None) -> str:
    """A datetime (or ISO string) as a ``datetime_input`` shows it, e.g. for a button that
    fills the input in ("Use 10:15")."""
    return _datetime_value(value, input_locale(region))


@register.simple_tag
def time_hint(region: str | None) -> str:
    """The time format as words, for a hint shared by a grid of ``time_input``s."""
    locale = input_locale(region)
    return f"Times as {locale.time_hint}, for example {locale.format_time(time(9, 30))}"
