"""Reads of the waitlist: staff lists (permission-checked here), a client's offers for the
timeline, and the figures for reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Prefetch, QuerySet, Sum

from bookings import access
from bookings.models import Client
from clinic import roles
from clinic.errors import PermissionDenied
from clinic.models import Location, Service
from clinic.roles import Actor
from waitlist.models import FreedTime, WaitlistEntry, WaitlistOffer

LIVE = (WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED)


def _require_staff(actor: Actor) -> None:
    if not roles.is_staff_member(actor):
        raise PermissionDenied("Only clinic staff can see the waitlist.")
    roles.require_role(actor, *roles.ALL_ROLES)


def waitlist_entries(
    *,
    actor: Actor,
    location: Location | None = None,
    service: Service | None = None,
    on: date | None = None,
    client: Client | None = None,
    live_only: bool = True,
) -> QuerySet[WaitlistEntry]:
    """Entries (live ones by default) for a location, a service, a day or a client, in offer
    order (earliest joined first), of the clients ``actor`` may see (``bookings.access``: a
    practitioner their own clients). Raises PermissionDenied for anyone but staff."""
    _require_staff(actor)
    entries = (
        access.filter_by_client(WaitlistEntry.objects.all(), actor=actor)
        .select_related("client", "service", "location", "practitioner")
        .prefetch_related("windows")
    )
    if live_only:
        entries = entries.filter(status__in=LIVE)
    if location is not None:
        entries = entries.filter(location=location)
    if service is not None:
        entries = entries.filter(service=service)
    if client is not None:
        entries = entries.filter(client=client)
    if on is not None:
        entries = entries.filter(windows__on=on).distinct()
    return entries.order_by("joined_at", "id")


def offers_for_client(*, actor: Actor, client: Client) -> QuerySet[WaitlistOffer]:
    """Every offer made to ``client`` with its outcome, newest first (the client timeline)."""
    _require_staff(actor)
    access.check_client_access(actor=actor, client=client)
    return (
        WaitlistOffer.objects.filter(client=client)
        .select_related("freed_time__location", "freed_time__practitioner", "entry__service")
        .order_by("-offered_at", "-id")
    )


def freed_times_between(
    *, actor: Actor, location: Location, start: datetime, end: datetime
) -> QuerySet[FreedTime]:
    """Freed times starting in ``start``–``end`` at ``location`` with their offers, in time
    order (the staff waitlist page: what was offered to whom and how it ended); offers only to
    clients ``actor`` may see."""
    _require_staff(actor)
    offers = access.filter_by_client(WaitlistOffer.objects.all(), actor=actor).select_related(
        "client", "entry__service", "message"
    )
    return (
        FreedTime.objects.filter(location=location, start_at__gte=start, start_at__lt=end)
        .select_related("practitioner", "claimed_appointment")
        .prefetch_related(Prefetch("offers", queryset=offers.order_by("sequence")))
        .order_by("start_at", "id")
    )


@dataclass(frozen=True)
class WaitlistFigures:
    freed_times: int
    offers: int
    claims: int
    expired: int
    declined: int
    recovered_minor: int


def waitlist_figures(
    *, location: Location | None, start: datetime, end: datetime
) -> WaitlistFigures:
    """Freed times recorded, offers made and claimed, and the price of the bookings made from
    them (minor units), between ``start`` and ``end``."""
    freed = FreedTime.objects.filter(created_at__gte=start, created_at__lt=end)
    offers = WaitlistOffer.objects.filter(offered_at__gte=start, offered_at__lt=end)
    if location is not None:
        freed = freed.filter(location=location)
        offers = offers.filter(freed_time__location=location)
    by_status = {
        status: offers.filter(status=status).count()
        for status in (
            WaitlistOffer.Status.CLAIMED,
            WaitlistOffer.Status.EXPIRED,
            WaitlistOffer.Status.DECLINED,
        )
    }
    recovered = freed.filter(status=FreedTime.Status.CLAIMED).aggregate(
        total=Sum("recovered_minor")
    )["total"]
    return WaitlistFigures(
        freed_times=freed.count(),
        offers=offers.count(),
        claims=by_status[WaitlistOffer.Status.CLAIMED],
        expired=by_status[WaitlistOffer.Status.EXPIRED],
        declined=by_status[WaitlistOffer.Status.DECLINED],
        recovered_minor=recovered or 0,
    )


def day_bounds(*, on: date, location: Location) -> tuple[datetime, datetime]:
    start = datetime.combine(on, datetime.min.time(), tzinfo=location.zone)
    return start, start + timedelta(days=1)
