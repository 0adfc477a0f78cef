from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import clear_script_prefix, set_script_prefix

from clinic.http import client_ip


def _request(remote="10.0.0.2", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_a_forged_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request(forwarded="1.2.3.4")) == "10.0.0.2"


def test_behind_one_proxy_the_address_it_appended_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client forged "6.6.6.6"; our proxy appended the address it really saw.
    assert client_ip(_request(forwarded="6.6.6.6, 203.0.113.9")) == "203.0.113.9"


def test_behind_two_proxies_the_client_is_two_from_the_right(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request(forwarded="6.6.6.6, 203.0.113.9, 10.0.0.7")) == "203.0.113.9"


def test_a_short_header_falls_back_to_remote_addr(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request(forwarded="203.0.113.9")) == "10.0.0.2"


def test_the_favicon_and_app_icons_are_served(client, db):
    from django.contrib.staticfiles import finders

    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("icons/favicon-32.png")
    for name in ("icon.svg", "favicon-32.png", "apple-touch-icon.png", "site.webmanifest"):
        assert finders.find(f"icons/{name}"), name
    page = client.get("/book/").content.decode()
    assert 'rel="apple-touch-icon"' in page
    assert 'rel="manifest"' in page


@pytest.fixture
def mounted_at():
    """Mount the site under a script prefix, as the WSGI handler does for SCRIPT_NAME (the
    test client leaves the prefix alone)."""

    def mount(script_name: str) -> dict[str, str]:
        set_script_prefix(script_name + "/")
        return {"SCRIPT_NAME": script_name} if script_name else {}

    yield mount
    clear_script_prefix()


@pytest.mark.parametrize("script_names", [["", "/clinic"], ["/clinic", ""]])
def test_api_requests_are_told_apart_under_any_script_prefix(client, db, mounted_at, script_names):
    """request_guard and the 404 page answer the API in its own error shape, wherever the
    site is mounted (the API's address is looked up once per prefix)."""
    for script_name in script_names:
        _assert_api_requests_told_apart(client, mounted_at(script_name))


def _assert_api_requests_told_apart(client, extra: dict[str, str]) -> None:

    api = client.get("/api/v1/availability", {"service": "1\x00"}, **extra)
    page = client.get("/book/", {"location": "1\x00"}, **extra)
    missing = client.get("/api/v1/no-such-thing", **extra)

    assert api.status_code == 400
    assert api.json()["error"] == "bad_request"
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")
    assert missing.status_code == 404
    assert missing.json()["error"] == "not_found"
