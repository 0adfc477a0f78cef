"""What must be true before an appointment may be marked completed, asked of the apps that know.

Bookings knows nothing about treatment records, and must not import the app that keeps them.
Instead an app that has a say registers a *completion guard* here when it starts (``records``
registers "a treatment needs a signed record"); ``bookings.policy.transition_decision`` asks
every guard, so the transition service refuses and the desk panel leaves out the button with
the same reason (a ``bookings.policy.Refusal`` code).

A registry, rather than a signal, because the answer matters: a guard returns the reason the
appointment may not be completed yet (or None), and the caller refuses with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bookings.models import Appointment


@dataclass(frozen=True)
class CompletionBlocker:
    """Why an appointment cannot be completed yet: a ``bookings.policy.Refusal`` value as the
    stable code, and a sentence for staff."""

    code: str
    message: str


CompletionGuard = Callable[[Appointment], "CompletionBlocker | None"]

_guards: dict[str, CompletionGuard] = {}


def register_completion_guard(name: str, guard: CompletionGuard) -> None:
    """Register (or replace, so ``AppConfig.ready`` may run twice) the guard called ``name``."""
    _guards[name] = guard


def completion_blockers(appointment: Appointment) -> list[CompletionBlocker]:
    """Every reason ``appointment`` may not be completed now, in registration order."""
    found = []
    for guard in list(_guards.values()):
        blocker = guard(appointment)
        if blocker is not None:
            found.append(blocker)
    return found
