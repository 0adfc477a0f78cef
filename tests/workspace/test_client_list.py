"""The client list browses everyone a page at a time, with filters, before any search."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bookings.models import Appointment
from tests import factories
from tests.workspace.conftest import at

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    return [client.full_name for client in response.context["clients"]]


def test_the_list_shows_clients_before_any_search_a_page_at_a_time(as_reception, location):
    for index in range(30):
        factories.ClientFactory(first_name="Client", last_name=f"N{index:02d}")

    first = as_reception.get("/staff/clients/")
    second = as_reception.get("/staff/clients/?page=2")

    assert len(names(first)) == 25
    assert names(first)[0] == "Client N00"
    assert names(second) == [f"Client N{index}" for index in range(25, 30)]
    assert "Page 1 of 2 · 30 clients" in first.content.decode()


def test_filters_find_upcoming_pending_opted_out_and_course_clients(
    as_reception, consultation, treatment_service, location, practitioner
):
    upcoming = consultation.client
    pending = factories.ClientFactory(first_name="Pending")
    factories.AppointmentFactory(
        client=pending,
        service=treatment_service,
        practitioner=practitioner,
        location=location,
        start_at=at(14),
        status=Appointment.Status.PENDING_CLEARANCE,
    )
    opted_out = factories.ClientFactory(first_name="Quiet", sms_opted_out_at=timezone.now())
    in_course = factories.ClientFactory(first_name="Course")
    factories.AppointmentFactory(
        client=in_course,
        service=treatment_service,
        practitioner=practitioner,
        location=location,
        start_at=at(9, day=at(9).date().replace(day=1)),
        status=Appointment.Status.COMPLETED,
    )

    assert upcoming.full_name in names(as_reception.get("/staff/clients/?show=upcoming"))
    assert names(as_reception.get("/staff/clients/?show=pending_clearance")) == [pending.full_name]
    assert names(as_reception.get("/staff/clients/?show=opted_out")) == [opted_out.full_name]
    assert names(as_reception.get("/staff/clients/?show=course")) == [in_course.full_name]
    assert in_course.full_name not in names(as_reception.get("/staff/clients/?show=upcoming"))


def test_the_next_visit_is_shown_for_each_client(as_reception, consultation):
    page = as_reception.get("/staff/clients/").content.decode()

    assert "Wed 2 Dec, 10:00" in page
