"""Who may open what: every staff page and staff API endpoint, per role. Practitioners work on
their own column and clients; reports are for managers; nobody without a role gets in."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

pytestmark = pytest.mark.django_db

RANGE = "start=2026-12-02&end=2026-12-03"
ALL = {"reception": 200, "practitioner": 200, "manager": 200}
NOT_A_COLLEAGUES = {"reception": 200, "practitioner": 403, "manager": 200}
MANAGERS = {"reception": 403, "practitioner": 403, "manager": 200}

# (url template, expected status per role). {own}/{theirs}: Pat's / Cara's appointment;
# {their_client}: the client only Cara has seen.
PAGES = [
    ("/staff/", ALL),
    ("/staff/appointments/{own}/", ALL),
    ("/staff/appointments/{theirs}/", NOT_A_COLLEAGUES),
    ("/staff/appointments/new/", ALL),
    ("/staff/clients/?q=ol", ALL),
    ("/staff/clients/{their_client}/", NOT_A_COLLEAGUES),
    ("/staff/consultations/", ALL),
    ("/staff/consultations/{theirs}/", NOT_A_COLLEAGUES),
    ("/staff/messages/appointment/{theirs}/", NOT_A_COLLEAGUES),
    ("/staff/messages/client/{their_client}/", NOT_A_COLLEAGUES),
    ("/staff/inbox/", ALL),
    ("/staff/outbox/", ALL),
    ("/staff/reports/", MANAGERS),
    ("/staff/reports/csv/", MANAGERS),
    ("/staff/feeds/", ALL),
]
API = [
    (f"/api/v1/staff/appointments?{RANGE}", ALL),
    (f"/api/v1/staff/calendar/blocks?{RANGE}", ALL),
    ("/api/v1/staff/appointments/{own}", ALL),
    ("/api/v1/staff/appointments/{theirs}", NOT_A_COLLEAGUES),
    ("/api/v1/staff/appointments/{theirs}/messages", NOT_A_COLLEAGUES),
    ("/api/v1/staff/clients?q=ol", ALL),
    ("/api/v1/staff/clients/{their_client}", NOT_A_COLLEAGUES),
    ("/api/v1/staff/clients/{their_client}/messages", NOT_A_COLLEAGUES),
]


@pytest.fixture
def urls(consultation, colleagues_consultation):
    return {
        "own": consultation.id,
        "theirs": colleagues_consultation.id,
        "their_client": colleagues_consultation.client_id,
    }


@pytest.fixture
def browsers(reception, practitioner_user, practitioner, manager, stranger):
    signed_in = {}
    for role, user in {
        "reception": reception,
        "practitioner": practitioner_user,
        "manager": manager,
        "stranger": stranger,
    }.items():
        signed_in[role] = HttpClient()
        signed_in[role].force_login(user)
    signed_in["anonymous"] = HttpClient()
    return signed_in


@pytest.mark.parametrize(("template", "expected"), PAGES, ids=[url for url, _ in PAGES])
def test_staff_pages_per_role(browsers, urls, template, expected):
    url = template.format(**urls)
    for role, status in expected.items():
        assert browsers[role].get(url).status_code == status, f"{role} on {url}"
    assert browsers["stranger"].get(url).status_code == 403
    anonymous = browsers["anonymous"].get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/staff/login/")


@pytest.mark.parametrize(("template", "expected"), API, ids=[url for url, _ in API])
def test_staff_api_per_role(browsers, urls, template, expected):
    url = template.format(**urls)
    for role, status in expected.items():
        assert browsers[role].get(url).status_code == status, f"{role} on {url}"
    assert browsers["stranger"].get(url).status_code == 403
    assert browsers["anonymous"].get(url).status_code == 401


@pytest.mark.parametrize(
    "url",
    [
        "/staff/appointments/{theirs}/action/",
        "/staff/appointments/{theirs}/move/",
        "/staff/consultations/{theirs}/",
        "/staff/messages/client/{their_client}/send/",
    ],
)
def test_a_practitioner_cannot_change_a_colleagues_records(browsers, urls, url):
    response = browsers["practitioner"].post(
        url.format(**urls), {"action": "confirm", "start": "2026-12-02T15:00", "body": "hi"}
    )
    assert response.status_code == 403


def test_every_write_refuses_users_without_a_role(browsers, urls):
    stranger = browsers["stranger"]
    for url in [
        f"/staff/appointments/{urls['own']}/action/",
        f"/staff/appointments/{urls['own']}/move/",
        "/staff/appointments/new/",
        f"/staff/messages/client/{urls['their_client']}/send/",
        "/staff/feeds/issue/",
        "/staff/outbox/1/retry/",
        "/staff/inbox/1/handle/",
    ]:
        assert stranger.post(url, {"action": "confirm"}).status_code == 403, url
