from __future__ import annotations

from decimal import Decimal

import pytest

from bookings.selectors import booking as selectors
from clinic.errors import ValidationFailed
from tests import factories

pytestmark = pytest.mark.django_db


def test_an_active_service_and_location_are_found_with_every_field_as_the_orm_reads_it(
    treatment_service, location
):
    service = selectors.service_for_booking(service_id=treatment_service.pk)
    assert service == treatment_service
    assert service.price == Decimal("150.00")
    assert service.duration == treatment_service.duration
    found = selectors.location_for_booking(location_id=location.pk)
    assert found == location
    assert found.zone == location.zone
    assert found.online_change_cutoff_hours == location.online_change_cutoff_hours


def test_inactive_or_unknown_services_and_locations_name_their_field(treatment_service, location):
    treatment_service.is_active = False
    treatment_service.save()
    with pytest.raises(ValidationFailed, match="no service") as caught:
        selectors.service_for_booking(service_id=treatment_service.pk)
    assert caught.value.field == "service"
    location.is_active = False
    location.save()
    with pytest.raises(ValidationFailed, match="no location") as caught:
        selectors.location_for_booking(location_id=location.pk)
    assert caught.value.field == "location"
    with pytest.raises(ValidationFailed, match="no location"):
        selectors.location_for_booking(location_id=location.pk + 1000)


def test_a_practitioner_is_found_only_active_and_at_the_location_asked_about(
    practitioner, location
):
    assert selectors.practitioner_for_booking(practitioner_id=None, location=location) is None
    assert (
        selectors.practitioner_for_booking(practitioner_id=practitioner.pk, location=location)
        == practitioner
    )
    elsewhere = factories.LocationFactory()
    with pytest.raises(ValidationFailed, match="no practitioner") as caught:
        selectors.practitioner_for_booking(practitioner_id=practitioner.pk, location=elsewhere)
    assert caught.value.field == "practitioner"
    practitioner.locations.add(elsewhere)
    assert (
        selectors.practitioner_for_booking(practitioner_id=practitioner.pk, location=elsewhere)
        == practitioner
    )
    practitioner.is_active = False
    practitioner.save()
    with pytest.raises(ValidationFailed, match="no practitioner"):
        selectors.practitioner_for_booking(practitioner_id=practitioner.pk, location=location)
