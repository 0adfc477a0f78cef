"""bookings.policy: why an action is refused, as a reason code, and the error it becomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from bookings import policy
from bookings.models import Appointment
from bookings.services import appointment_cancel, appointment_mark_arrived
from clinic.errors import IllegalTransition, PolicyViolation
from tests import factories

pytestmark = pytest.mark.django_db

START = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
Refusal = policy.Refusal


@pytest.fixture
def booked(location):
    return factories.AppointmentFactory(location=location, start_at=START)


def decide(appointment, action, **actor):
    return policy.decide(appointment=appointment, action=action, **actor)


@time_machine.travel(START - timedelta(hours=2), tick=False)
def test_arrival_opens_an_hour_before_the_start_and_says_so(booked, reception):
    decision = decide(booked, policy.Action.ARRIVE, actor=reception)

    assert decision.refusal == Refusal.TOO_EARLY_TO_ARRIVE
    with pytest.raises(IllegalTransition) as refused:
        appointment_mark_arrived(appointment=booked, actor=reception)
    assert refused.value.extra["reason"] == Refusal.TOO_EARLY_TO_ARRIVE


@time_machine.travel(START - timedelta(hours=2), tick=False)
def test_a_client_past_the_cutoff_is_told_to_call_while_staff_may_still_cancel(booked, reception):
    client_decision = decide(booked, policy.Action.CANCEL, actor_label="client")

    assert client_decision.refusal == Refusal.ONLINE_CHANGES_CLOSED
    assert "020 7123 4567" in client_decision.message  # national format
    assert decide(booked, policy.Action.CANCEL, actor=reception).allowed
    assert not decide(booked, policy.Action.CHANGE_ONLINE, actor=reception).allowed
    with pytest.raises(PolicyViolation):
        appointment_cancel(appointment=booked, actor_label="client")


def test_clients_cannot_mark_themselves_arrived(booked):
    assert decide(booked, policy.Action.ARRIVE, actor_label="client").refusal == (
        Refusal.CLIENTS_CANNOT
    )


def test_a_practitioner_may_act_only_in_their_own_column(booked, practitioner_user, stranger):
    assert decide(booked, policy.Action.CANCEL, actor=practitioner_user).refusal == (
        Refusal.NOT_THEIR_APPOINTMENT
    )
    assert decide(booked, policy.Action.CANCEL, actor=stranger).refusal == Refusal.NOT_STAFF


def test_finished_visits_allow_nothing(location, manager):
    for status in (Appointment.Status.COMPLETED, Appointment.Status.CANCELLED):
        done = factories.AppointmentFactory(location=location, start_at=START, status=status)
        assert policy.allowed_actions(appointment=done, actor=manager) == []
