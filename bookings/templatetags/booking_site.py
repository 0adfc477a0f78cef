"""Template helpers of the booking site."""

from __future__ import annotations

from django import template

from bookings import checkout
from clinic.models import Location, Service

register = template.Library()


@register.simple_tag
def price_notes(service: Service, location: Location) -> list[str]:
    """What the apps that know add beside the price (the deposit, from payments)."""
    return checkout.price_notes(service=service, location=location)
