"""The waitlist's limits and ranking, one rule per test (services called directly)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from bookings import services
from bookings.models import Appointment
from bookings.services.consultations import consultation_record_outcome
from reminders.models import Message
from tests import factories
from waitlist.errors import OfferTaken
from waitlist.models import FreedTime, WaitlistEntry, WaitlistOffer, WaitlistSettings
from waitlist.services import (
    freed_time_process,
    freed_time_record,
    offer_decline,
    offers_sweep,
    waitlist_leave,
)
from waitlist.tokens import offer_token_for

from .conftest import LONDON, MONDAY, NOW, WEDNESDAY, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def cancel(django_capture_on_commit_callbacks):
    def run(appointment: Appointment) -> FreedTime:
        with django_capture_on_commit_callbacks(execute=False):
            services.appointment_cancel(appointment=appointment, actor_label="client")
        return FreedTime.objects.get(source_appointment=appointment)

    return run


def test_a_consultation_waitlist_needs_no_clearance(
    clock, join, location, consultation_service, practitioner, cancel
):
    newcomer = factories.ClientFactory()
    join(newcomer, service=consultation_service)
    booked = services.appointment_book(
        client=factories.ClientFactory(),
        service=consultation_service,
        location=location,
        start_at=at(10),
    )
    offer = freed_time_process(freed_time_id=cancel(booked).pk)
    assert offer is not None
    assert offer.client == newcomer


def test_an_uncleared_entry_waits_and_is_offered_once_the_client_is_cleared(
    clock,
    join,
    location,
    practitioner,
    practitioner_user,
    consultation_service,
    treatment_service,
    booked_treatment,
    cancel,
):
    waiting = factories.ClientFactory()
    join(waiting, windows=[(MONDAY, "morning"), (MONDAY + timedelta(days=1), "morning")])
    assert freed_time_process(freed_time_id=cancel(booked_treatment(at(10))).pk) is None

    consultation = services.appointment_book(
        client=waiting,
        service=consultation_service,
        location=location,
        start_at=at(15, day=WEDNESDAY),
    )
    with time_machine.travel(consultation.start_at, tick=False):
        consultation_record_outcome(
            consultation=consultation.consultation,
            actor=practitioner_user,
            outcome="cleared",
            services=[treatment_service],
            screened_in_person=True,
        )
    tuesday_ten = at(10, day=MONDAY + timedelta(days=1))
    offer = freed_time_process(freed_time_id=cancel(booked_treatment(tuesday_ten)).pk)
    assert offer is not None
    assert offer.client == waiting


def test_a_client_too_soon_in_their_course_is_passed_over(
    clock, join, cleared_client, booked_treatment, treatment_service, practitioner, location, cancel
):
    recent = cleared_client(first_name="Rae")
    factories.AppointmentFactory(
        client=recent,
        service=treatment_service,
        practitioner=practitioner,
        location=location,
        start_at=at(10) - timedelta(days=14),
        status=Appointment.Status.COMPLETED,
    )
    join(recent)
    due = cleared_client(first_name="Dot")
    join(due)
    offer = freed_time_process(freed_time_id=cancel(booked_treatment()).pk)
    assert offer.client == due


def test_the_location_may_rank_clients_whose_course_is_under_way_first(
    clock, join, cleared_client, booked_treatment, treatment_service, practitioner, location, cancel
):
    WaitlistSettings.objects.create(location=location, course_sessions_first=True)
    newcomer = cleared_client(first_name="New")
    join(newcomer)
    returning = cleared_client(first_name="Ret")
    factories.AppointmentFactory(
        client=returning,
        service=treatment_service,
        practitioner=practitioner,
        location=location,
        start_at=at(10) - timedelta(days=35),
        status=Appointment.Status.COMPLETED,
    )
    join(returning)
    offer = freed_time_process(freed_time_id=cancel(booked_treatment()).pk)
    assert offer.client == returning


def test_a_client_who_opted_out_or_is_busy_then_is_passed_over(
    clock, join, cleared_client, booked_treatment, location, consultation_service, cancel
):
    stopped = cleared_client(first_name="Sto")
    join(stopped)
    stopped.sms_opted_out_at = timezone.now()
    stopped.save()
    busy = cleared_client(first_name="Bus")
    join(busy)
    colleague = factories.PractitionerFactory()
    factories.AppointmentFactory(
        client=busy,
        service=consultation_service,
        practitioner=colleague,
        location=location,
        start_at=at(10, 30),
    )
    free = cleared_client(first_name="Fre")
    join(free)
    offer = freed_time_process(freed_time_id=cancel(booked_treatment()).pk)
    assert offer.client == free


def test_one_live_offer_per_client_and_at_most_three_per_freed_time(
    clock, join, cleared_client, booked_treatment, location, cancel
):
    people = [cleared_client(first_name=name) for name in ("Aa", "Bb", "Cc", "Dd")]
    for person in people:
        join(person, windows=[(MONDAY, "morning"), (MONDAY, "afternoon")])
    freed = cancel(booked_treatment(at(10)))
    first = freed_time_process(freed_time_id=freed.pk)
    # Another freed time while Aa's offer is live: Aa is skipped there.
    other = cancel(booked_treatment(at(14)))
    assert freed_time_process(freed_time_id=other.pk).client == people[1]

    moment = timezone.now()
    offered = [first.client]
    for _ in range(4):
        moment += timedelta(minutes=16)
        offer = freed_time_process(freed_time_id=freed.pk, now=moment)
        if offer is not None:
            offered.append(offer.client)
    assert len(offered) == 3
    freed.refresh_from_db()
    assert freed.status == FreedTime.Status.EXHAUSTED
    assert freed.hold is None
    assert not Appointment.objects.filter(status="held", start_at=at(10)).exists()


def test_no_offer_within_the_notice_period_before_the_start(
    clock, join, cleared_client, booked_treatment, location, cancel
):
    join(cleared_client(first_name="Late"))
    appointment = booked_treatment(at(10))
    freed = cancel(appointment)
    assert freed_time_process(freed_time_id=freed.pk, now=at(8, 30)) is None
    freed.refresh_from_db()
    assert freed.status == FreedTime.Status.TOO_LATE


def test_in_quiet_hours_the_offer_waits_for_the_morning(
    clock, join, cleared_client, booked_treatment, location, cancel
):
    join(cleared_client(first_name="Owl"))
    freed = cancel(booked_treatment(at(10)))
    late_evening = datetime.combine(MONDAY - timedelta(days=2), time(22), tzinfo=LONDON)
    assert freed_time_process(freed_time_id=freed.pk, now=late_evening) is None
    freed.refresh_from_db()
    assert freed.status == FreedTime.Status.OPEN
    assert freed.next_attempt_at == datetime.combine(
        MONDAY - timedelta(days=1), time(8), tzinfo=LONDON
    )
    assert offers_sweep(now=late_evening + timedelta(hours=1)) == 0
    offers_sweep(now=freed.next_attempt_at)
    assert WaitlistOffer.objects.filter(freed_time=freed).count() == 1


def test_the_daily_offer_limit_of_a_location_defers_to_the_next_day(
    clock, join, cleared_client, booked_treatment, location, cancel
):
    WaitlistSettings.objects.create(location=location, max_offers_per_day=1)
    join(cleared_client(first_name="One"), windows=[(MONDAY, "morning"), (MONDAY, "afternoon")])
    join(cleared_client(first_name="Two"), windows=[(MONDAY, "morning"), (MONDAY, "afternoon")])
    assert freed_time_process(freed_time_id=cancel(booked_treatment(at(10))).pk) is not None
    second = cancel(booked_treatment(at(14)))
    assert freed_time_process(freed_time_id=second.pk) is None
    second.refresh_from_db()
    assert second.status == FreedTime.Status.OPEN
    assert second.next_attempt_at == datetime.combine(
        NOW.date() + timedelta(days=1), time(8), tzinfo=LONDON
    )


def test_the_same_cancellation_announced_twice_is_one_freed_time(
    clock, booked_treatment, practitioner, location
):
    appointment = booked_treatment()
    for _ in range(2):
        freed_time_record(
            location=location,
            practitioner=practitioner,
            start_at=appointment.start_at,
            source=FreedTime.Source.CANCELLED,
            source_key=f"appointment:{appointment.pk}:cancelled",
        )
    assert FreedTime.objects.count() == 1


def test_a_moved_appointment_frees_its_old_time(
    clock, cleared_client, join, booked_treatment, django_capture_on_commit_callbacks, reception
):
    waiting = cleared_client(first_name="Wai")
    join(waiting)
    appointment = booked_treatment(at(10))
    with django_capture_on_commit_callbacks(execute=False):
        services.appointment_reschedule(appointment=appointment, start_at=at(15), actor=reception)
    freed = FreedTime.objects.get(source=FreedTime.Source.RESCHEDULED)
    assert freed.start_at == at(10)
    assert freed_time_process(freed_time_id=freed.pk).client == waiting


def test_declining_moves_the_offer_on_and_leaving_withdraws_it(
    clock, join, cleared_client, booked_treatment, cancel
):
    first, second, third = (cleared_client(first_name=name) for name in ("De", "Le", "Ta"))
    for person in (first, second, third):
        join(person)
    freed = cancel(booked_treatment())
    offer = freed_time_process(freed_time_id=freed.pk)
    offer_decline(token=offer_token_for(offer.pk))
    with pytest.raises(OfferTaken):
        offer_decline(token=offer_token_for(offer.pk))
    assert WaitlistEntry.objects.get(client=first).status == WaitlistEntry.Status.WAITING
    second_offer = freed_time_process(freed_time_id=freed.pk)
    assert second_offer.client == second

    waitlist_leave(entry=second_offer.entry)
    second_offer.refresh_from_db()
    assert second_offer.status == WaitlistOffer.Status.SUPERSEDED
    assert freed_time_process(freed_time_id=freed.pk).client == third


def test_an_offer_text_names_no_treatment_and_counts_towards_the_daily_cap(
    clock, join, cleared_client, booked_treatment, cancel
):
    capped = cleared_client(first_name="Cap")
    join(capped)
    for hour in (8, 9):
        Message.objects.create(
            client=capped,
            category="pre_care",
            to=capped.phone,
            body="Avoid the sun",
            due_at=timezone.now(),
            status=Message.Status.SENT,
            last_attempt_at=timezone.now() - timedelta(minutes=hour),
        )
    other = cleared_client(first_name="Unc")
    join(other)
    offer = freed_time_process(freed_time_id=cancel(booked_treatment()).pk)
    assert offer.client == other
    assert offer.message.category == "waitlist_offer"
    assert "Micro" not in offer.message.body


def test_new_working_hours_are_offered_to_those_waiting_then(
    clock, join, location, practitioner, consultation_service, django_capture_on_commit_callbacks
):
    join(factories.ClientFactory(), service=consultation_service, windows=[(MONDAY, "evening")])
    with django_capture_on_commit_callbacks(execute=False):
        # Monday evenings from now on: 17:00-18:30 (the admin or the settings pages save it).
        factories.WorkingHoursFactory(
            practitioner=practitioner,
            location=location,
            weekday=0,
            start_time=time(17),
            end_time=time(18, 30),
        )
    recorded = FreedTime.objects.filter(source=FreedTime.Source.HOURS_ADDED).order_by("start_at")
    # Only the evening starts of the Monday someone waits for (not the next Monday's too).
    assert [freed.start_at for freed in recorded] == [
        at(17),
        at(17, 15),
        at(17, 30),
        at(17, 45),
        at(18),
        at(18, 15),
    ]
    offer = freed_time_process(freed_time_id=recorded[0].pk)
    assert offer is not None
    assert offer.freed_time.start_at == at(17)
