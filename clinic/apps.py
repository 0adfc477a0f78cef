from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic catalogue"

    def ready(self) -> None:
        # Registers the ``any_of`` lookup (clinic.db.AnyOf) on every model field.
        from clinic import db  # noqa: F401

        # The SQLite database, the embedded broker and beat's schedule live in VAR_DIR, and
        # whitenoise expects STATIC_ROOT to exist; settings only name them (importing settings
        # does no I/O).
        for folder in (settings.VAR_DIR, settings.STATIC_ROOT):
            folder.mkdir(parents=True, exist_ok=True)
