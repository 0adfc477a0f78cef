"""The printable Today sheet: a practitioner's visits for the day, what to check for each."""

from __future__ import annotations

import pytest

from bookings import services
from payments.models import PaymentPolicy
from tests.workspace.conftest import WEDNESDAY, at

pytestmark = pytest.mark.django_db


def test_the_sheet_lists_the_days_visits_with_deposits_and_pending_clearances(
    as_reception, consultation, treatment_service, location, practitioner, colleague
):
    PaymentPolicy.objects.create(service=treatment_service, deposit_amount=5000)
    held = services.appointment_book(
        client=consultation.client,
        service=treatment_service,
        location=location,
        start_at=at(11, day=WEDNESDAY.replace(day=3)),
        practitioner=practitioner,
        awaiting_consultation=consultation,
    )
    # The tentative treatment is on Thursday (a day after); Wednesday has the consultation.
    wednesday = as_reception.get(
        f"/staff/today/?practitioner={practitioner.id}&date={WEDNESDAY.isoformat()}"
    )
    thursday = as_reception.get(
        f"/staff/today/?practitioner={practitioner.id}&date=2026-12-03"
    ).content.decode()

    page = wednesday.content.decode()
    assert wednesday.status_code == 200
    assert "Wednesday 2 December 2026 · Pat Lee" in page
    assert consultation.client.full_name in page
    assert "10:00–10:30" in page
    assert held.client.full_name in thursday
    assert "Waiting for clearance" in thursday
    assert "Deposit £50" in thursday


def test_a_practitioner_sees_only_their_own_sheet(
    as_practitioner, practitioner, colleague, colleagues_consultation
):
    page = as_practitioner.get(
        f"/staff/today/?practitioner={colleague.id}&date={WEDNESDAY.isoformat()}"
    ).content.decode()

    assert "Pat Lee" in page
    assert colleagues_consultation.client.full_name not in page
