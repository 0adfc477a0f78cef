"""Settings changes that make time bookable (hours widened, time off or a closure removed)
offer that time to those waiting, once committed; narrowing hours offers nothing."""

from __future__ import annotations

from datetime import date, time

import pytest

from bookings.services.clinic_settings import (
    HoursRange,
    time_off_add,
    time_off_remove,
    working_hours_set,
)
from tests import factories
from waitlist.models import FreedTime
from waitlist.services import freed_time_process

from .conftest import LONDON, MONDAY, at

pytestmark = pytest.mark.django_db

TUESDAY = date(2026, 12, 8)


def _weekdays(tuesday: tuple[time, time]) -> list[HoursRange]:
    return [
        HoursRange(weekday, *(tuesday if weekday == 1 else (time(9), time(17))))
        for weekday in range(5)
    ]


@pytest.fixture
def set_hours(manager, practitioner, location, django_capture_on_commit_callbacks):
    def run(tuesday: tuple[time, time]) -> None:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            working_hours_set(
                actor=manager,
                practitioner=practitioner,
                location=location,
                ranges=_weekdays(tuesday),
                valid_from=None,
                valid_until=None,
                replacing=(None, None),
            )
        for callback in callbacks:  # the commit: the waitlist records what opened
            callback()

    return run


def _freed() -> list:
    return [
        freed.start_at.astimezone(LONDON)
        for freed in FreedTime.objects.filter(source=FreedTime.Source.HOURS_ADDED).order_by(
            "start_at"
        )
    ]


def test_widening_tuesday_hours_offers_the_new_time_to_a_waiting_cleared_client(
    clock, join, cleared_client, set_hours
):
    waiting = cleared_client()
    join(waiting, windows=[(TUESDAY, "evening")])

    set_hours(tuesday=(time(9), time(19)))

    # Only the new evening (17:00-19:00), not the old hours nor later Tuesdays (nobody waits).
    assert _freed() == [
        at(hour, minute, day=TUESDAY) for hour in (17, 18) for minute in (0, 15, 30, 45)
    ]
    offer = freed_time_process(freed_time_id=FreedTime.objects.order_by("start_at").first().pk)
    assert offer is not None
    assert offer.client == waiting
    assert offer.freed_time.start_at == at(17, day=TUESDAY)


def test_narrowing_hours_offers_nothing(clock, join, cleared_client, set_hours):
    join(cleared_client(), windows=[(TUESDAY, "morning"), (TUESDAY, "afternoon")])

    set_hours(tuesday=(time(10), time(15)))

    assert not FreedTime.objects.exists()


def test_removing_a_closure_offers_its_time_to_a_waiting_cleared_client(
    clock,
    join,
    cleared_client,
    manager,
    location,
    practitioner,
    django_capture_on_commit_callbacks,
):
    closure = time_off_add(
        actor=manager,
        location=location,
        practitioner=None,
        start_at="2026-12-07T00:00",
        end_at="2026-12-08T00:00",
        reason="Staff training",
    )
    waiting = cleared_client()
    join(waiting, windows=[(MONDAY, "morning")])
    assert not FreedTime.objects.exists()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        time_off_remove(actor=manager, block=closure, location=location)
    for callback in callbacks:
        callback()

    # The Monday morning of the practitioner's hours (09:00-12:00) that the closure covered.
    assert _freed() == [at(hour, minute) for hour in (9, 10, 11) for minute in (0, 15, 30, 45)]
    offer = freed_time_process(freed_time_id=FreedTime.objects.order_by("start_at").first().pk)
    assert offer is not None
    assert offer.client == waiting
    assert offer.freed_time.practitioner == practitioner


def test_removing_someone_elses_time_off_frees_only_their_hours(
    clock, join, cleared_client, manager, location, practitioner, django_capture_on_commit_callbacks
):
    other = factories.PractitionerFactory(display_name="Other")
    other.locations.add(location)
    block = time_off_add(
        actor=manager,
        location=location,
        practitioner=other,
        start_at="2026-12-07T09:00",
        end_at="2026-12-07T12:00",
        reason="Leave",
    )
    join(cleared_client(), windows=[(MONDAY, "morning")])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        time_off_remove(actor=manager, block=block, location=location)
    for callback in callbacks:
        callback()

    # The other practitioner has no working hours: nothing opened.
    assert not FreedTime.objects.exists()
