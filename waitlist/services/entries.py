"""Joining and leaving the waitlist."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from bookings import eligibility
from bookings.models import Client
from clinic import roles
from clinic.errors import NotFound, ValidationFailed
from clinic.models import Location, Practitioner, Service
from clinic.roles import Actor
from waitlist.models import PartOfDay, WaitlistEntry, WaitlistWindow
from waitlist.services.offers import offer_supersede_for_entry

EntryStatus = WaitlistEntry.Status
LIVE_ENTRY_STATUSES = (EntryStatus.WAITING, EntryStatus.OFFERED)
MAX_WINDOWS = 93  # a month of mornings, afternoons and evenings
MAX_LIVE_ENTRIES_PER_CLIENT = 5
MAX_DAYS_AHEAD = 120


def _check_windows(
    windows: Iterable[tuple[date, str]], *, today: date, horizon_days: int
) -> list[tuple[date, str]]:
    chosen = sorted(set(windows))
    if not chosen:
        raise ValidationFailed("Choose at least one date and part of the day.", field="windows")
    if len(chosen) > MAX_WINDOWS:
        raise ValidationFailed(f"Choose at most {MAX_WINDOWS} windows.", field="windows")
    last = today + timedelta(days=min(horizon_days, MAX_DAYS_AHEAD))
    for on, part in chosen:
        if part not in PartOfDay.values:
            raise ValidationFailed(
                f"Part of the day must be one of {', '.join(PartOfDay.values)}.", field="windows"
            )
        if on < today or on > last:
            raise ValidationFailed(
                f"Dates must be from today to {last:%-d %B %Y}.", field="windows"
            )
    return chosen


def waitlist_join(
    *,
    client: Client,
    service: Service,
    location: Location,
    windows: Iterable[tuple[date, str]],
    practitioner: Practitioner | None = None,
    expires_on: date | None = None,
    actor: Actor = None,
    channel: str = WaitlistEntry.Channel.ONLINE,
    now: datetime | None = None,
) -> WaitlistEntry:
    """Put ``client`` on the waitlist for ``service`` at ``location`` on the given (local date,
    part of day) ``windows``, until ``expires_on`` (default: the last window's date).

    A treatment the client is not cleared for is accepted: it is "notify me when I can book",
    and becomes an offer only once they are (offers check eligibility as of the freed time).
    Raises ValidationFailed (field named) for an inactive or staff-only service, a practitioner
    who does not work there, no or bad windows, a past expiry, a client without SMS consent,
    a duplicate entry or too many entries.
    """
    now = now or timezone.now()
    today = now.astimezone(location.zone).date()
    is_staff = roles.is_staff_member(actor)
    if not service.is_active or (not service.is_online_bookable and not is_staff):
        raise ValidationFailed("This service cannot be booked online.", field="service")
    if not location.is_active:
        raise ValidationFailed("This location is not taking bookings.", field="location")
    if practitioner is not None and not practitioner.locations.filter(pk=location.pk).exists():
        raise ValidationFailed("That practitioner does not work here.", field="practitioner")
    chosen = _check_windows(windows, today=today, horizon_days=service.horizon_days)
    expires_on = expires_on or chosen[-1][0]
    if expires_on < today:
        raise ValidationFailed("The waitlist entry must end today or later.", field="expires_on")
    if client.sms_consent_at is None or client.sms_opted_out_at is not None:
        raise ValidationFailed(
            "We offer waitlist times by text: please agree to texts to join.",
            field="sms_consent",
        )
    with transaction.atomic():
        live = WaitlistEntry.objects.select_for_update().filter(
            client=client, status__in=LIVE_ENTRY_STATUSES
        )
        if any(
            entry.service_id == service.pk and entry.location_id == location.pk for entry in live
        ):
            raise ValidationFailed(
                "You are already on the waitlist for this. You can change it from your page.",
                field="service",
            )
        if len(live) >= MAX_LIVE_ENTRIES_PER_CLIENT:
            raise ValidationFailed(
                f"You can be on at most {MAX_LIVE_ENTRIES_PER_CLIENT} waitlists at once.",
                field="service",
            )
        entry = WaitlistEntry.objects.create(
            client=client,
            service=service,
            location=location,
            practitioner=practitioner,
            expires_on=expires_on,
            joined_at=now,
            channel=channel,
            created_by=roles.user_of(actor) if is_staff else None,
        )
        WaitlistWindow.objects.bulk_create(
            WaitlistWindow(entry=entry, on=on, part=part) for on, part in chosen
        )
    return entry


def entry_needs_clearance(*, entry: WaitlistEntry, now: datetime | None = None) -> bool:
    """Whether the client could not book this service yet (a "notify me when I can book"
    entry): the eligibility engine's answer for the entry's first window."""
    first = entry.windows.order_by("on").first()
    moment = now or timezone.now()
    if first is not None:
        moment = max(
            moment, datetime.combine(first.on, datetime.min.time(), tzinfo=entry.location.zone)
        )
    return not eligibility.check(
        client=entry.client, service=entry.service, start_at=moment
    ).allowed


def entry_from_token(token: str) -> WaitlistEntry:
    """The entry a manage token names. Raises NotFound."""
    entry = (
        WaitlistEntry.objects.select_related("client", "service", "location", "practitioner")
        .filter(token=token)
        .first()
    )
    if entry is None:
        raise NotFound("This waitlist link is not valid.")
    return entry


def live_entries_for_client(*, client: Client) -> list[WaitlistEntry]:
    """The client's own live entries (their manage page; the client is proven by the link)."""
    return list(
        WaitlistEntry.objects.filter(client=client, status__in=LIVE_ENTRY_STATUSES)
        .select_related("service", "location")
        .order_by("joined_at")
    )


def waitlist_leave(*, entry: WaitlistEntry, now: datetime | None = None) -> WaitlistEntry:
    """Take the entry off the waitlist (a live offer is withdrawn and goes to the next client).
    Leaving twice is a no-op."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status in LIVE_ENTRY_STATUSES:
            offer_supersede_for_entry(entry=locked, now=now)
            locked.status = EntryStatus.LEFT
            locked.left_at = now
            locked.save(update_fields=["status", "left_at"])
    entry.refresh_from_db()
    return entry


def entries_expire(*, now: datetime | None = None) -> int:
    """Waiting entries whose last date has passed (in UTC terms, a day's grace) expire."""
    now = now or timezone.now()
    return WaitlistEntry.objects.filter(
        status=EntryStatus.WAITING, expires_on__lt=(now - timedelta(days=1)).date()
    ).update(status=EntryStatus.EXPIRED)
