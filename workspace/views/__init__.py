"""The staff workspace pages (``/staff/…``): calendar, appointment panel, clients,
consultations, calendar feeds, messages, inbox, outbox, reports. Views are thin: one selector
or service per request, with ``actor=request.user``."""

from __future__ import annotations
