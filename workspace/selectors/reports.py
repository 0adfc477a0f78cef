"""Manager reports on bookings: per service and practitioner per week, no-show rate,
consultation → treatment conversion. Aggregated in the database, one query each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncWeek

from bookings import policy
from bookings.models import Appointment
from clinic import roles
from clinic.errors import ValidationFailed
from clinic.models import Location, Service
from clinic.roles import Actor
from waitlist.selectors import waitlist_figures

MAX_REPORT_DAYS = 366


@dataclass(frozen=True)
class ReportRange:
    start_on: date
    end_on: date  # exclusive
    start_at: datetime
    end_at: datetime


def report_range(*, location: Location, start_on: date, end_on: date) -> ReportRange:
    """Raises ValidationFailed for a backwards or over-long range."""
    if end_on <= start_on:
        raise ValidationFailed("The range ends before it starts", field="to")
    if (end_on - start_on).days > MAX_REPORT_DAYS:
        raise ValidationFailed(f"Ask for at most {MAX_REPORT_DAYS} days", field="to")
    zone = location.zone
    return ReportRange(
        start_on,
        end_on,
        datetime.combine(start_on, time.min, tzinfo=zone),
        datetime.combine(end_on, time.min, tzinfo=zone),
    )


def bookings_per_week(*, actor: Actor, location: Location, period: ReportRange) -> list[dict]:
    """Rows ``{week_on, service, practitioner, bookings}`` for appointments (not cancelled, not
    held) starting in the period, weeks starting Monday. Raises PermissionDenied (managers)."""
    roles.require_role(actor, roles.MANAGER)
    rows = (
        Appointment.objects.filter(
            location=location,
            start_at__gte=period.start_at,
            start_at__lt=period.end_at,
            status__in=policy.BOOKED_EVER_STATUSES,
        )
        .annotate(week=TruncWeek("start_at", tzinfo=location.zone))
        .values("week", "service__name", "practitioner__display_name")
        .annotate(bookings=Count("id"))
        .order_by("week", "service__name", "practitioner__display_name")
    )
    return [
        {
            "week_on": row["week"].date() if isinstance(row["week"], datetime) else row["week"],
            "service": row["service__name"],
            "practitioner": row["practitioner__display_name"],
            "bookings": row["bookings"],
        }
        for row in rows
    ]


def no_show_rate(*, actor: Actor, location: Location, period: ReportRange) -> dict:
    """Of the visits that were due (arrived, completed or no-show), how many were no-shows."""
    roles.require_role(actor, roles.MANAGER)
    counts = Appointment.objects.filter(
        location=location, start_at__gte=period.start_at, start_at__lt=period.end_at
    ).aggregate(
        due=Count(
            "id",
            filter=Q(status__in=policy.DUE_STATUSES),
        ),
        no_shows=Count("id", filter=Q(status=Appointment.Status.NO_SHOW)),
    )
    due, missed = counts["due"], counts["no_shows"]
    return {"due": due, "no_shows": missed, "rate": (missed / due) if due else None}


def consultation_conversion(*, actor: Actor, location: Location, period: ReportRange) -> dict:
    """Of the consultations completed in the period, how many clients went on to book a
    treatment (any time after the consultation started)."""
    roles.require_role(actor, roles.MANAGER)
    later_treatment = Appointment.objects.filter(
        client=OuterRef("client"),
        service__kind=Service.Kind.TREATMENT,
        start_at__gt=OuterRef("start_at"),
        status__in=policy.BOOKED_EVER_STATUSES,
    )
    consultations = Appointment.objects.filter(
        location=location,
        service__kind=Service.Kind.CONSULTATION,
        status=Appointment.Status.COMPLETED,
        start_at__gte=period.start_at,
        start_at__lt=period.end_at,
    ).annotate(converted=Exists(later_treatment))
    total = consultations.count()
    converted = consultations.filter(converted=True).count()
    return {
        "consultations": total,
        "converted": converted,
        "rate": (converted / total) if total else None,
    }


def weeks_in(period: ReportRange) -> list[date]:
    first = period.start_on - timedelta(days=period.start_on.weekday())
    weeks = []
    while first < period.end_on:
        weeks.append(first)
        first += timedelta(days=7)
    return weeks


def waitlist_recovery(*, actor: Actor, location: Location, period: ReportRange) -> dict:
    """Freed times, waitlist offers and claims in the period, and the revenue recovered (the
    price of the bookings made from claimed offers, minor units)."""
    roles.require_role(actor, roles.MANAGER)
    figures = waitlist_figures(location=location, start=period.start_at, end=period.end_at)
    return {
        "freed_times": figures.freed_times,
        "offers": figures.offers,
        "claims": figures.claims,
        "expired": figures.expired,
        "declined": figures.declined,
        "recovered_minor": figures.recovered_minor,
        "claim_rate": figures.claims / figures.offers if figures.offers else None,
    }
