"""Private iCalendar feeds of a practitioner's appointments, for the calendar app on their phone.

The feed URL carries ``signing.dumps([token_id, secret])``: the signature stops forged or edited
URLs before any lookup, the stored SHA-256 of the secret lets one URL be revoked without
changing ``SECRET_KEY``. The feed leaves out clinical details on purpose — phone calendars sync
to third-party clouds and show on lock screens — so an event says who and when, not why.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from bookings import policy
from bookings.models import Appointment, CalendarFeedToken
from clinic import roles
from clinic.errors import Gone, NotFound, PermissionDenied
from clinic.models import Practitioner
from clinic.roles import Actor

logger = logging.getLogger(__name__)

FEED_SALT = "bookings.calendar-feed"
FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 180


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _require_feed_owner_or_manager(actor: Actor, practitioner: Practitioner):
    if roles.has_role(actor, roles.MANAGER):
        return
    if (
        roles.has_role(actor, roles.PRACTITIONER)
        and practitioner.user_id is not None
        and practitioner.user_id == getattr(actor, "pk", None)
    ):
        return
    raise PermissionDenied("Only the practitioner or a manager can manage this calendar feed")


def calendar_feed_url(*, token: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse("staff-calendar-feed", args=[token])


@transaction.atomic
def calendar_feed_token_issue(*, actor: Actor, practitioner: Practitioner) -> str:
    """Revoke ``practitioner``'s live feed URL (if any) and issue a new one; returns the token
    to put in the URL (shown once, never stored in clear).

    Raises PermissionDenied unless ``actor`` is that practitioner or a manager."""
    _require_feed_owner_or_manager(actor, practitioner)
    now = timezone.now()
    CalendarFeedToken.objects.filter(practitioner=practitioner, revoked_at__isnull=True).update(
        revoked_at=now
    )
    secret = secrets.token_urlsafe(24)
    feed = CalendarFeedToken.objects.create(
        practitioner=practitioner,
        secret_hash=_hash(secret),
        created_by=roles.user_of(actor),
    )
    logger.info(
        "calendar feed issued", extra={"practitioner_id": practitioner.id, "feed_id": feed.id}
    )
    return signing.dumps([feed.id, secret], salt=FEED_SALT, compress=False)


@transaction.atomic
def calendar_feed_token_revoke(*, actor: Actor, practitioner: Practitioner) -> int:
    """Revoke every live feed URL of ``practitioner``; returns how many were revoked.

    Raises PermissionDenied unless ``actor`` is that practitioner or a manager."""
    _require_feed_owner_or_manager(actor, practitioner)
    return CalendarFeedToken.objects.filter(
        practitioner=practitioner, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


def _feed_from_token(token: str) -> CalendarFeedToken:
    try:
        feed_id, secret = signing.loads(token, salt=FEED_SALT)
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise NotFound("No such calendar feed") from error
    feed = CalendarFeedToken.objects.select_related("practitioner").filter(id=feed_id).first()
    if feed is None or not secrets.compare_digest(feed.secret_hash, _hash(str(secret))):
        raise NotFound("No such calendar feed")
    if feed.revoked_at is not None:
        raise Gone("This calendar feed was revoked; ask for a new link")
    return feed


def _event_summary(appointment: Appointment) -> str:
    client = appointment.client
    who = f"{client.first_name} {client.last_name[:1]}.".strip() if client else "Client"
    return f"{who} · {appointment.service.get_kind_display()}"


def calendar_feed_render(*, token: str, now: datetime | None = None) -> bytes:
    """The iCalendar document for the feed ``token``: the practitioner's appointments from 30
    days ago to 180 days ahead, without clinical details.

    Raises NotFound (bad signature or unknown token) and Gone (revoked)."""
    feed = _feed_from_token(token)
    now = now or timezone.now()
    CalendarFeedToken.objects.filter(id=feed.id).update(last_used_at=now)
    appointments = (
        Appointment.objects.filter(
            practitioner=feed.practitioner,
            status__in=policy.BOOKED_OR_DONE_STATUSES,
            start_at__gte=now - timedelta(days=FEED_PAST_DAYS),
            start_at__lt=now + timedelta(days=FEED_FUTURE_DAYS),
        )
        .select_related("client", "service", "room", "location")
        .order_by("start_at")
    )
    calendar = Calendar()
    calendar.add("prodid", "-//Aftercare//Staff calendar feed//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{feed.practitioner.display_name} – clinic appointments")
    for appointment in appointments:
        event = Event()
        event.add("uid", f"appointment-{appointment.id}@aftercare")
        event.add("dtstamp", now)
        event.add("dtstart", appointment.start_at)
        event.add("dtend", appointment.end_at)
        event.add("summary", _event_summary(appointment))
        where = appointment.location.name
        if appointment.room:
            where = f"{appointment.room.name}, {where}"
        event.add("location", where)
        event.add("sequence", appointment.version)
        event.add(
            "status",
            "TENTATIVE"
            if appointment.status == Appointment.Status.PENDING_CLEARANCE
            else "CONFIRMED",
        )
        event.add(
            "description",
            "Details in the staff workspace: "
            + settings.PUBLIC_BASE_URL
            + reverse("staff-appointment", args=[appointment.id]),
        )
        calendar.add_component(event)
    return calendar.to_ical()
