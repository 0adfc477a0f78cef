"""Headers, sessions, tokens and logs (issue 14, point 6), and the proxy setting compose passes."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
import yaml
from csp.constants import NONCE
from csp.utils import build_policy
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.test import Client as HttpClient
from django.test import RequestFactory

from bookings.models import ApiToken
from bookings.services.api_tokens import api_token_create
from clinic.gunicorn_conf import TokenScrubbingLogger
from clinic.logging import LogfmtFormatter, scrub_tokens
from clinic.middleware import SIGNED_IN_AT, ContentSecurityPolicyMiddleware
from workspace.views.access import redirect_to_next

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def signed_in(user) -> HttpClient:
    browser = HttpClient()
    browser.force_login(user)
    return browser


# --- content security policy --------------------------------------------------------------


@pytest.mark.django_db
def test_pages_carry_a_csp_that_allows_scripts_only_from_our_own_files(client, location):
    policy = client.get("/book/")["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


def _csp_answer(request, response, **attributes):
    for name, value in attributes.items():
        setattr(response, name, value)
    return ContentSecurityPolicyMiddleware(lambda request: response)(request)


def test_the_policy_header_is_the_one_django_csp_builds_from_the_settings(rf):
    expected = build_policy()

    for _ in range(2):  # built, then given out again
        response = _csp_answer(rf.get("/book/"), HttpResponse())
        assert response["Content-Security-Policy"] == expected
        assert "Content-Security-Policy-Report-Only" not in response


def test_a_changed_policy_setting_is_served_from_the_next_response(rf, settings):
    _csp_answer(rf.get("/book/"), HttpResponse())  # the settings' policy is built

    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {
        "DIRECTIVES": {"script-src": ["'self'"]},
        "EXCLUDE_URL_PREFIXES": ["/static/"],
    }
    response = _csp_answer(rf.get("/book/"), HttpResponse())

    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert response["Content-Security-Policy-Report-Only"] == build_policy(report_only=True)
    excluded = _csp_answer(rf.get("/static/site.css"), HttpResponse())
    assert "Content-Security-Policy-Report-Only" not in excluded


def test_a_view_that_changes_or_sets_the_policy_still_gets_its_own(rf):
    updated = _csp_answer(
        rf.get("/book/"), HttpResponse(), _csp_update={"img-src": ["https://maps.example"]}
    )
    own_header = HttpResponse(headers={"Content-Security-Policy": "default-src 'none'"})

    assert "https://maps.example" in updated["Content-Security-Policy"]
    assert "script-src 'self'" in updated["Content-Security-Policy"]
    assert _csp_answer(rf.get("/"), own_header)["Content-Security-Policy"] == "default-src 'none'"
    assert "Content-Security-Policy" not in _csp_answer(
        rf.get("/"), HttpResponse(), _csp_exempt=True
    )


def test_a_nonce_asked_for_by_the_view_is_in_the_header(rf, settings):
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"script-src": ["'self'", NONCE]}}
    request = rf.get("/book/")
    middleware = ContentSecurityPolicyMiddleware(lambda request: HttpResponse())
    middleware.process_request(request)
    nonce = str(request.csp_nonce)

    response = middleware.process_response(request, HttpResponse())

    assert f"script-src 'self' 'nonce-{nonce}'" in response["Content-Security-Policy"]


def test_no_template_has_an_inline_script_or_event_handler():
    """Under the CSP an inline script or ``onclick=`` would silently stop working."""
    offenders = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append(f"{template.relative_to(ROOT)}: {tag}")
        for handler in re.findall(r"\son[a-z]+\s*=", text):
            offenders.append(f"{template.relative_to(ROOT)}: {handler.strip()}")
    assert offenders == []


# --- caching ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/staff/clients/", "/api/v1/staff/consultations"])
def test_staff_answers_are_never_stored_by_a_cache(reception, location, url):
    response = signed_in(reception).get(url)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_public_pages_and_api_answers_are_not_stored_either(client, location):
    assert client.get("/book/")["Cache-Control"] == "no-store"
    assert client.get("/api/v1/services")["Cache-Control"] == "no-store"


# --- API docs -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_docs_are_for_staff_only_in_production(client, reception, settings):
    settings.API_DOCS_PUBLIC = False

    assert client.get("/api/v1/docs").status_code == 302
    assert client.get("/api/v1/openapi.json").status_code == 302
    page = signed_in(reception).get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


@pytest.mark.django_db
def test_api_docs_are_public_in_development(client, settings):
    settings.API_DOCS_PUBLIC = True

    assert client.get("/api/v1/openapi.json").status_code == 200


# --- staff sessions -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_staff_session_ends_after_thirty_idle_minutes(reception, location, clock):
    browser = signed_in(reception)
    assert browser.get("/staff/clients/").status_code == 200

    clock.shift(timedelta(minutes=29))
    assert browser.get("/staff/clients/").status_code == 200
    clock.shift(timedelta(minutes=31))
    response = browser.get("/staff/clients/")

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/")
    assert browser.get("/api/v1/staff/consultations").status_code == 401


@pytest.mark.django_db
def test_a_visitor_who_never_signed_in_gets_no_staff_session_clock(client, location):
    session = client.session
    session["booking"] = {"hold_id": None}
    session.save()
    client.cookies[django_settings.SESSION_COOKIE_NAME] = session.session_key

    assert client.get("/book/").status_code == 200

    assert SIGNED_IN_AT not in client.session
    assert client.session["booking"] == {"hold_id": None}


@pytest.mark.django_db
def test_a_busy_staff_session_still_ends_twelve_hours_after_sign_in(reception, location, clock):
    browser = signed_in(reception)
    for _ in range(12 * 3):
        assert browser.get("/staff/clients/").status_code == 200
        clock.shift(timedelta(minutes=20))
    clock.shift(timedelta(minutes=1))  # now 12 h 1 min after sign-in, 21 min after the last click

    assert browser.get("/staff/clients/").status_code == 302


# --- API tokens ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_tokens_expire_and_record_their_last_use(reception, location, clock, settings):
    token, raw = api_token_create(user=reception, name="script")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    assert token.expires_at == START + timedelta(days=settings.API_TOKEN_LIFETIME_DAYS)
    assert HttpClient().get("/api/v1/staff/consultations", **bearer).status_code == 200
    assert ApiToken.objects.get().last_used_at == START

    clock.shift(timedelta(days=settings.API_TOKEN_LIFETIME_DAYS, seconds=1))
    assert HttpClient().get("/api/v1/staff/consultations", **bearer).status_code == 401
    assert not ApiToken.objects.get().is_active


# --- login throttling ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_locked_out_username_stays_locked_from_another_address(reception, settings):
    """The probe: during a lockout the right password from another address worked."""
    settings.AXES_FAILURE_LIMIT = 3
    attacker = HttpClient(REMOTE_ADDR="203.0.113.9")
    for _ in range(3):
        attacker.post("/staff/login/", {"username": reception.username, "password": "wrong"})

    elsewhere = HttpClient(REMOTE_ADDR="198.51.100.4")
    response = elsewhere.post(
        "/staff/login/", {"username": reception.username, "password": PASSWORD}
    )

    assert response.status_code == 429
    assert "_auth_user_id" not in elsewhere.session


# --- redirects ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "wanted",
    ["https://evil.example/login", "//evil.example/", "javascript:alert(1)", "https:evil.example"],
)
def test_next_pointing_at_another_site_is_ignored(wanted):
    request = RequestFactory().post("/staff/messages/client/1/send/", {"next": wanted})

    response = redirect_to_next(request, "staff-outbox")

    assert response["Location"] == "/staff/outbox/"


def test_next_on_our_own_site_is_followed():
    request = RequestFactory().post("/x/", {"next": "/staff/clients/7/"})

    assert redirect_to_next(request, "staff-outbox")["Location"] == "/staff/clients/7/"


@pytest.mark.django_db
def test_sending_a_message_does_not_redirect_off_site(reception, client_person, location):
    client_person.sms_consent_at = START
    client_person.save()
    response = signed_in(reception).post(
        f"/staff/messages/client/{client_person.pk}/send/",
        {"body": "Your aftercare cream is ready.", "next": "https://evil.example/"},
    )

    assert response.status_code == 302
    assert "evil.example" not in response["Location"]


# --- logs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "scrubbed"),
    [
        ("GET /b/eyJhIjoxfQ:1t2:abc/ HTTP/1.1", "GET /b/[token]/ HTTP/1.1"),
        ("GET /b/eyJhIjoxfQ:1t2:abc/reschedule/?x=1", "GET /b/[token]/reschedule/?x=1"),
        ("GET /r/abc.def/", "GET /r/[token]/"),
        ("GET /c/abc/", "GET /c/[token]/"),
        ("GET /staff/feeds/ff00.sig.ics", "GET /staff/feeds/[token].ics"),
        ("POST /staff/feeds/issue/", "POST /staff/feeds/issue/"),
        ("GET /api/v1/bookings/abc:def/cancel", "GET /api/v1/bookings/[token]/cancel"),
        ("POST /api/v1/verifications/Zx_9/check", "POST /api/v1/verifications/[token]/check"),
        ("GET /book/", "GET /book/"),
    ],
)
def test_tokens_in_paths_are_scrubbed(line, scrubbed):
    assert scrub_tokens(line) == scrubbed


def test_django_log_lines_leave_out_manage_tokens():
    record = logging.makeLogRecord(
        {"name": "django.request", "levelname": "WARNING", "msg": "Not Found: /b/eyJ:secret/"}
    )

    line = LogfmtFormatter().format(record)

    assert "secret" not in line
    assert "/b/[token]/" in line


def test_gunicorn_access_lines_leave_out_manage_tokens():
    class Config:
        access_log_format = '%(h)s "%(r)s" %(s)s "%(f)s"'
        errorlog = "-"
        loglevel = "info"
        accesslog = None
        syslog = False
        disable_redirect_access_to_syslog = True
        capture_output = False
        logconfig_dict = {}
        logconfig_json = None
        logconfig = None
        user = 0
        group = 0
        umask = 0

    class Response:
        status = "200 OK"
        sent = 10
        headers = ()

    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/b/eyJ:secret/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/b/eyJ:secret/",
        "QUERY_STRING": "",
        "HTTP_REFERER": "https://clinic.example/b/eyJ:secret/",
        "REMOTE_ADDR": "203.0.113.5",
    }
    atoms = TokenScrubbingLogger.atoms(
        TokenScrubbingLogger.__new__(TokenScrubbingLogger),
        Response(),
        [],
        environ,
        timedelta(milliseconds=5),
    )

    assert "secret" not in str(atoms)
    assert atoms["r"] == "GET /b/[token]/ HTTP/1.1"


# --- deployment ---------------------------------------------------------------------------


def test_compose_passes_the_trusted_proxy_count_and_runs_gunicorn_with_the_scrubbing_logger():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    web = compose["services"]["web"]

    assert web["environment"]["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-0}"
    # The web service runs bin/web, which is gunicorn with clinic.gunicorn_conf.
    assert "bin/web" in " ".join(web["command"])
    assert "python:clinic.gunicorn_conf" in (ROOT / "bin" / "web").read_text()
    assert "TRUSTED_PROXY_COUNT" in (ROOT / "README.md").read_text()
