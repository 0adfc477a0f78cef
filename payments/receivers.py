"""Bookings announces; payments settles the deposit. No rules here."""

from __future__ import annotations

from typing import Any

from bookings import signals
from payments.services.cancellations import (
    deposit_settle_after_cancellation,
    payments_move_to_client,
)
from payments.services.data_protection import client_payments_erase, client_payments_export


def on_cancelled(sender: Any, *, appointment: Any, actor_label: str = "", **kwargs: Any) -> None:
    deposit_settle_after_cancellation(appointment=appointment, actor_label=actor_label)


def on_clients_merged(sender: Any, *, keep: Any, duplicate: Any, **kwargs: Any) -> None:
    payments_move_to_client(keep=keep, duplicate=duplicate)


def on_client_data_collect(sender: Any, *, client: Any, **kwargs: Any) -> dict[str, Any]:
    return client_payments_export(client=client)


def on_client_erasing(sender: Any, *, client: Any, **kwargs: Any) -> None:
    client_payments_erase(client=client)


def connect() -> None:
    signals.appointment_cancelled.connect(on_cancelled, dispatch_uid="payments.on_cancelled")
    signals.clients_merged.connect(on_clients_merged, dispatch_uid="payments.clients_merged")
    signals.client_data_collect.connect(on_client_data_collect, dispatch_uid="payments.collect")
    signals.client_erasing.connect(on_client_erasing, dispatch_uid="payments.erasing")
