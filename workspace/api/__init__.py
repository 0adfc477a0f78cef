"""Staff JSON API under ``/api/v1/staff/``: every endpoint needs a staff session or token.

Each module adds its endpoints to ``router``; they are imported at the bottom so that importing
this package registers them all.
"""

from __future__ import annotations

from ninja import Router

from bookings.auth import staff_auth

router = Router(auth=staff_auth, tags=["staff"])

from bookings.staff_api import appointments, clients, consultations  # noqa: E402, F401
