from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self) -> None:
        from bookings import receivers  # noqa: F401 - connects the signal receivers

        settings.CELERY_BEAT_SCHEDULE.setdefault(
            "bookings.release-tentative-treatments",
            {"task": "bookings.tentative_holds_release_due", "schedule": 300.0},
        )
        settings.CELERY_BEAT_SCHEDULE.setdefault(
            "bookings.retention",
            {"task": "bookings.retention_enforce", "schedule": 24 * 3600.0},
        )
        settings.CELERY_BEAT_SCHEDULE.setdefault(
            "bookings.delete-old-verifications",
            {"task": "bookings.verifications_delete_old", "schedule": 3600.0},
        )
