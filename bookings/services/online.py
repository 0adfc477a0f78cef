"""Bookings made on the client site, once the client has proved their phone."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from bookings import policy
from bookings.models import Appointment, Client
from bookings.selectors.consultations import consultation_pending_for
from bookings.services.appointments import appointment_book
from clinic.models import Location, Service


def upcoming_consultation_to_wait_for(
    *, client: Client, service: Service, start_at: datetime
) -> Appointment | None:
    """The client's booked, not yet assessed consultation that a treatment at ``start_at`` could
    be held for (it ends at least a day before), or None."""
    if not service.requires_consultation:
        return None
    return (
        consultation_pending_for(client=client)
        .filter(start_at__gt=timezone.now(), end_at__lte=start_at - policy.FIRST_TREATMENT_GAP)
        .order_by("-start_at")
        .first()
    )


def appointment_book_online(
    *, client: Client, service: Service, location: Location, hold: Appointment
) -> Appointment:
    """Turn the client's ``hold`` into a booking. A treatment for a client who has a
    consultation booked but not yet had is held pending clearance until that consultation
    (booked automatically when they are cleared), rather than refused and released.

    Raises what ``appointment_book`` raises: HoldExpired, NotEligible, SlotTaken, ….
    """
    return appointment_book(
        client=client,
        service=service,
        location=location,
        start_at=hold.start_at,
        hold=hold,
        channel=Appointment.Channel.ONLINE,
        awaiting_consultation=upcoming_consultation_to_wait_for(
            client=client, service=service, start_at=hold.start_at
        ),
    )
