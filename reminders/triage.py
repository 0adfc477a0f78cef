"""Reply triage: does a client's text need a person now? (DOMAIN.md, "Reply triage").

The red-flag phrases are data (``RedFlag`` rows, defaults from migration 0007_default_red_flags); this module only
matches them. Triage never depends on what we last sent: a red flag is urgent whatever the
client's last message was, and the softer after-treatment words count within
``RECENT_TREATMENT_WINDOW`` of a treatment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bookings import policy
from bookings.models import Appointment, Client
from clinic.models import Service
from reminders.models import RedFlag

RECENT_TREATMENT_WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class Triage:
    is_urgent: bool
    categories: tuple[str, ...]  # red-flag categories matched, in table order
    treatment: Appointment | None  # the client's most recent treatment, if any


def latest_treatment(*, client: Client, now: datetime) -> Appointment | None:
    """The client's most recent treatment that has started (not cancelled or missed)."""
    return (
        Appointment.objects.filter(
            client=client,
            service__kind=Service.Kind.TREATMENT,
            start_at__lte=now,
            # A treatment that started counts as "had"; one cancelled or missed does not.
            status__in=policy.BOOKED_OR_DONE_STATUSES,
        )
        .select_related("location", "practitioner__user")
        .order_by("-start_at", "-id")
        .first()
    )


def reply_triage(*, client: Client | None, body: str, now: datetime) -> Triage:
    """Match ``body`` against the active red flags and the client's treatment recency."""
    treatment = latest_treatment(client=client, now=now) if client is not None else None
    is_recent = treatment is not None and now - treatment.end_at <= RECENT_TREATMENT_WINDOW
    categories: list[str] = []
    for flag in RedFlag.objects.filter(is_active=True).order_by("id"):
        if flag.needs_recent_treatment and not is_recent:
            continue
        if flag.category in categories:
            continue
        try:
            if re.search(flag.pattern, body, re.IGNORECASE):
                categories.append(flag.category)
        except re.error:
            # A bad pattern saved around the admin's validation must not drop the whole check.
            continue
    return Triage(is_urgent=bool(categories), categories=tuple(categories), treatment=treatment)
