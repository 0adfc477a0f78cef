"""Steps an online booking takes between the proven phone and the booking, asked of the apps
that know, and notices a client reads before cancelling.

Bookings knows nothing about money and must not import the app that takes it. An app that has
a say registers here when it starts (``payments`` registers "a service with a deposit is paid
for first", and "cancelling inside the window costs the fee"), like the completion guards in
``bookings.completion``. A registry rather than a signal because the caller needs the answer:
the URL of the step to send the client to, or the sentence to show them.
"""

from __future__ import annotations

from collections.abc import Callable

from bookings.models import Appointment, Client
from clinic.models import Location, Service

# (hold=, client=, consent_wording=) -> URL of the step the client must complete first, or None.
CheckoutStep = Callable[..., "str | None"]
# (appointment=) -> a sentence the client must read before cancelling, or "".
CancellationNotice = Callable[..., str]
# (service=, location=) -> a note beside the price on the booking site (the deposit), or "".
PriceNote = Callable[..., str]

_steps: dict[str, CheckoutStep] = {}
_notices: dict[str, CancellationNotice] = {}
_price_notes: dict[str, PriceNote] = {}


def register_checkout_step(name: str, step: CheckoutStep) -> None:
    """Register (or replace, so ``AppConfig.ready`` may run twice) the step called ``name``."""
    _steps[name] = step


def register_cancellation_notice(name: str, notice: CancellationNotice) -> None:
    _notices[name] = notice


def register_price_note(name: str, note: PriceNote) -> None:
    _price_notes[name] = note


def price_notes(*, service: Service, location: Location) -> list[str]:
    """Notes the booking site shows beside the price of ``service`` at ``location``."""
    return [
        text
        for note in list(_price_notes.values())
        if (text := note(service=service, location=location))
    ]


def step_before_booking(*, hold: Appointment, client: Client) -> str | None:
    """The URL of the first step ``client`` must complete before ``hold`` becomes a booking,
    or None when it may be booked now."""
    for step in list(_steps.values()):
        url = step(hold=hold, client=client)
        if url:
            return url
    return None


def cancellation_notices(*, appointment: Appointment) -> list[str]:
    """What the client must be told before they cancel ``appointment`` (e.g. the fee)."""
    return [text for notice in list(_notices.values()) if (text := notice(appointment=appointment))]
