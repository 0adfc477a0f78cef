"""Reads behind the public booking API: resolve ids and tokens into bookable things."""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import Model

from bookings import policy
from bookings.models import Appointment
from bookings.tokens import appointment_id_from_manage_token
from clinic.db import column_list, first_row
from clinic.errors import NotFound, ValidationFailed
from clinic.models import Location, Practitioner, Service


# Every booking and availability question resolves its service, location and practitioner
# ids. Built through the ORM each lookup costs ~0.6 ms of CPU to build and compile, about five
# times what running it costs; these fixed statements (the model's own columns, through
# ``raw()`` so values are converted as the ORM would) are built once per process.
@cache
def _active_by_pk_sql(model: type[Model]) -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {column_list(model)} FROM {quote(model._meta.db_table)}"  # noqa: S608 - names
        f" WHERE {quote(model._meta.pk.column)} = %s AND {quote('is_active')} = %s"
    )


@cache
def _active_practitioner_at_sql() -> str:
    quote = connection.ops.quote_name
    table = quote(Practitioner._meta.db_table)
    locations = Practitioner._meta.get_field("locations")
    through = quote(locations.remote_field.through._meta.db_table)  # type: ignore[union-attr]
    return (
        f"SELECT {column_list(Practitioner, table=table)} FROM {table}"  # noqa: S608 - names
        f" INNER JOIN {through}"
        f" ON {through}.{quote(locations.m2m_column_name())} = {table}.{quote('id')}"
        f" WHERE {table}.{quote('id')} = %s AND {table}.{quote('is_active')} = %s"
        f" AND {through}.{quote(locations.m2m_reverse_name())} = %s"
    )


def service_for_booking(*, service_id: int) -> Service:
    """An active service, or ValidationFailed naming the ``service`` field."""
    service = first_row(Service, _active_by_pk_sql(Service), [service_id, True])
    if service is None:
        raise ValidationFailed(f"There is no service with id {service_id}.", field="service")
    return service


def location_for_booking(*, location_id: int) -> Location:
    location = first_row(Location, _active_by_pk_sql(Location), [location_id, True])
    if location is None:
        raise ValidationFailed(f"There is no location with id {location_id}.", field="location")
    return location


def practitioner_for_booking(
    *, practitioner_id: int | None, location: Location
) -> Practitioner | None:
    if practitioner_id is None:
        return None
    practitioner = first_row(
        Practitioner, _active_practitioner_at_sql(), [practitioner_id, True, location.pk]
    )
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
