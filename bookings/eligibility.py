"""May this client have this service at this time? One answer for every interface.

``check`` is called by ``appointment_book`` and ``appointment_reschedule`` whatever the channel
(API, booking site, staff workspace, admin), so the rules live only here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bookings import courses, policy
from bookings.models import Client
from bookings.selectors.consultations import clearance_refusal
from clinic.models import Service


@dataclass(frozen=True)
class EligibilityResult:
    allowed: bool
    reason: str | None = None
    message: str = ""
    not_before: date | None = None


ALLOWED = EligibilityResult(allowed=True)


def check(
    *,
    client: Client | None,
    service: Service,
    start_at: datetime,
    exclude_appointment_id: int | None = None,
) -> EligibilityResult:
    """Return whether ``client`` may book ``service`` starting at ``start_at``, and if not why
    (a stable ``reason`` code plus a message a client can read, and ``not_before`` when a later
    date would work).

    Rules, in order: consultations (and services without a consultation or course) are always
    allowed; sessions of a course are ``service.min_interval_days`` apart either side
    (``too_soon_in_course``); a service that requires a consultation needs a ``cleared``
    consultation covering it, valid on the treatment's date and not before its ``not_before``
    (``consultation_required``, ``consultation_pending``, ``not_suitable``,
    ``clearance_expired``, ``not_before``) — see ``clearance_refusal``.
    """
    if service.is_consultation or (
        not service.requires_consultation and service.min_interval_days == 0
    ):
        return ALLOWED
    if client is not None:
        spacing = _course_spacing(
            client=client,
            service=service,
            start_at=start_at,
            exclude_appointment_id=exclude_appointment_id,
        )
        if not spacing.allowed:
            return spacing
    if service.requires_consultation:
        refusal = clearance_refusal(client=client, service=service, start_at=start_at)
        if refusal is not None:
            return EligibilityResult(
                allowed=False,
                reason=refusal.reason,
                message=refusal.message,
                not_before=refusal.not_before,
            )
    return ALLOWED


def _course_spacing(
    *, client: Client, service: Service, start_at: datetime, exclude_appointment_id: int | None
) -> EligibilityResult:
    """Sessions of a course must be at least ``service.min_interval_days`` apart, either side."""
    if service.min_interval_days == 0:
        return ALLOWED
    gap = timedelta(days=service.min_interval_days)
    nearest = (
        courses.sessions_too_close(
            client_id=client.pk,
            service=service,
            start_at=start_at,
            exclude_appointment_id=exclude_appointment_id,
        )
        .order_by("start_at")
        .first()
    )
    if nearest is None:
        return ALLOWED
    earliest = (nearest.start_at + gap).date()
    return EligibilityResult(
        allowed=False,
        reason=policy.EligibilityRefusal.TOO_SOON_IN_COURSE,
        message=(
            f"Sessions need at least {service.min_interval_days} days between them for your skin to "
            f"recover. The next session can be from {earliest:%-d %B %Y}."
        ),
        not_before=earliest,
    )
