"""Property: whatever happens — consultations booked, assessed (any outcome, any validity,
waits), treatments booked plainly, tentatively or with (attempted) overrides, cancelled,
rescheduled, tentative holds released — no treatment is ever ``booked``/``confirmed`` without a
clearance valid at its start, unless a manager's override is recorded on it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings import services
from bookings.models import Appointment, AppointmentEvent, Consultation
from bookings.services.consultations import (
    consultation_record_outcome,
    tentative_holds_release_due,
)
from clinic.errors import ApplicationError
from tests import factories
from tests.consultations.conftest import LONDON, NOW

pytestmark = pytest.mark.django_db

FIRST_DAY = date(2026, 12, 2)
WEEKDAYS = [
    day
    for day in (FIRST_DAY + timedelta(days=offset) for offset in range(110))
    if day.weekday() < 5
]

days = st.integers(min_value=0, max_value=len(WEEKDAYS) - 1)
hours = st.integers(min_value=9, max_value=15)
picks = st.integers(min_value=0, max_value=50)
clients = st.integers(min_value=0, max_value=1)

steps = st.one_of(
    st.tuples(st.just("consult"), clients, days, hours),
    st.tuples(
        st.just("outcome"),
        picks,
        st.sampled_from(["cleared", "cleared", "not_suitable", "needs_review"]),
        st.integers(min_value=0, max_value=120),
        st.one_of(st.none(), st.integers(min_value=0, max_value=90)),
    ),
    st.tuples(
        st.just("treat"),
        clients,
        days,
        hours,
        st.sampled_from(["plain", "tentative", "manager_override", "practitioner_override"]),
    ),
    st.tuples(st.just("cancel"), picks),
    st.tuples(st.just("reschedule"), picks, days, hours, st.booleans()),
    st.tuples(st.just("confirm"), picks),
    st.tuples(st.just("release"), days),
)


def start(day_index: int, hour: int) -> datetime:
    return datetime.combine(WEEKDAYS[day_index], time(hour), tzinfo=LONDON)


def has_valid_clearance(treatment: Appointment) -> bool:
    # Written independently of bookings.eligibility on purpose: this is the rule as the issue
    # states it, not the code under test.
    start_on = treatment.start_at.astimezone(LONDON).date()
    return (
        Consultation.objects.filter(
            client_id=treatment.client_id,
            outcome="cleared",
            services_cleared=treatment.service,
            valid_until__gte=start_on,
        )
        .exclude(not_before__gt=start_on)
        .exists()
    )


def has_audited_override(treatment: Appointment) -> bool:
    return (
        bool(treatment.override_reason.strip())
        and treatment.override_by is not None
        and treatment.override_by.groups.filter(name="manager").exists()
        and AppointmentEvent.objects.filter(appointment=treatment, kind="override").exists()
    )


def assert_no_treatment_without_clearance() -> None:
    for treatment in Appointment.objects.filter(
        service__kind="treatment", status__in=["booked", "confirmed"]
    ).select_related("override_by"):
        assert has_valid_clearance(treatment) or has_audited_override(treatment), treatment


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=st.lists(steps, min_size=1, max_size=14))
def test_no_booked_treatment_without_clearance_or_audited_override(
    history,
    location,
    practitioner,
    consultation_service,
    treatment_service,
    practitioner_user,
    manager,
):
    savepoint = transaction.savepoint()
    try:
        people = [factories.ClientFactory(), factories.ClientFactory()]
        consultations: list[Appointment] = []
        appointments: list[Appointment] = []
        for step in history:
            kind = step[0]
            try:
                if kind == "consult":
                    _, who, day, hour = step
                    booked = services.appointment_book(
                        client=people[who],
                        service=consultation_service,
                        location=location,
                        start_at=start(day, hour),
                    )
                    consultations.append(booked)
                    appointments.append(booked)
                elif kind == "outcome" and consultations:
                    _, pick, outcome, validity, wait = step
                    chosen = consultations[pick % len(consultations)]
                    consultation_record_outcome(
                        consultation=Consultation.objects.get(appointment=chosen),
                        actor=practitioner_user,
                        outcome=outcome,
                        services=[treatment_service] if outcome == "cleared" else [],
                        valid_until=NOW.date() + timedelta(days=validity),
                        not_before=NOW.date() + timedelta(days=wait) if wait is not None else None,
                    )
                elif kind == "treat":
                    _, who, day, hour, mode = step
                    extra = {}
                    if mode == "tentative" and consultations:
                        extra["awaiting_consultation"] = consultations[-1]
                    elif mode.endswith("override"):
                        extra["actor"] = (
                            manager if mode == "manager_override" else practitioner_user
                        )
                        extra["override_reason"] = "Cleared at our sister clinic"
                        extra["channel"] = "staff"
                    appointments.append(
                        services.appointment_book(
                            client=people[who],
                            service=treatment_service,
                            location=location,
                            start_at=start(day, hour),
                            **extra,
                        )
                    )
                elif kind == "cancel" and appointments:
                    chosen = appointments[step[1] % len(appointments)]
                    services.appointment_cancel(
                        appointment=chosen, actor=manager, reason="Client called"
                    )
                elif kind == "reschedule" and appointments:
                    _, pick, day, hour, override = step
                    chosen = appointments[pick % len(appointments)]
                    services.appointment_reschedule(
                        appointment=chosen,
                        start_at=start(day, hour),
                        actor=manager,
                        override_reason="Manager decision" if override else "",
                    )
                elif kind == "confirm" and appointments:
                    chosen = appointments[step[1] % len(appointments)]
                    services.appointment_confirm(appointment=chosen, actor_label="client")
                elif kind == "release":
                    tentative_holds_release_due(now=start(step[1], 9))
            except ApplicationError:
                pass
            assert_no_treatment_without_clearance()
    finally:
        transaction.savepoint_rollback(savepoint)
