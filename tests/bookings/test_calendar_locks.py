"""The calendar locks a booking write takes: visits that could collide always share one, and
visits at other times of the same practitioner's day do not (PostgreSQL behaviour is in
test_no_double_booking_postgres)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bookings.models import Appointment
from bookings.services.appointments import _calendar_locks

MONDAY = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _visit(start_minute: int, blocked_minutes: int, *, practitioner=1, room=None, client=None):
    start = MONDAY + timedelta(minutes=start_minute)
    return Appointment(
        practitioner_id=practitioner,
        room_id=room,
        client_id=client,
        blocked_start_at=start,
        blocked_end_at=start + timedelta(minutes=blocked_minutes),
    )


def _shared(first: Appointment, second: Appointment) -> set[str]:
    return set(_calendar_locks(first)) & set(_calendar_locks(second))


@given(
    st.integers(0, 3000),
    st.integers(1, 24 * 60 + 60),
    st.integers(0, 3000),
    st.integers(1, 24 * 60 + 60),
    st.booleans(),
)
def test_overlapping_visits_of_a_practitioner_or_room_always_share_a_lock(
    first_start, first_length, second_start, second_length, same_room_only
):
    practitioners = (1, 2) if same_room_only else (1, 1)
    first = _visit(first_start, first_length, practitioner=practitioners[0], room=7)
    second = _visit(second_start, second_length, practitioner=practitioners[1], room=7)
    overlap = (
        first.blocked_start_at < second.blocked_end_at
        and second.blocked_start_at < first.blocked_end_at
    )
    if overlap:
        assert _shared(first, second)


def test_a_visit_takes_each_hour_its_blocked_time_touches_for_practitioner_and_room():
    # 10:00-11:15 (60 minutes and a 15-minute buffer) touches 10:00 and 11:00.
    visit = _visit(60, 75, practitioner=3, room=4, client=5)
    hour = int((MONDAY + timedelta(hours=1)).timestamp()) // 3600
    assert sorted(_calendar_locks(visit)) == [
        "calendar:client:5",
        f"calendar:practitioner:3:{hour}",
        f"calendar:practitioner:3:{hour + 1}",
        f"calendar:room:4:{hour}",
        f"calendar:room:4:{hour + 1}",
    ]


def test_visits_that_only_touch_or_lie_hours_apart_share_no_lock():
    morning = _visit(0, 60)  # 09:00-10:00: the blocked time ends on the hour
    assert not _shared(morning, _visit(60, 30))  # 10:00-10:30
    assert not _shared(morning, _visit(300, 60))  # 14:00-15:00
    assert _shared(morning, _visit(59, 30))  # 09:59: collides, so it queues
    # Another practitioner in another room never waits for this one.
    assert not _shared(_visit(0, 60, room=1), _visit(0, 60, practitioner=2, room=2))
