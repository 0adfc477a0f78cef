"""Bookings announces; payments settles the deposit. No rules here."""

from __future__ import annotations

from typing import Any

from bookings import signals
from payments.services.cancellations import deposit_settle_after_cancellation


def on_cancelled(sender: Any, *, appointment: Any, actor_label: str = "", **kwargs: Any) -> None:
    deposit_settle_after_cancellation(appointment=appointment, actor_label=actor_label)


def connect() -> None:
    signals.appointment_cancelled.connect(on_cancelled, dispatch_uid="payments.on_cancelled")
