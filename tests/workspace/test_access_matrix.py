"""The permission matrix, generated from the URL configuration: every staff page and every staff
API operation × anonymous, reception, practitioner (own client), practitioner (a colleague's
client), manager. A route added without a line in ``EXPECTED`` fails
``test_every_staff_route_has_a_declared_expectation``.

The rule under test is ``bookings.access``: practitioners see their own clients (anyone with an
appointment with them); reception and managers see everyone; health data needs a clinical role.
"Allowed" means the request was not refused for who asked (any answer but 401/403, a login
redirect or a server error); "denied" means 403.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.urls import URLResolver, get_resolver

from bookings.services.consultations import consultation_open_for_appointment
from clinic.api import api
from clinic.models import TimeOff
from records.models import TreatmentRecord
from reminders.models import InboundMessage, Message, ReminderRule
from tests import factories
from tests.workspace.conftest import at

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "reception", "practitioner_own", "practitioner_other", "manager")

# What each kind of route allows, per actor ("login": sent to sign in / 401).
ANY_STAFF = {
    "anonymous": "login",
    "reception": "allowed",
    "practitioner_own": "allowed",
    "practitioner_other": "allowed",
    "manager": "allowed",
}
CLIENT_RECORD = {**ANY_STAFF, "practitioner_other": "denied"}
CLINICAL_RECORD = {**CLIENT_RECORD, "reception": "denied"}
MANAGERS = {
    **ANY_STAFF,
    "reception": "denied",
    "practitioner_own": "denied",
    "practitioner_other": "denied",
}
# Desk work on client records (merging duplicates): reception and managers.
DESK = {**ANY_STAFF, "practitioner_own": "denied", "practitioner_other": "denied"}
# Money at the desk: reception and managers; a practitioner is refused even for their own client.
DESK_CLIENT = {**DESK, "practitioner_other": "denied"}
# The feed is fetched by phones with no session: the token in the path is the credential.
TOKEN_IN_PATH = dict.fromkeys(ACTORS, "not_found")
# Signing in and out, and the old calendar address that redirects: open to everyone.
OPEN = dict.fromkeys(ACTORS, "any")
# A photo link: staff sign in, then the signed token is the check (a made-up one is 404).
PHOTO_LINK = {**dict.fromkeys(ACTORS, "not_found"), "anonymous": "login"}

WHEN = "2026-12-02T15:00:00+00:00"
RANGE = "?start=2026-12-02&end=2026-12-03"

# route (as in the URL configuration) -> (method, query or body, expectation)
EXPECTED: dict[tuple[str, str], tuple[object, dict[str, str]]] = {
    # pages
    ("GET", "staff/login/"): (None, OPEN),
    ("POST", "staff/logout/"): (None, OPEN),
    ("GET", "staff/"): (None, ANY_STAFF),
    ("GET", "staff/calendar/"): (None, OPEN),
    ("GET", "staff/appointments/new/"): (None, ANY_STAFF),
    ("POST", "staff/appointments/new/"): ({"start": "2026-12-02T15:00"}, CLIENT_RECORD),
    ("GET", "staff/appointments/<int:appointment_id>/"): (None, CLIENT_RECORD),
    ("POST", "staff/appointments/<int:appointment_id>/action/"): (
        {"action": "confirm"},
        CLIENT_RECORD,
    ),
    # payments: reception and managers take deposits and charge fees; managers refund and waive
    ("POST", "staff/appointments/<int:appointment_id>/payments/link/"): ({}, DESK_CLIENT),
    ("POST", "staff/appointments/<int:appointment_id>/payments/fee/"): ({}, DESK_CLIENT),
    ("POST", "staff/appointments/<int:appointment_id>/payments/refund/"): (
        {"payment": "1", "amount": "5", "reason": "Goodwill"},
        MANAGERS,
    ),
    ("POST", "staff/appointments/<int:appointment_id>/payments/waive/"): (
        {"reason": "Bereavement"},
        MANAGERS,
    ),
    ("POST", "staff/appointments/<int:appointment_id>/move/"): (
        {"start": "2026-12-02T15:00"},
        CLIENT_RECORD,
    ),
    ("GET", "staff/clients/"): ("?q=ol", ANY_STAFF),
    ("GET", "staff/clients/pick/"): ("?q=ol", ANY_STAFF),
    ("GET", "staff/clients/<int:client_id>/"): (None, CLIENT_RECORD),
    ("GET", "staff/clients/<int:client_id>/edit/"): (None, CLIENT_RECORD),
    ("POST", "staff/clients/<int:client_id>/edit/"): ({"first_name": "Olive"}, CLIENT_RECORD),
    ("GET", "staff/clients/<int:client_id>/merge/"): (None, DESK),
    ("POST", "staff/clients/<int:client_id>/merge/"): ({"reason": "x"}, DESK),
    ("GET", "staff/today/"): (None, ANY_STAFF),
    ("GET", "staff/settings/"): (None, MANAGERS),
    ("GET", "staff/settings/locations/"): (None, MANAGERS),
    ("GET", "staff/settings/locations/new/"): (None, MANAGERS),
    ("POST", "staff/settings/locations/new/"): ({"name": "Annex"}, MANAGERS),
    ("GET", "staff/settings/locations/<int:location_id>/"): (None, MANAGERS),
    ("POST", "staff/settings/locations/<int:location_id>/"): ({"name": "Renamed"}, MANAGERS),
    ("GET", "staff/settings/closures/"): (None, MANAGERS),
    ("POST", "staff/settings/closures/"): ({"start_at": "2026-12-25T00:00"}, MANAGERS),
    ("GET", "staff/settings/practitioners/"): (None, MANAGERS),
    ("GET", "staff/settings/practitioners/<int:practitioner_id>/"): (None, MANAGERS),
    ("GET", "staff/settings/practitioners/<int:practitioner_id>/hours/"): (None, MANAGERS),
    ("POST", "staff/settings/practitioners/<int:practitioner_id>/hours/"): (
        {"d0_0_start": "09:00"},
        MANAGERS,
    ),
    ("POST", "staff/settings/practitioners/<int:practitioner_id>/time-off/"): (
        {"start_at": "2026-12-25T00:00"},
        MANAGERS,
    ),
    ("POST", "staff/settings/time-off/<int:time_off_id>/remove/"): ({}, MANAGERS),
    ("GET", "staff/settings/services/"): (None, MANAGERS),
    ("GET", "staff/settings/services/new/"): (None, MANAGERS),
    ("POST", "staff/settings/services/new/"): ({"name": "New"}, MANAGERS),
    ("GET", "staff/settings/services/<int:service_id>/"): (None, MANAGERS),
    ("POST", "staff/settings/services/<int:service_id>/"): ({"name": "Renamed"}, MANAGERS),
    ("POST", "staff/settings/services/<int:service_id>/archive/"): ({}, MANAGERS),
    ("GET", "staff/waitlist/"): (None, ANY_STAFF),
    # Adds the world's client: a practitioner only their own clients.
    ("POST", "staff/waitlist/"): ({"part": "morning"}, CLIENT_RECORD),
    ("GET", "staff/settings/reminders/"): (None, MANAGERS),
    ("GET", "staff/settings/reminders/<int:rule_id>/"): (None, MANAGERS),
    ("POST", "staff/settings/reminders/<int:rule_id>/"): ({"template": "Hi"}, MANAGERS),
    ("POST", "staff/settings/reminders/preview/"): ({"template": "Hi"}, MANAGERS),
    ("GET", "staff/clients/<int:client_id>/data/"): (None, MANAGERS),
    ("POST", "staff/clients/<int:client_id>/data/"): (
        {"action": "export_json", "reason": "Client asked by email"},
        MANAGERS,
    ),
    ("GET", "staff/consultations/"): (None, ANY_STAFF),
    ("GET", "staff/consultations/<int:appointment_id>/"): (None, CLIENT_RECORD),
    ("POST", "staff/consultations/<int:appointment_id>/"): (
        {"outcome": "needs_review"},
        CLINICAL_RECORD,
    ),
    ("POST", "staff/consultations/<int:appointment_id>/consent/"): ({}, CLINICAL_RECORD),
    ("GET", "staff/feeds/"): (None, ANY_STAFF),
    ("POST", "staff/feeds/issue/"): ({}, ANY_STAFF),
    ("POST", "staff/feeds/revoke/"): ({}, ANY_STAFF),
    ("GET", "staff/feeds/<str:token>.ics"): (None, TOKEN_IN_PATH),
    ("GET", "staff/messages/appointment/<int:appointment_id>/"): (None, CLIENT_RECORD),
    ("GET", "staff/messages/client/<int:client_id>/"): (None, CLIENT_RECORD),
    ("POST", "staff/messages/client/<int:client_id>/send/"): ({"body": "Hello"}, CLIENT_RECORD),
    ("GET", "staff/inbox/"): (None, ANY_STAFF),
    ("POST", "staff/inbox/<int:inbound_id>/handle/"): ({}, CLIENT_RECORD),
    ("GET", "staff/outbox/"): (None, ANY_STAFF),
    ("POST", "staff/outbox/<int:message_id>/retry/"): ({}, CLIENT_RECORD),
    ("GET", "staff/reports/"): (None, MANAGERS),
    ("GET", "staff/reports/csv/"): (None, MANAGERS),
    # treatment records, photos, courses and recalls (the appointment is a treatment session)
    ("GET", "staff/appointments/<int:appointment_id>/record/"): (None, CLINICAL_RECORD),
    ("POST", "staff/appointments/<int:appointment_id>/record/"): (
        {"intent": "save", "notes": "x"},
        CLINICAL_RECORD,
    ),
    ("POST", "staff/appointments/<int:appointment_id>/record/photos/"): (
        {"stage": "before", "angle": "front"},
        CLINICAL_RECORD,
    ),
    ("GET", "staff/photos/<str:token>/"): (None, PHOTO_LINK),
    ("POST", "staff/clients/<int:client_id>/photo-consent/"): ({}, CLIENT_RECORD),
    ("GET", "staff/clients/<int:client_id>/courses/<int:service_id>/"): (None, CLINICAL_RECORD),
    ("GET", "staff/recalls/"): (None, MANAGERS),
    ("POST", "staff/recalls/"): ({"reason": "x"}, MANAGERS),
    ("GET", "staff/recalls/<int:recall_id>/"): (None, MANAGERS),
    ("POST", "staff/recalls/<int:recall_id>/send/"): ({}, MANAGERS),
    ("GET", "staff/recalls/<int:recall_id>/csv/"): (None, MANAGERS),
    # staff API
    ("GET", "api/v1/staff/appointments"): (RANGE, ANY_STAFF),
    ("POST", "api/v1/staff/appointments"): ({"start": WHEN}, CLIENT_RECORD),
    ("GET", "api/v1/staff/calendar/blocks"): (RANGE, ANY_STAFF),
    ("GET", "api/v1/staff/appointments/{appointment_id}"): (None, CLIENT_RECORD),
    ("POST", "api/v1/staff/appointments/{appointment_id}/reschedule"): (
        {"start": WHEN},
        CLIENT_RECORD,
    ),
    ("POST", "api/v1/staff/appointments/{appointment_id}/status"): (
        {"action": "confirm"},  # an action of the enum: a bad one is 422 before any access check
        CLIENT_RECORD,
    ),
    ("GET", "api/v1/staff/clients"): ("?q=ol", ANY_STAFF),
    ("POST", "api/v1/staff/clients"): (
        {"first_name": "New", "last_name": "Client", "phone": "07911 123499"},
        ANY_STAFF,
    ),
    ("GET", "api/v1/staff/clients/{client_id}"): (None, CLIENT_RECORD),
    ("GET", "api/v1/staff/consultations"): (None, ANY_STAFF),
    ("GET", "api/v1/staff/consultations/{consultation_id}"): (None, CLIENT_RECORD),
    ("GET", "api/v1/staff/consultations/{consultation_id}/screening"): (None, CLINICAL_RECORD),
    ("POST", "api/v1/staff/consultations/{consultation_id}/outcome"): (
        {"outcome": "needs_review"},
        CLINICAL_RECORD,
    ),
    ("GET", "api/v1/staff/clients/{client_id}/eligibility"): ("?service=", CLIENT_RECORD),
    ("POST", "api/v1/staff/consultations/{consultation_id}/consent"): ({}, CLINICAL_RECORD),
    ("GET", "api/v1/staff/inbox"): ("?urgent=true", ANY_STAFF),
    ("GET", "api/v1/staff/health-rechecks"): (None, ANY_STAFF),
    ("POST", "api/v1/staff/health-rechecks/{appointment_id}/review"): ({}, CLINICAL_RECORD),
    ("GET", "api/v1/staff/appointments/{appointment_id}/messages"): (None, CLIENT_RECORD),
    # money through the API: the same roles as the desk panel's buttons
    ("GET", "api/v1/staff/appointments/{appointment_id}/payments"): (None, CLIENT_RECORD),
    ("POST", "api/v1/staff/appointments/{appointment_id}/payments/deposit-link"): ({}, DESK_CLIENT),
    ("POST", "api/v1/staff/appointments/{appointment_id}/payments/fee"): ({}, DESK_CLIENT),
    ("POST", "api/v1/staff/appointments/{appointment_id}/payments/refunds"): (
        {"payment_id": 1, "amount": 500, "reason": "Goodwill"},
        MANAGERS,
    ),
    ("POST", "api/v1/staff/appointments/{appointment_id}/payments/waive"): (
        {"reason": "Bereavement"},
        MANAGERS,
    ),
    ("GET", "api/v1/staff/clients/{client_id}/messages"): (None, CLIENT_RECORD),
    ("GET", "api/v1/staff/product-lots"): (None, ANY_STAFF),
    ("GET", "api/v1/staff/appointments/{appointment_id}/record"): (None, CLINICAL_RECORD),
    ("PUT", "api/v1/staff/appointments/{appointment_id}/record"): ({"notes": "x"}, CLINICAL_RECORD),
    ("POST", "api/v1/staff/records/{record_id}/amendments"): ({"reason": "x"}, CLINICAL_RECORD),
    ("GET", "api/v1/staff/records/{record_id}/photos"): (None, CLINICAL_RECORD),
    ("POST", "api/v1/staff/appointments/{appointment_id}/photos"): (
        {"stage": "before", "angle": "front"},
        CLINICAL_RECORD,
    ),
    ("GET", "api/v1/staff/photos/{token}"): (None, PHOTO_LINK),
    ("POST", "api/v1/staff/clients/{client_id}/photo-consent"): ({}, CLIENT_RECORD),
    ("GET", "api/v1/staff/waitlist"): (None, ANY_STAFF),
    ("POST", "api/v1/staff/waitlist"): (
        {"windows": [{"on": "2026-12-07", "part": "morning"}]},
        CLIENT_RECORD,
    ),
    ("GET", "api/v1/staff/recalls"): (None, MANAGERS),
    ("POST", "api/v1/staff/recalls"): (
        {"product_id": 1, "reason": "x", "client_instructions": "Call us"},
        MANAGERS,
    ),
    ("GET", "api/v1/staff/recalls/{recall_id}"): (None, MANAGERS),
    ("POST", "api/v1/staff/recalls/{recall_id}/notices"): ({}, MANAGERS),
}
# Record routes are asked about a treatment session of the same client, not the consultation.
TREATMENT_ROUTES = frozenset(
    route for _method, route in EXPECTED if "record" in route or "photos" in route
)


def _django_routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _django_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _methods(view) -> set[str]:
    """The methods a Django view accepts, read from ``require_http_methods`` where it is used
    (closure of the decorator), else GET (plain function views and class-based views)."""
    for cell in getattr(view, "__closure__", None) or ():
        contents = cell.cell_contents
        if isinstance(contents, list) and contents and all(isinstance(m, str) for m in contents):
            return {method.upper() for method in contents}
        if callable(contents) and contents is not view:
            found = _methods(contents)
            if found != {"GET"}:
                return found
    return {"GET"}


def staff_routes() -> set[tuple[str, str]]:
    """Every (method, route) under /staff/ and /api/v1/staff/, read from the live URL
    configuration and the ninja API."""
    routes = set()
    for route, pattern in _django_routes(get_resolver().url_patterns):
        if route.startswith("staff/"):
            methods = _methods(pattern.callback)
            if route == "staff/logout/":
                methods = {"POST"}
            routes |= {(method, route) for method in methods if method != "HEAD"}
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            full = f"api/v1/{prefix.strip('/')}/{path.lstrip('/')}".replace("//", "/").rstrip("/")
            if full.startswith("api/v1/staff/"):
                for operation in path_view.operations:
                    routes |= {(method, full) for method in operation.methods}
    return routes


def test_every_staff_route_has_a_declared_expectation():
    routes = staff_routes()

    assert routes - set(EXPECTED) == set(), "declare who may use these new routes"
    assert set(EXPECTED) - routes == set(), "these declared routes no longer exist"


ROUTES = sorted(EXPECTED)


@pytest.fixture
def world(
    consultation,
    colleagues_consultation,
    reception,
    practitioner_user,
    manager,
    treatment_service,
    location,
):
    """Pat's client (own) and Olive, whom only Cara has seen (other), each with a consultation
    record, a failed text, an unhandled reply, and a treatment session with a draft record."""
    records = {}
    for side, appointment in (("own", consultation), ("other", colleagues_consultation)):
        record = consultation_open_for_appointment(appointment=appointment)
        session = factories.AppointmentFactory(
            client=appointment.client,
            service=treatment_service,
            practitioner=appointment.practitioner,
            location=location,
            start_at=at(9) - timedelta(days=30),
            status="completed",
        )
        treatment_record = TreatmentRecord.objects.create(
            appointment=session, client=appointment.client, created_by=manager
        )
        message = Message.objects.create(
            client=appointment.client,
            appointment=appointment,
            location=location,
            category=ReminderRule.Category.CONFIRMATION,
            to=appointment.client.phone,
            body="See you soon",
            due_at=at(9),
            status=Message.Status.FAILED,
        )
        inbound = InboundMessage.objects.create(
            from_number=appointment.client.phone,
            body="Thanks",
            provider_sid=f"SM{side}",
            client=appointment.client,
            appointment=appointment,
        )
        records[side] = {
            "appointment_id": appointment.pk,
            "client_id": appointment.client_id,
            "consultation_id": record.pk,
            "message_id": message.pk,
            "inbound_id": inbound.pk,
            "rule_id": ReminderRule.objects.filter(category="day_before").first().pk,
            "token": "not-a-real-token",
            "service_id": treatment_service.pk,
            "record_id": treatment_record.pk,
            "recall_id": 999_999,  # managers are let in and told it does not exist
            "session_id": session.pk,
            "location_id": location.pk,
            "practitioner_id": appointment.practitioner_id,
            "time_off_id": TimeOff.objects.create(
                location=location,
                start_at=at(9) + timedelta(days=60),
                end_at=at(17) + timedelta(days=60),
            ).pk,
        }
    users = {
        "reception": reception,
        "practitioner_own": practitioner_user,
        "practitioner_other": practitioner_user,
        "manager": manager,
    }
    return records, users, treatment_service


def _url(route: str, ids: dict) -> str:
    url = route
    for name, value in ids.items():
        url = url.replace(f"<int:{name}>", str(value)).replace(f"<str:{name}>", str(value))
        url = url.replace(f"{{{name}}}", str(value))
    return "/" + url


def _ask(browser, *, method, route, ids, extra, treatment_service):
    if route in TREATMENT_ROUTES:
        ids = {**ids, "appointment_id": ids["session_id"]}
    url = _url(route, ids)
    if method == "GET":
        query = extra or ""
        if query == "?service=":
            query += str(treatment_service.pk)
        return url, browser.get(url + query)
    if route.startswith("api/"):
        body = dict(extra or {})
        if route == "api/v1/staff/appointments":
            body.update(client_id=ids["client_id"], service_id=treatment_service.pk)
        if route == "api/v1/staff/waitlist":
            body.update(
                client_id=ids["client_id"],
                service=treatment_service.pk,
                location=ids["location_id"],
            )
        if route.endswith("/photos"):
            # A multipart upload (the one staff endpoint that is not JSON); no consent, so 409.
            image = SimpleUploadedFile("face.jpg", b"not checked before consent", "image/jpeg")
            return url, browser.post(url, {**body, "image": image})
        send = browser.put if method == "PUT" else browser.post
        return url, send(url, body, content_type="application/json")
    form = dict(extra or {})
    if route in {"staff/appointments/new/", "staff/waitlist/"}:
        form.update(client=ids["client_id"], service=treatment_service.pk)
    return url, browser.post(url, form)


def _verdict(response, *, expected: str, is_api: bool) -> str | None:
    """None when ``response`` matches ``expected``, else what went wrong."""
    status = response.status_code
    sent_to_login = status == 302 and response["Location"].startswith("/staff/login/")
    if status >= 500:
        return f"server error {status}"
    if expected == "login" and not (sent_to_login or (is_api and status == 401)):
        return f"expected a login, got {status}"
    if expected == "denied" and status != 403:
        return f"expected 403, got {status}"
    if expected == "not_found" and status != 404:
        return f"expected 404, got {status}"
    if expected == "allowed" and (status in {401, 403} or sent_to_login):
        return f"expected to be let in, got {status}"
    return None


@pytest.mark.parametrize(("method", "route"), ROUTES, ids=[f"{m} {r}" for m, r in ROUTES])
def test_the_permission_matrix(world, method, route):
    """One route, all five actors (denials first change nothing; allowed writes may, which is
    why the colleague's records are asked about with their own ids)."""
    records, users, treatment_service = world
    extra, expectations = EXPECTED[(method, route)]
    problems = []
    for actor in ACTORS:
        browser = HttpClient()
        if actor != "anonymous":
            browser.force_login(users[actor])
        ids = records["other" if actor == "practitioner_other" else "own"]
        url, response = _ask(
            browser,
            method=method,
            route=route,
            ids=ids,
            extra=extra,
            treatment_service=treatment_service,
        )
        problem = _verdict(response, expected=expectations[actor], is_api=route.startswith("api/"))
        if problem:
            problems.append(f"{actor} {method} {url}: {problem}")
    assert problems == []
