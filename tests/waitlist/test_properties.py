"""Property: whatever the waiting clients' clearances, courses, own appointments and SMS
consent, no offer ever goes to a client who could not have booked that time then, and no
client who could have (and may be texted) is passed over for one who joined later.

The oracle is the booking engine itself: at the moment of each offer, ``appointment_book`` of
the offered hold for that client, inside a savepoint that is rolled back. It is not the
matching code's own filter (``entry_refusal``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings import services
from bookings.models import Appointment
from bookings.services.consultations import consultation_record_outcome
from clinic.errors import ApplicationError
from tests import factories
from waitlist.models import FreedTime, WaitlistOffer
from waitlist.services import freed_time_process, waitlist_join

from .conftest import MONDAY, NOW, WEDNESDAY, at

pytestmark = pytest.mark.django_db

client_states = st.fixed_dictionaries(
    {
        # None: never consulted; else days the clearance is valid after Wednesday, and an
        # optional not_before (days after Wednesday).
        "clearance": st.one_of(
            st.none(),
            st.tuples(
                st.integers(min_value=0, max_value=12),
                st.one_of(st.none(), st.integers(min_value=0, max_value=8)),
            ),
        ),
        # days before the freed Monday of an earlier session of the course (None: first one)
        "last_session_days": st.one_of(st.none(), st.integers(min_value=7, max_value=45)),
        "busy_then": st.booleans(),  # a visit of their own with another practitioner then
        "opted_out": st.booleans(),
        "part": st.sampled_from(["morning", "morning", "afternoon"]),
    }
)


def _could_book(offer: WaitlistOffer, client) -> bool:
    savepoint = transaction.savepoint()
    try:
        services.appointment_book(
            client=client,
            service=offer.entry.service,
            location=offer.freed_time.location,
            start_at=offer.freed_time.start_at,
            hold=offer.hold,
        )
        return True
    except ApplicationError:
        return False
    finally:
        transaction.savepoint_rollback(savepoint)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(states=st.lists(client_states, min_size=1, max_size=4))
def test_no_offer_goes_to_a_client_who_could_not_have_booked_that_time(
    states, location, practitioner, practitioner_user, consultation_service, treatment_service
):
    with time_machine.travel(NOW, tick=False):
        savepoint = transaction.savepoint()
        try:
            _check(
                states,
                location=location,
                practitioner=practitioner,
                practitioner_user=practitioner_user,
                consultation_service=consultation_service,
                treatment_service=treatment_service,
            )
        finally:
            transaction.savepoint_rollback(savepoint)


def _colleague(location):
    """A practitioner for one client's own visit: two clients' visits with one practitioner at
    the same time would break the overlap constraint (PostgreSQL's; SQLite has none)."""
    colleague = factories.PractitionerFactory()
    colleague.locations.add(location)
    return colleague


def _check(
    states, *, location, practitioner, practitioner_user, consultation_service, treatment_service
):
    waiting = []
    for index, state in enumerate(states):
        client = factories.ClientFactory()
        if state["clearance"] is not None:
            validity, wait = state["clearance"]
            consultation = services.appointment_book(
                client=client,
                service=consultation_service,
                location=location,
                start_at=at(9 + index, day=WEDNESDAY),
            )
            with time_machine.travel(consultation.start_at, tick=False):
                consultation_record_outcome(
                    consultation=consultation.consultation,
                    actor=practitioner_user,
                    outcome="cleared",
                    services=[treatment_service],
                    screened_in_person=True,
                    valid_until=WEDNESDAY + timedelta(days=validity),
                    not_before=WEDNESDAY + timedelta(days=wait) if wait is not None else None,
                )
        if state["last_session_days"] is not None:
            factories.AppointmentFactory(
                client=client,
                service=treatment_service,
                practitioner=_colleague(location),
                location=location,
                start_at=at(10) - timedelta(days=state["last_session_days"]),
                status=Appointment.Status.COMPLETED,
            )
        if state["busy_then"]:
            factories.AppointmentFactory(
                client=client,
                service=consultation_service,
                practitioner=_colleague(location),
                location=location,
                start_at=at(10, 30),
            )
        client.refresh_from_db()
        waitlist_join(
            client=client,
            service=treatment_service,
            location=location,
            windows=[(MONDAY, state["part"])],
        )
        if state["opted_out"]:  # replied STOP after joining
            client.sms_opted_out_at = timezone.now()
            client.save(update_fields=["sms_opted_out_at"])
        waiting.append((client, state))

    leaver = factories.ClientFactory()
    booked = factories.AppointmentFactory(
        client=leaver,
        service=treatment_service,
        practitioner=practitioner,
        location=location,
        start_at=at(10),
    )
    services.appointment_cancel(appointment=booked, actor_label="client")
    freed = FreedTime.objects.get(source_appointment=booked)

    offered_ids: list[int] = []
    moment = timezone.now()
    for _round in range(4):
        offer = freed_time_process(freed_time_id=freed.pk, now=moment)
        if offer is None:
            break
        # The client offered could have booked it, through the booking engine.
        assert _could_book(offer, offer.client), (offer.client, waiting)
        # Nobody who joined earlier, may be texted and has not been offered it could have.
        for client, state in waiting:
            if client.pk == offer.client_id:
                break
            if client.pk in offered_ids or state["opted_out"] or state["part"] != "morning":
                continue
            assert not _could_book(offer, client), ("passed over", client, state)
        offered_ids.append(offer.client_id)
        moment += timedelta(minutes=16)
    assert len(offered_ids) <= 3
    assert len(set(offered_ids)) == len(offered_ids)
    if not offered_ids:
        # No offer: then nobody in the morning window who may be texted could have booked it.
        hold = services.appointment_hold(
            service=treatment_service,
            location=location,
            start_at=at(10),
            practitioner=practitioner,
            phone_proven=True,
        )
        probe = WaitlistOffer(freed_time=freed, hold=hold)
        probe.entry = waiting[0][0].waitlist_entries.first()
        for client, state in waiting:
            if state["opted_out"] or state["part"] != "morning":
                continue
            assert not _could_book(probe, client), ("nobody offered", client, state)
