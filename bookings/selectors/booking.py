"""Reads behind the public booking API: resolve ids and tokens into bookable things."""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import Model

from bookings import policy
from bookings.models import Appointment
from bookings.tokens import appointment_id_from_manage_token
from clinic.db import column_list, first_row, joined_first_row
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


@cache
def _booking_subjects_sql(with_practitioner: bool) -> str:
    quote = connection.ops.quote_name
    service, location = quote(Service._meta.db_table), quote(Location._meta.db_table)
    practitioner = quote(Practitioner._meta.db_table)
    locations = Practitioner._meta.get_field("locations")
    through = quote(locations.remote_field.through._meta.db_table)  # type: ignore[union-attr]
    active, pk = quote("is_active"), quote("id")
    columns = [column_list(Service, table=service), column_list(Location, table=location)]
    joins = [f" INNER JOIN {location} ON {location}.{pk} = %s AND {location}.{active} = %s"]
    if with_practitioner:
        columns.append(column_list(Practitioner, table=practitioner))
        joins.append(
            f" LEFT JOIN {practitioner} ON {practitioner}.{pk} = %s"  # noqa: S608 - names
            f" AND {practitioner}.{active} = %s AND EXISTS (SELECT 1 FROM {through}"
            f" WHERE {through}.{quote(locations.m2m_column_name())} = {practitioner}.{pk}"
            f" AND {through}.{quote(locations.m2m_reverse_name())} = {location}.{pk})"
        )
    return (
        f"SELECT {', '.join(columns)} FROM {service}{''.join(joins)}"  # noqa: S608 - names
        f" WHERE {service}.{pk} = %s AND {service}.{active} = %s"
    )


def booking_subjects(
    *, service_id: int, location_id: int, practitioner_id: int | None
) -> tuple[Service, Location, Practitioner | None]:
    """What a booking or availability question names, as ``service_for_booking``,
    ``location_for_booking`` and ``practitioner_for_booking`` resolve them (and with their
    errors), in one round trip when all are found: every booking and availability question
    asks for all three."""
    with_practitioner = practitioner_id is not None
    params: list[object] = [location_id, True]
    if with_practitioner:
        params += [practitioner_id, True]
    found = joined_first_row(
        (Service, Location, Practitioner) if with_practitioner else (Service, Location),
        _booking_subjects_sql(with_practitioner),
        [*params, service_id, True],
    )
    if found is None or (with_practitioner and found[2] is None):
        # Something is missing: ask for each, in the order the API names them, for its error.
        service = service_for_booking(service_id=service_id)
        location = location_for_booking(location_id=location_id)
        return (
            service,
            location,
            practitioner_for_booking(practitioner_id=practitioner_id, location=location),
        )
    if with_practitioner:
        return found[0], found[1], found[2]
    return found[0], found[1], None


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
