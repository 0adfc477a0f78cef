"""Reads for the client booking site: what can be booked online, where, and with whom."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from bookings.models import Appointment, PhoneVerification
from clinic.models import Location, Practitioner, Service


def locations_bookable_online() -> QuerySet[Location]:
    return Location.objects.filter(
        is_active=True,
        practitioners__is_active=True,
        practitioners__services__is_active=True,
        practitioners__services__is_online_bookable=True,
    ).distinct()


def services_bookable_online(*, location: Location) -> QuerySet[Service]:
    """Services some active practitioner at ``location`` performs, consultations first."""
    return (
        Service.objects.filter(
            is_active=True,
            is_online_bookable=True,
            practitioners__is_active=True,
            practitioners__locations=location,
        )
        .distinct()
        .order_by("kind", "display_order", "name")  # consultations first: they come first
    )


def practitioners_for(*, service: Service, location: Location) -> QuerySet[Practitioner]:
    return Practitioner.objects.filter(
        is_active=True, services=service, locations=location
    ).distinct()


def consultation_for(*, treatment: Service, location: Location) -> Service | None:
    """The online-bookable consultation that clears a client for ``treatment`` here."""
    return (
        services_bookable_online(location=location)
        .filter(kind=Service.Kind.CONSULTATION)
        .order_by("display_order", "name")
        .first()
    )


def appointment_for_client_link(*, appointment_id: int) -> Appointment | None:
    return (
        Appointment.objects.select_related(
            "service", "location", "practitioner", "client", "awaiting_consultation"
        )
        .filter(pk=appointment_id)
        .exclude(status=Appointment.Status.HELD)
        .first()
    )


def tentative_treatments_for(*, consultation: Appointment) -> QuerySet[Appointment]:
    return consultation.tentative_treatments.filter(
        status=Appointment.Status.PENDING_CLEARANCE
    ).select_related("service")


def verification_open(
    *, phone: str, handle: str | None = None, requester: str = ""
) -> PhoneVerification | None:
    """A code sent to ``phone`` that can still be typed (unused, unexpired, not replaced, tries
    left): the one with ``handle`` when given, else the newest one this browser (``requester``)
    asked for.

    A second tap on "Continue" races the first: its session does not know the first's handle
    yet, but the code went to the same phone for the same browser, so the client can type it."""
    candidates = PhoneVerification.objects.filter(
        phone=phone,
        verified_at__isnull=True,
        superseded_at__isnull=True,
        expires_at__gt=timezone.now(),
        attempts__lt=PhoneVerification.MAX_ATTEMPTS,
    )
    if handle:
        return candidates.filter(handle=handle).first()
    if not requester:
        return None
    return candidates.filter(requester=requester).order_by("-created_at").first()
