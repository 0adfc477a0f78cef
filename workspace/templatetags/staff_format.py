"""Formatting helpers for staff templates."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import formats, timezone

register = template.Library()


@register.filter
def local_slot(value: str | datetime) -> str:
    """An ISO datetime (e.g. a SlotTaken alternative) as "Wed 2 Dec, 10:15" in the active
    (clinic) time zone; anything unparsable is shown as it came."""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(moment, datetime):
        return str(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return formats.date_format(moment, "D j M, H:i")


@register.filter
def local_input(value: str | datetime) -> str:
    """An ISO datetime as a ``datetime-local`` input value in the active (clinic) time zone."""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return ""
    if not isinstance(moment, datetime):
        return ""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%dT%H:%M")
