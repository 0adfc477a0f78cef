"""Records' answers to what bookings announces."""

from __future__ import annotations

from typing import Any

from bookings import signals
from bookings.models import Client
from records.services.data_protection import client_records_export, client_records_purge


def on_client_data_collect(sender: Any, *, client: Client, **kwargs: Any) -> dict[str, Any]:
    return client_records_export(client=client)


def on_client_clinical_purging(sender: Any, *, client: Client, **kwargs: Any) -> int:
    return client_records_purge(client=client)


def connect() -> None:
    signals.client_data_collect.connect(
        on_client_data_collect, dispatch_uid="records.receivers.collect"
    )
    signals.client_clinical_purging.connect(
        on_client_clinical_purging, dispatch_uid="records.receivers.clinical_purging"
    )
