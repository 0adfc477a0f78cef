from __future__ import annotations

from bookings.models.appointments import ACTIVE_STATUSES, Appointment, AppointmentEvent
from bookings.models.clients import Client

__all__ = ["ACTIVE_STATUSES", "Appointment", "AppointmentEvent", "Client"]
