"""The door to the workspace: login, logout, lockout, and who may open which page."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def test_login_page_renders_a_csrf_protected_form(client):
    response = client.get("/staff/login/")
    assert response.status_code == 200
    assert b"Staff sign in" in response.content
    assert b"csrfmiddlewaretoken" in response.content


def test_reception_signs_in_and_lands_on_the_calendar(client, reception, location):
    response = client.post("/staff/login/", {"username": reception.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_wrong_password_shows_an_error_and_no_session(client, reception):
    response = client.post("/staff/login/", {"username": reception.username, "password": "nope"})
    assert response.status_code == 200
    assert b"correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_repeated_failed_logins_lock_the_account_out(client, reception, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/staff/login/", {"username": reception.username, "password": "wrong"})
    # Even the right password is refused while locked out.
    response = client.post("/staff/login/", {"username": reception.username, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(as_reception, location):
    response = as_reception.post("/staff/logout/")
    assert response.status_code == 302
    assert as_reception.get("/staff/").status_code == 302


def test_anonymous_visitors_are_sent_to_the_login_page(client, location):
    response = client.get("/staff/clients/")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/?next=/staff/clients/")


@pytest.mark.parametrize(
    "url",
    ["/staff/", "/staff/clients/", "/staff/consultations/", "/staff/appointments/new/"],
)
def test_signed_in_users_without_a_staff_role_get_403(as_stranger, location, url):
    assert as_stranger.get(url).status_code == 403


@pytest.mark.parametrize("who", ["as_reception", "as_practitioner", "as_manager"])
def test_every_role_can_open_the_calendar(request, who, location, practitioner):
    browser = request.getfixturevalue(who)
    response = browser.get(reverse("staff-calendar"))
    assert response.status_code == 200
    assert b"event-calendar.min.js" in response.content


def test_a_practitioner_gets_only_their_own_column(as_practitioner, practitioner, colleague):
    response = as_practitioner.get("/staff/")
    config = response.context["calendar_config"]
    assert [resource["id"] for resource in config["resources"]] == [f"p{practitioner.id}"]


def test_reception_gets_every_practitioners_column(as_reception, practitioner, colleague):
    config = as_reception.get("/staff/").context["calendar_config"]
    assert {resource["id"] for resource in config["resources"]} == {
        f"p{practitioner.id}",
        f"p{colleague.id}",
    }


def test_the_rooms_view_has_one_column_per_room(as_reception, practitioner, room):
    config = as_reception.get("/staff/?by=room").context["calendar_config"]
    assert config["resources"] == [{"id": f"r{room.id}", "title": room.name}]
    assert config["by"] == "room"


def test_a_single_column_calendar_names_its_practitioner_in_the_heading(
    as_practitioner, as_reception, practitioner, colleague
):
    own = as_practitioner.get("/staff/?view=week").content.decode()
    assert '<span class="muted">· Pat Lee</span></h1>' in own
    shared = as_reception.get("/staff/?view=week").content.decode()
    assert '<span class="muted">·' not in shared
