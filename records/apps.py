from __future__ import annotations

from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Treatment records"

    def ready(self) -> None:
        from bookings.completion import register_completion_guard
        from records import receivers
        from records.services.treatment_records import signed_record_blocker

        receivers.connect()
        # "No completion without a signed record" lives in records; bookings only asks.
        register_completion_guard("records.signed_treatment_record", signed_record_blocker)
