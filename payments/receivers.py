"""Bookings announces; payments settles the deposit. No rules here."""

from __future__ import annotations

from typing import Any

from bookings import signals
from payments.services.cancellations import (
    deposit_settle_after_cancellation,
    payments_move_to_client,
)


def on_cancelled(sender: Any, *, appointment: Any, actor_label: str = "", **kwargs: Any) -> None:
    deposit_settle_after_cancellation(appointment=appointment, actor_label=actor_label)


def on_clients_merged(sender: Any, *, keep: Any, duplicate: Any, **kwargs: Any) -> None:
    payments_move_to_client(keep=keep, duplicate=duplicate)


def connect() -> None:
    signals.appointment_cancelled.connect(on_cancelled, dispatch_uid="payments.on_cancelled")
    signals.clients_merged.connect(on_clients_merged, dispatch_uid="payments.clients_merged")
