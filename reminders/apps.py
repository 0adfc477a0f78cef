from __future__ import annotations

from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = "Reminders"

    def ready(self) -> None:
        from django.conf import settings

        from reminders import receivers

        receivers.connect()
        # Beat: the sweep finds due rows even if every nudge was lost (e.g. Redis flushed);
        # reconciliation resolves rows a dead worker left ``sending``.
        settings.CELERY_BEAT_SCHEDULE.update(
            {
                "reminders-dispatch-sweep": {
                    "task": "reminders.dispatch_due_messages",
                    "schedule": 5.0,
                    "options": {"expires": 5.0},
                },
                "reminders-reconcile": {
                    "task": "reminders.reconcile_sending_messages",
                    "schedule": 60.0,
                    "options": {"expires": 60.0},
                },
                # Data protection: message and reply texts past their retention period.
                "reminders-messages-retention": {
                    "task": "reminders.messages_retention_enforce",
                    "schedule": 24 * 3600.0,
                },
                # Staff alerts whose task was lost or whose email failed.
                "reminders-staff-alerts-sweep": {
                    "task": "reminders.send_unsent_staff_alerts",
                    "schedule": 120.0,
                    "options": {"expires": 120.0},
                },
            }
        )
