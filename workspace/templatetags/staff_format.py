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


@register.filter
def message_status_label(value: str) -> str:
    """An outbox status code ("undelivered") as its label ("Undelivered")."""
    from reminders.models import Message

    try:
        return Message.Status(value).label
    except ValueError:
        return value


CLIENT_FIELD_LABELS = {
    "first_name": "first name",
    "last_name": "last name",
    "email": "email",
    "date_of_birth": "date of birth",
    "notes": "notes",
    "alert": "clinical alert",
    "merged": "merged in a duplicate",
    "reason": "reason",
}


@register.filter
def client_field_label(value: str) -> str:
    """A client field name from the change history as words ("date of birth")."""
    return CLIENT_FIELD_LABELS.get(value, value.replace("_", " "))


@register.filter
def money(amount: int | None, currency: str = "gbp") -> str:
    """Minor units as money ("£50", "€12.50")."""
    from payments.rules import format_money

    return format_money(int(amount or 0), currency or "gbp")


@register.filter
def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:.0%}"
