from __future__ import annotations

from django.db.models import QuerySet

from clinic.models import Location, Practitioner, Service


def services_bookable_online() -> QuerySet[Service]:
    return Service.objects.filter(is_active=True, is_online_bookable=True)


def locations_active() -> QuerySet[Location]:
    return Location.objects.filter(is_active=True)


def location_default() -> Location | None:
    """The clinic's default location (the first active one, by id): what a page, text or
    reply uses when nothing names a location. None before a location is set up."""
    return locations_active().order_by("id").first()


def practitioners_active(*, location_id: int | None = None) -> QuerySet[Practitioner]:
    practitioners = Practitioner.objects.filter(is_active=True).prefetch_related("services")
    if location_id is not None:
        practitioners = practitioners.filter(locations__id=location_id)
    return practitioners.distinct()
