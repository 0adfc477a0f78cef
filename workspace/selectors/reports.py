"""Manager reports on bookings: per service and practitioner per week, no-show rate,
consultation → treatment conversion. Aggregated in the database, one query each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncMonth, TruncWeek

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


def money_by_month(*, actor: Actor, location: Location, period: ReportRange) -> list[dict]:
    """Per month of the period (the location's time): deposits taken, fees charged and refunds
    (minor units, per currency), and the no-show rate of the visits due that month, split by
    whether the visit was booked under deposit terms, so a clinic sees the rate before and
    after it started taking deposits. Raises PermissionDenied (managers)."""
    from payments.models import Payment, PaymentTerms, Refund

    roles.require_role(actor, roles.MANAGER)
    zone = location.zone
    paid = (
        Payment.objects.filter(
            appointment__location=location,
            status=Payment.Status.SUCCEEDED,
            succeeded_at__gte=period.start_at,
            succeeded_at__lt=period.end_at,
        )
        .annotate(month=TruncMonth("succeeded_at", tzinfo=zone))
        .values("month", "currency")
        .annotate(
            deposits=Sum("amount", filter=Q(kind=Payment.Kind.DEPOSIT)),
            fees=Sum("amount", filter=~Q(kind=Payment.Kind.DEPOSIT)),
            count=Count("id"),
        )
    )
    refunds = (
        Refund.objects.filter(
            payment__appointment__location=location,
            status=Refund.Status.SUCCEEDED,
            created_at__gte=period.start_at,
            created_at__lt=period.end_at,
        )
        .annotate(month=TruncMonth("created_at", tzinfo=zone))
        .values("month", "payment__currency")
        .annotate(refunded=Sum("amount"))
    )
    with_terms = PaymentTerms.objects.filter(appointment=OuterRef("pk"))
    visits = (
        Appointment.objects.filter(
            location=location,
            start_at__gte=period.start_at,
            start_at__lt=period.end_at,
            status__in=policy.DUE_STATUSES,
        )
        .annotate(month=TruncMonth("start_at", tzinfo=zone), has_terms=Exists(with_terms))
        .values("month", "has_terms")
        .annotate(
            due=Count("id"), no_shows=Count("id", filter=Q(status=Appointment.Status.NO_SHOW))
        )
    )

    def month_of(value: date | datetime) -> date:
        return (value.date() if isinstance(value, datetime) else value).replace(day=1)

    months: dict[tuple[date, str], dict] = {}

    def row(month: date, currency: str) -> dict:
        return months.setdefault(
            (month, currency),
            {
                "month_on": month,
                "currency": currency,
                "deposits": 0,
                "fees": 0,
                "refunds": 0,
                "due_without_deposit": 0,
                "no_shows_without_deposit": 0,
                "due_with_deposit": 0,
                "no_shows_with_deposit": 0,
            },
        )

    currency = "gbp"
    for line in paid:
        currency = line["currency"]
        entry = row(month_of(line["month"]), line["currency"])
        entry["deposits"] += line["deposits"] or 0
        entry["fees"] += line["fees"] or 0
    for line in refunds:
        row(month_of(line["month"]), line["payment__currency"])["refunds"] += line["refunded"] or 0
    for line in visits:
        entry = row(month_of(line["month"]), currency)
        side = "with_deposit" if line["has_terms"] else "without_deposit"
        entry[f"due_{side}"] += line["due"]
        entry[f"no_shows_{side}"] += line["no_shows"]
    for entry in months.values():
        for side in ("with_deposit", "without_deposit"):
            due = entry[f"due_{side}"]
            entry[f"no_show_rate_{side}"] = entry[f"no_shows_{side}"] / due if due else None
    return [months[key] for key in sorted(months)]


def reconciliation_mismatches(*, actor: Actor) -> list:
    """Open differences between our payment rows and Stripe's (managers)."""
    from payments.models import ReconciliationMismatch

    roles.require_role(actor, roles.MANAGER)
    return list(
        ReconciliationMismatch.objects.filter(resolved_at__isnull=True).order_by("-found_at")[:50]
    )


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
