"""Staff JSON API under ``/api/v1/staff/``: every endpoint needs a staff session or token.

Each module has its own router with the staff auth; ``router`` gathers them for the project's
URL wiring (``clinic/urls.py``) to mount.
"""

from __future__ import annotations

from ninja import Router

from bookings.auth import staff_auth
from workspace.api import (
    appointments,
    clients,
    consultations,
    messages,
    payments,
    records,
    waitlist,
)

router = Router(auth=staff_auth, tags=["staff"])
for module in (appointments, clients, consultations, messages, payments, records, waitlist):
    router.add_router("", module.router)
