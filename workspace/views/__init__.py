"""The staff workspace (``/staff/…``): calendar, appointment panel, clients, consultations,
calendar feeds. Views are thin: one selector or service per request, with ``actor=request.user``."""

from __future__ import annotations
