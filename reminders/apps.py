from __future__ import annotations

from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = "Reminders"

    def ready(self) -> None:
        from clinic.metrics import register_state_collector
        from reminders import receivers, rulebook
        from reminders.metrics import OutboxCollector

        receivers.connect()
        rulebook.connect()
        register_state_collector(OutboxCollector())
