from __future__ import annotations

from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self) -> None:
        from bookings import receivers  # noqa: F401 - connects the signal receivers
        from bookings.availability import answers

        answers.connect()
