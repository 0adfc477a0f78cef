"""SMS backends, chosen by ``settings.SMS_BACKEND`` like Django's EMAIL_BACKEND."""

from __future__ import annotations

from django.conf import settings

from reminders.backends.base import LookupResult, SendResult, SmsBackend, SmsError

_instances: dict[str, SmsBackend] = {}


def get_backend() -> SmsBackend:
    """The configured backend; one instance per process (the Twilio one pools connections)."""
    name = settings.SMS_BACKEND
    if name not in _instances:
        if name == "twilio":
            from reminders.backends.twilio import TwilioBackend

            _instances[name] = TwilioBackend()
        elif name == "locmem":
            from reminders.backends.locmem import LocmemBackend

            _instances[name] = LocmemBackend()
        else:
            from reminders.backends.console import ConsoleBackend

            _instances[name] = ConsoleBackend()
    return _instances[name]


def backend_reports_delivery() -> bool:
    """Whether the configured backend reports delivery, without building it (no credentials
    needed to ask)."""
    if settings.SMS_BACKEND == "twilio":
        from reminders.backends.twilio import TwilioBackend

        return TwilioBackend.reports_delivery
    return SmsBackend.reports_delivery


def reset_backends() -> None:
    """Forget cached backends (tests change Twilio settings between cases)."""
    _instances.clear()


__all__ = [
    "LookupResult",
    "SendResult",
    "SmsBackend",
    "SmsError",
    "backend_reports_delivery",
    "get_backend",
    "reset_backends",
]
