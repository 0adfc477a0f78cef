"""Records' answers to what bookings announces."""

from __future__ import annotations

from typing import Any

from bookings import signals
from bookings.models import Client
from records.services.data_protection import client_records_export


def on_client_data_collect(sender: Any, *, client: Client, **kwargs: Any) -> dict[str, Any]:
    return client_records_export(client=client)


def connect() -> None:
    signals.client_data_collect.connect(
        on_client_data_collect, dispatch_uid="records.receivers.collect"
    )
