"""The "Today" sheet: one practitioner's (or everyone's) visits for a day at a glance, shaped
for a printed page. Access is the calendar's: a practitioner sees only their own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from bookings.models import Appointment
from bookings.selectors.calendar import appointments_in_range
from bookings.selectors.consultations import health_recheck_states
from clinic.models import Location, Practitioner
from clinic.roles import Actor
from payments.selectors import deposits_owed

# Statuses that still mean someone is expected (or came) today.
EXPECTED = {
    Appointment.Status.PENDING_CLEARANCE,
    Appointment.Status.BOOKED,
    Appointment.Status.CONFIRMED,
    Appointment.Status.ARRIVED,
    Appointment.Status.COMPLETED,
}


@dataclass
class TodayVisit:
    appointment: Appointment
    recheck: str | None
    deposit_due: str  # the deposit still owed, formatted ("£50"), or ""


@dataclass
class TodaySheet:
    day: date
    location: Location
    practitioner: Practitioner | None
    visits: list[TodayVisit] = field(default_factory=list)

    @property
    def pending_clearances(self) -> list[TodayVisit]:
        return [
            visit
            for visit in self.visits
            if visit.appointment.status == Appointment.Status.PENDING_CLEARANCE
        ]

    @property
    def rechecks(self) -> list[TodayVisit]:
        return [visit for visit in self.visits if visit.recheck in {"changed", "unanswered"}]

    @property
    def deposits(self) -> list[TodayVisit]:
        return [visit for visit in self.visits if visit.deposit_due]


def today_sheet(
    *,
    actor: Actor,
    location: Location,
    day: date,
    practitioner: Practitioner | None = None,
) -> TodaySheet:
    """Expected visits at ``location`` on ``day`` (local), optionally for one practitioner,
    with each later session's health re-check state and the deposit its payment policy
    asks and that is not paid or waived yet.

    Raises PermissionDenied like ``appointments_in_range`` (a practitioner asking for a
    colleague)."""
    found = [
        appointment
        for appointment in appointments_in_range(
            actor=actor,
            location=location,
            start_on=day,
            end_on=day + timedelta(days=1),
            practitioner_id=practitioner.id if practitioner else None,
        )
        if appointment.status in EXPECTED
    ]
    rechecks = health_recheck_states(appointments=found)
    owing = deposits_owed(appointments=found)
    return TodaySheet(
        day=day,
        location=location,
        practitioner=practitioner,
        visits=[
            TodayVisit(
                appointment=appointment,
                recheck=rechecks.get(appointment.pk),
                deposit_due=owing.get(appointment.pk, ""),
            )
            for appointment in found
        ],
    )
