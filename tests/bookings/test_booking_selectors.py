from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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


def _fields(instance) -> dict:
    return {
        field.attname: getattr(instance, field.attname) for field in type(instance)._meta.fields
    }


def test_what_a_booking_names_is_found_in_one_statement_as_each_selector_finds_it(
    treatment_service, location, practitioner
):
    elsewhere = factories.LocationFactory()  # a second location the practitioner doesn't work at
    with CaptureQueriesContext(connection) as queries:
        service, found_location, found_practitioner = selectors.booking_subjects(
            service_id=treatment_service.pk,
            location_id=location.pk,
            practitioner_id=practitioner.pk,
        )
    assert len(queries.captured_queries) == 1
    assert _fields(service) == _fields(selectors.service_for_booking(service_id=service.pk))
    assert _fields(found_location) == _fields(
        selectors.location_for_booking(location_id=location.pk)
    )
    assert _fields(found_practitioner) == _fields(practitioner)
    assert found_location.zone == location.zone
    assert service.price == Decimal("150.00")

    with CaptureQueriesContext(connection) as queries:
        anyone = selectors.booking_subjects(
            service_id=treatment_service.pk, location_id=elsewhere.pk, practitioner_id=None
        )
    assert len(queries.captured_queries) == 1
    assert anyone == (treatment_service, elsewhere, None)


def test_what_a_booking_names_is_refused_with_the_error_of_the_first_thing_missing(
    treatment_service, location, practitioner
):
    elsewhere = factories.LocationFactory()

    def refusal(**ids) -> ValidationFailed:
        asked = {
            "service_id": treatment_service.pk,
            "location_id": location.pk,
            "practitioner_id": practitioner.pk,
            **ids,
        }
        with pytest.raises(ValidationFailed) as caught:
            selectors.booking_subjects(**asked)
        return caught.value

    assert refusal(practitioner_id=practitioner.pk, location_id=elsewhere.pk).field == (
        "practitioner"
    )
    assert refusal(service_id=treatment_service.pk + 1000).field == "service"
    # Both wrong: the service is named, as the API checks it first.
    assert refusal(service_id=treatment_service.pk + 1000, location_id=0).field == "service"
    assert refusal(location_id=location.pk + 1000, practitioner_id=None).field == "location"
    practitioner.is_active = False
    practitioner.save()
    assert refusal().field == "practitioner"
    location.is_active = False
    location.save()
    assert refusal(practitioner_id=None).field == "location"
