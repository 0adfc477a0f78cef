"""Each crafted input from issue 15 that used to be a server error, now a 4xx or a sane page.

The enumeration in ``tests/test_every_route.py`` throws a battery of such values at every
route; these tests pin down the exact answers for the cases the issue found."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from bookings.services import appointment_book, client_register
from bookings.tokens import manage_token_for

pytestmark = pytest.mark.django_db

TUESDAY_TEN = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def times_url(location, consultation_service, practitioner):
    return reverse("site-times", args=[location.slug, consultation_service.slug])


@pytest.fixture
def booked(location, consultation_service, practitioner, frozen_monday):
    maya = client_register(
        first_name="Maya", last_name="Okafor", phone="07911 123456", sms_consent=True
    )
    return appointment_book(
        client=maya, service=consultation_service, location=location, start_at=TUESDAY_TEN
    )


@pytest.mark.parametrize("param", ["week", "day"])
def test_a_week_or_day_at_the_end_of_time_shows_the_last_bookable_week(
    client, times_url, consultation_service, frozen_monday, param
):
    response = client.get(times_url, {param: "9999-12-31"})

    assert response.status_code == 200
    horizon = date(2026, 3, 2) + timedelta(days=consultation_service.horizon_days)
    assert response.context["week_start"] == horizon


def test_a_week_before_today_shows_this_week(client, times_url, frozen_monday):
    response = client.get(times_url, {"week": "0001-01-01"})

    assert response.status_code == 200
    assert response.context["week_start"].isoformat() == "2026-03-02"


@pytest.mark.parametrize("value", ["²", "10" * 12, "-1", "abc", "1.5"])
def test_a_practitioner_that_is_not_an_id_means_anyone(client, times_url, frozen_monday, value):
    response = client.get(times_url, {"practitioner": value})

    assert response.status_code == 200
    assert response.context["practitioner"] is None


@pytest.mark.parametrize(
    "start", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2026-03-03T10:00²"]
)
def test_holding_a_time_at_the_edge_of_the_calendar_is_refused_kindly(
    client, location, consultation_service, practitioner, frozen_monday, start
):
    response = client.post(
        reverse("site-hold", args=[location.slug, consultation_service.slug]), {"start": start}
    )

    assert response.status_code == 422
    assert "Please choose one of the times shown" in response.content.decode()


def test_the_manage_pages_reschedule_week_at_the_end_of_time_is_clamped(client, booked):
    response = client.get(
        reverse("site-reschedule", args=[manage_token_for(booked)]), {"week": "9999-12-31"}
    )

    assert response.status_code == 200


@pytest.mark.parametrize("start", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"])
def test_the_api_refuses_a_reschedule_to_the_edge_of_the_calendar_naming_start(
    client, booked, start
):
    response = client.post(
        f"/api/v1/bookings/{manage_token_for(booked)}/reschedule",
        {"start": start},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.json()["field"] == "start"


def test_a_huge_json_body_is_413_in_the_one_error_shape(client, settings):
    settings.DEBUG = True
    body = json.dumps({"phone": "+447911123456", "padding": "x" * 3_000_000})

    response = client.post("/api/v1/verifications", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


@pytest.mark.parametrize("value", ["10" * 12, "²", "-5"])
def test_api_ids_out_of_range_are_422_naming_the_field(client, location, value):
    response = client.get("/api/v1/practitioners", {"location": value})

    assert response.status_code == 422
    assert response.json()["field"] == "location"
