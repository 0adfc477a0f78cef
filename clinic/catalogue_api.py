"""Read-only catalogue endpoints: what the clinic offers, where, and by whom."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from clinic import pricing, selectors
from clinic.parsing import Id

router = Router(tags=["catalogue"])


class ServiceOut(Schema):
    id: int
    slug: str
    name: str
    kind: str
    summary: str
    duration_minutes: int
    price: Decimal
    deposit: Decimal = Field(
        ...,
        description="The deposit taken online (pounds) under the service's payment policy at"
        " every location; 0 when none. A location may have its own policy.",
    )
    requires_consultation: bool
    course_size: int
    min_interval_days: int


class LocationOut(Schema):
    id: int
    slug: str
    name: str
    address: str
    timezone: str
    phone: str


class PractitionerOut(Schema):
    id: int
    display_name: str
    title: str
    service_ids: list[int]


@router.get("/services", response=list[ServiceOut])
def list_services(request: HttpRequest) -> list:
    return [
        ServiceOut(
            id=service.id,
            slug=service.slug,
            name=service.name,
            kind=service.kind,
            summary=service.summary,
            duration_minutes=service.duration_minutes,
            price=service.price,
            deposit=pricing.catalogue_deposit(service),
            requires_consultation=service.requires_consultation,
            course_size=service.course_size,
            min_interval_days=service.min_interval_days,
        )
        for service in selectors.services_bookable_online()
    ]


@router.get("/locations", response=list[LocationOut])
def list_locations(request: HttpRequest) -> list:
    return list(selectors.locations_active())


@router.get("/practitioners", response=list[PractitionerOut])
def list_practitioners(request: HttpRequest, location: Id | None = None) -> list:
    return [
        PractitionerOut(
            id=practitioner.id,
            display_name=practitioner.display_name,
            title=practitioner.title,
            service_ids=[service.id for service in practitioner.services.all()],
        )
        for practitioner in selectors.practitioners_active(location_id=location)
    ]
