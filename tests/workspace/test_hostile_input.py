"""The staff pages' crafted inputs from issue 15 that used to be server errors."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["²", "99999999999999999999", "-1", "abc"])
def test_an_unknown_location_shows_the_first_one(as_reception, practitioner, location, value):
    response = as_reception.get("/staff/", {"location": value})

    assert response.status_code == 200
    assert response.context["location"] == location


@pytest.mark.parametrize("value", ["abc", "²", "1" * 25])
def test_the_booking_form_ignores_a_practitioner_that_is_no_id(as_reception, practitioner, value):
    response = as_reception.get("/staff/appointments/new/", {"practitioner": value, "room": value})

    assert response.status_code == 200
    assert response.context["chosen_practitioner"] is None


@pytest.mark.parametrize(("start", "end"), [("9999-12-31", "9999-12-31"), ("0001-01-01", "")])
def test_the_outbox_at_the_edge_of_the_calendar_shows_an_empty_range(
    as_manager, location, start, end
):
    response = as_manager.get("/staff/outbox/", {"start": start, "end": end})

    assert response.status_code == 200


def test_the_outbox_takes_from_and_to(as_manager, location):
    response = as_manager.get("/staff/outbox/", {"from": "2026-11-01", "to": "2026-11-30"})

    assert response.status_code == 200
    assert response.context["start_on"].isoformat() == "2026-11-01"
    assert response.context["end_on"].isoformat() == "2026-11-30"


def test_a_four_thousand_word_search_is_cut_to_a_few_words(as_reception, location, client_person):
    response = as_reception.get("/staff/clients/", {"q": " ".join(["Maya"] * 4000)})

    assert response.status_code == 200


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "2026-12-03T10"])
def test_a_posted_next_outside_the_site_goes_to_the_outbox(as_manager, location, next_url):
    response = as_manager.post("/staff/outbox/999999/retry/", {"next": next_url})

    assert response.status_code == 404


@pytest.mark.parametrize("value", ["\x00", "Maya\x00"])
def test_nul_characters_are_refused_before_any_view(as_reception, location, value):
    response = as_reception.get("/staff/clients/", {"q": value})

    assert response.status_code == 400
