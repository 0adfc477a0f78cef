"""Reads behind the public booking API: resolve ids and tokens into bookable things."""

from __future__ import annotations

from bookings import policy
from bookings.models import Appointment
from bookings.tokens import appointment_id_from_manage_token
from clinic.errors import NotFound, ValidationFailed
from clinic.models import Location, Practitioner, Service


def service_for_booking(*, service_id: int) -> Service:
    """An active service, or ValidationFailed naming the ``service`` field."""
    service = Service.objects.filter(pk=service_id, is_active=True).first()
    if service is None:
        raise ValidationFailed(f"There is no service with id {service_id}.", field="service")
    return service


def location_for_booking(*, location_id: int) -> Location:
    location = Location.objects.filter(pk=location_id, is_active=True).first()
    if location is None:
        raise ValidationFailed(f"There is no location with id {location_id}.", field="location")
    return location


def practitioner_for_booking(
    *, practitioner_id: int | None, location: Location
) -> Practitioner | None:
    if practitioner_id is None:
        return None
    practitioner = Practitioner.objects.filter(
        pk=practitioner_id, is_active=True, locations=location
    ).first()
    if practitioner is None:
        raise ValidationFailed(
            f"There is no practitioner with id {practitioner_id} at this location.",
            field="practitioner",
        )
    return practitioner


def appointment_from_manage_token(*, token: str) -> Appointment:
    """The appointment a manage token names. Raises NotFound (bad token) or Gone (expired)."""
    appointment_id = appointment_id_from_manage_token(token)
    appointment = (
        Appointment.objects.select_related("service", "location", "practitioner", "client", "room")
        .filter(pk=appointment_id)
        .exclude(status=Appointment.Status.HELD)
        .first()
    )
    if appointment is None:
        raise NotFound("This link is not valid. Please use the link from your latest message.")
    return appointment


def appointment_can_change_online(*, appointment: Appointment) -> bool:
    """Whether the client may still reschedule or cancel online (the location's cutoff)."""
    return policy.decide(appointment=appointment, action=policy.Action.CHANGE_ONLINE).allowed
