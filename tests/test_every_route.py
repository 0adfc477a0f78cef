"""Every URL the project serves, sent a battery of hostile values, never answers 5xx.

The routes come from Django's resolver and the API operations from the OpenAPI schema, so a
new view or operation is tried as soon as it exists. ``PATH_PARAMETERS`` says how to fill each
route's path parameters with real values (so the view gets past its lookup and parses its
query and body); a route missing from it fails ``test_every_route_is_in_the_registry``.

Each route gets, as an anonymous visitor and as a manager (session for pages, Bearer token for
the API): every hostile value in every query parameter and form or JSON field the code reads,
arrays where scalars are expected, hostile path values (huge, negative, unicode digits), the
wrong content types and an oversized body. Twilio webhooks are signed correctly, so the
hostile values reach the code behind the signature check.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver
from twilio.request_validator import RequestValidator

from bookings.models import PhoneVerification
from bookings.services import appointment_book
from bookings.services.api_tokens import api_token_create
from bookings.services.calendar_feeds import calendar_feed_token_issue
from bookings.services.data_protection import client_request_export
from bookings.tokens import data_export_token_for, manage_token_for
from clinic.models import Location, Practitioner, TimeOff
from records.models import Product
from records.services.recalls import recall_create
from reminders.models import InboundMessage, Message, ReminderRule
from reminders.tokens import care_token_for, email_unsubscribe_token_for
from waitlist.models import FreedTime, WaitlistOffer
from waitlist.services import waitlist_join
from waitlist.tokens import offer_token_for

pytestmark = pytest.mark.django_db

MONDAY = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
TWILIO_TOKEN = "every-route-twilio-token"
PUBLIC_BASE_URL = "https://clinic.example"

HOSTILE_VALUES = [
    "9" * 30,  # past bigint
    str(2**63),  # bigint + 1
    "-1",
    "0",
    "²",  # str.isdigit() is True, int() fails
    "١٢",  # Arabic-Indic digits
    "1.5",
    "1e999",
    "NaN",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "2026-03-03T10:00:00+23:59",
    "2026-03-03T10:00:00",  # no offset
    "x" * 5000,
    " ".join(["word"] * 4000),
    "' OR 1=1 --",
    "\x00",
    "",
]

# Query and form names the views read (request.GET / request.POST) and the fields their forms
# take; API operations use the parameters and body properties their schema declares.
PAGE_PARAMETERS = sorted(
    {
        *["Body", "ErrorCode", "From", "MessageSid", "MessageStatus", "SmsSid", "SmsStatus", "To"],
        *[
            "action",
            "amount",
            "body",
            "card_token",
            "by",
            "changed",
            "code",
            "consent_version",
            "consulted",
            "contraindications",
            "date",
        ],
        *[
            "day",
            "email",
            "end",
            "first_name",
            "from",
            "last_name",
            "location",
            "m",
            "next",
            "not_before",
            "notes",
            "payment",
        ],
        *[
            "outcome",
            "override_reason",
            "phone",
            "poll",
            "practitioner",
            "q",
            "reason",
            "reply",
            "report",
            "room",
        ],
        *[
            "room_id",
            "service",
            "services",
            "sms_consent",
            "start",
            "status",
            "then",
            "to",
            "valid_until",
            "view",
        ],
        *["week", "client", "client_id", "practitioner_id", "service_id"],
        *["windows", "expires_on", "part", "on", "sms_consent"],
    }
)


@dataclass
class World:
    """Real rows for path parameters, so each view gets past its lookup."""

    location_slug: str
    service_slug: str
    manage_token: str
    care_token: str
    feed_token: str
    appointment_id: int
    client_id: int
    consultation_id: int
    message_id: int
    inbound_id: int
    verification_handle: str
    api_token: str
    service_id: int
    recall_id: int
    extra: dict[str, Any] = field(default_factory=dict)


def _no_parameters(world: World) -> dict[str, str]:
    return {}


def _token(world: World) -> dict[str, str]:
    return {"token": world.manage_token}


def _appointment(world: World) -> dict[str, str]:
    return {"appointment_id": str(world.appointment_id)}


def _client(world: World) -> dict[str, str]:
    return {"client_id": str(world.client_id)}


def _recall(world: World) -> dict[str, str]:
    return {"recall_id": str(world.recall_id)}


def _practitioner(world: World) -> dict[str, str]:
    return {
        "practitioner_id": str(Practitioner.objects.order_by("pk").values_list("pk", flat=True)[0])
    }


def _pay_token(world: World) -> dict[str, str]:
    from payments.tokens import pay_token_for

    return {"token": pay_token_for(world.appointment_id)}


# How to fill each route's path parameters, by the route as written in the URLconf (the
# API's routes as ninja registers them). Django's admin is left to Django.
PATH_PARAMETERS: dict[str, Callable[[World], dict[str, str]]] = {
    "": _no_parameters,
    "healthz": _no_parameters,
    "metrics": _no_parameters,
    # public booking site and manage links
    "book/": _no_parameters,
    "book/details/": _no_parameters,
    "book/verify/": _no_parameters,
    "book/<slug:location_slug>/<slug:service_slug>/": lambda w: {
        "location_slug": w.location_slug,
        "service_slug": w.service_slug,
    },
    "book/<slug:location_slug>/<slug:service_slug>/hold/": lambda w: {
        "location_slug": w.location_slug,
        "service_slug": w.service_slug,
    },
    "b/<str:token>/": _token,
    "b/<str:token>/confirmed/": _token,
    "b/<str:token>/calendar.ics": _token,
    "b/<str:token>/reschedule/": _token,
    "b/<str:token>/cancel/": _token,
    "b/<str:token>/first-treatment/": _token,
    "b/<str:token>/screening/": _token,
    "b/<str:token>/recheck/": _token,
    "b/<str:token>/my-data/": _token,
    "my-data/<str:token>/": lambda w: {"token": w.extra["data_export_token"]},
    "c/<str:token>/": lambda w: {"token": w.care_token},
    "e/unsubscribe/<str:token>/": lambda w: {"token": email_unsubscribe_token_for(w.client_id)},
    # Payments: the pay page of a (signed) payment reference; the Stripe webhook
    "book/pay/<str:token>/": _pay_token,
    "book/pay/<str:token>/card": _pay_token,
    "book/pay/<str:token>/done": _pay_token,
    "webhooks/stripe": _no_parameters,
    # Twilio webhooks (signed)
    "webhooks/twilio/status": _no_parameters,
    "webhooks/twilio/inbound": _no_parameters,
    # staff workspace
    "staff/login/": _no_parameters,
    "staff/logout/": _no_parameters,
    "staff/": _no_parameters,
    "staff/calendar/": _no_parameters,
    "staff/appointments/new/": _no_parameters,
    "staff/appointments/<int:appointment_id>/": _appointment,
    "staff/appointments/<int:appointment_id>/action/": _appointment,
    "staff/appointments/<int:appointment_id>/move/": _appointment,
    "staff/clients/": _no_parameters,
    "staff/clients/pick/": _no_parameters,
    "staff/clients/<int:client_id>/": _client,
    "staff/clients/<int:client_id>/data/": _client,
    "staff/consultations/": _no_parameters,
    "staff/consultations/<int:appointment_id>/": _appointment,
    "staff/consultations/<int:appointment_id>/consent/": _appointment,
    "staff/feeds/": _no_parameters,
    "staff/feeds/issue/": _no_parameters,
    "staff/feeds/revoke/": _no_parameters,
    "staff/feeds/<str:token>.ics": lambda w: {"token": w.feed_token},
    "staff/messages/appointment/<int:appointment_id>/": _appointment,
    "staff/messages/client/<int:client_id>/": _client,
    "staff/messages/client/<int:client_id>/send/": _client,
    "staff/inbox/": _no_parameters,
    "staff/inbox/<int:inbound_id>/handle/": lambda w: {"inbound_id": str(w.inbound_id)},
    "staff/outbox/": _no_parameters,
    "staff/outbox/<int:message_id>/retry/": lambda w: {"message_id": str(w.message_id)},
    "staff/reports/": _no_parameters,
    "staff/reports/csv/": _no_parameters,
    # JSON API
    "api/v1/": _no_parameters,
    "api/v1/openapi.json": _no_parameters,
    "api/v1/docs": _no_parameters,
    "api/v1/services": _no_parameters,
    "api/v1/locations": _no_parameters,
    "api/v1/practitioners": _no_parameters,
    "api/v1/availability": _no_parameters,
    "api/v1/bookings": _no_parameters,
    "api/v1/bookings/<token>": _token,
    "api/v1/bookings/<token>/cancel": _token,
    "api/v1/bookings/<token>/reschedule": _token,
    "api/v1/bookings/<token>/screening": _token,
    "api/v1/verifications": _no_parameters,
    "api/v1/verifications/<handle>/check": lambda w: {"handle": w.verification_handle},
    "api/v1/staff/appointments": _no_parameters,
    "api/v1/staff/appointments/<appointment_id>": _appointment,
    "api/v1/staff/appointments/<appointment_id>/reschedule": _appointment,
    "api/v1/staff/appointments/<appointment_id>/status": _appointment,
    "api/v1/staff/appointments/<appointment_id>/messages": _appointment,
    "api/v1/staff/appointments/<appointment_id>/payments": _appointment,
    "api/v1/staff/appointments/<appointment_id>/payments/deposit-link": _appointment,
    "api/v1/staff/appointments/<appointment_id>/payments/fee": _appointment,
    "api/v1/staff/appointments/<appointment_id>/payments/refunds": _appointment,
    "api/v1/staff/appointments/<appointment_id>/payments/waive": _appointment,
    "api/v1/staff/calendar/blocks": _no_parameters,
    "api/v1/staff/clients": _no_parameters,
    "api/v1/staff/clients/<client_id>": _client,
    "api/v1/staff/clients/<client_id>/eligibility": _client,
    "api/v1/staff/clients/<client_id>/messages": _client,
    "api/v1/staff/consultations": _no_parameters,
    "api/v1/staff/consultations/<consultation_id>": lambda w: {
        "consultation_id": str(w.consultation_id)
    },
    "api/v1/staff/consultations/<consultation_id>/screening": lambda w: {
        "consultation_id": str(w.consultation_id)
    },
    "api/v1/staff/consultations/<consultation_id>/outcome": lambda w: {
        "consultation_id": str(w.consultation_id)
    },
    "api/v1/staff/consultations/<consultation_id>/consent": lambda w: {
        "consultation_id": str(w.consultation_id)
    },
    "api/v1/staff/inbox": _no_parameters,
    "api/v1/staff/health-rechecks": _no_parameters,
    "api/v1/staff/health-rechecks/<appointment_id>/review": _appointment,
    # treatment records, photos and recalls. The world's appointment is a consultation (its
    # record routes answer 404) and no photo exists (a made-up token); the recall is real.
    "c/recall/<str:token>/": lambda w: {"token": w.care_token},
    "staff/appointments/<int:appointment_id>/record/": _appointment,
    "staff/appointments/<int:appointment_id>/record/photos/": _appointment,
    "staff/clients/<int:client_id>/courses/<int:service_id>/": lambda w: {
        "client_id": str(w.client_id),
        "service_id": str(w.service_id),
    },
    "staff/clients/<int:client_id>/photo-consent/": _client,
    "staff/photos/<str:token>/": lambda w: {"token": "no-such-photo-token"},
    "staff/recalls/": _no_parameters,
    "staff/recalls/<int:recall_id>/": _recall,
    "staff/recalls/<int:recall_id>/csv/": _recall,
    "staff/recalls/<int:recall_id>/send/": _recall,
    "api/v1/staff/product-lots": _no_parameters,
    "api/v1/staff/appointments/<appointment_id>/record": _appointment,
    "api/v1/staff/appointments/<appointment_id>/photos": _appointment,
    "api/v1/staff/records/<record_id>/amendments": lambda w: {"record_id": str(w.appointment_id)},
    "api/v1/staff/records/<record_id>/photos": lambda w: {"record_id": str(w.appointment_id)},
    "api/v1/staff/photos/<token>": lambda w: {"token": "no-such-photo-token"},
    "api/v1/staff/clients/<client_id>/photo-consent": _client,
    "api/v1/staff/recalls": _no_parameters,
    "api/v1/staff/recalls/<recall_id>": _recall,
    "api/v1/staff/recalls/<recall_id>/notices": _recall,
    # icons, client records, the Today sheet and the clinic's settings
    "favicon.ico": _no_parameters,
    "staff/clients/<int:client_id>/edit/": _client,
    "staff/clients/<int:client_id>/merge/": _client,
    "staff/today/": _no_parameters,
    "staff/settings/": _no_parameters,
    "staff/settings/locations/": _no_parameters,
    "staff/settings/locations/new/": _no_parameters,
    "staff/settings/locations/<int:location_id>/": lambda w: {
        "location_id": str(Location.objects.get(slug=w.location_slug).pk)
    },
    "staff/settings/closures/": _no_parameters,
    "staff/settings/practitioners/": _no_parameters,
    "staff/settings/practitioners/<int:practitioner_id>/": _practitioner,
    "staff/settings/practitioners/<int:practitioner_id>/hours/": _practitioner,
    "staff/settings/practitioners/<int:practitioner_id>/time-off/": _practitioner,
    "staff/settings/time-off/<int:time_off_id>/remove/": lambda w: {
        "time_off_id": str(w.extra["time_off_id"])
    },
    "staff/settings/services/": _no_parameters,
    "staff/settings/services/new/": _no_parameters,
    "staff/settings/services/<int:service_id>/": lambda w: {"service_id": str(w.service_id)},
    "staff/settings/services/<int:service_id>/archive/": lambda w: {
        "service_id": str(w.service_id)
    },
    "staff/appointments/<int:appointment_id>/payments/link/": _appointment,
    "staff/appointments/<int:appointment_id>/payments/fee/": _appointment,
    "staff/appointments/<int:appointment_id>/payments/refund/": _appointment,
    "staff/appointments/<int:appointment_id>/payments/waive/": _appointment,
    # the waitlist: join, an entry's page, an offer's claim link (a real offer whose time has no
    # hold, so claiming it is the friendly "just taken")
    "book/<slug:location_slug>/<slug:service_slug>/waitlist/": lambda w: {
        "location_slug": w.location_slug,
        "service_slug": w.service_slug,
    },
    "waitlist/verify/": _no_parameters,
    "waitlist/<str:token>/": lambda w: {"token": w.extra["waitlist_token"]},
    "waitlist/<str:token>/leave/": lambda w: {"token": w.extra["waitlist_token"]},
    "w/<str:token>/": lambda w: {"token": w.extra["offer_token"]},
    "w/<str:token>/decline/": lambda w: {"token": w.extra["offer_token"]},
    "staff/waitlist/": _no_parameters,
    "api/v1/waitlist": _no_parameters,
    "api/v1/waitlist/<token>": lambda w: {"token": w.extra["waitlist_token"]},
    "api/v1/waitlist/offers/<token>/claim": lambda w: {"token": w.extra["offer_token"]},
    "api/v1/staff/waitlist": _no_parameters,
    "staff/settings/reminders/": _no_parameters,
    "staff/settings/reminders/preview/": _no_parameters,
    "staff/settings/reminders/<int:rule_id>/": lambda w: {
        "rule_id": str(ReminderRule.objects.order_by("pk").values_list("pk", flat=True)[0])
    },
}
SIGNED_ROUTES = {"webhooks/twilio/status", "webhooks/twilio/inbound"}
# Values tried in place of a real path parameter (those the route's converter accepts).
HOSTILE_PATH_VALUES = ["9" * 30, str(2**63), "0", "-1", "%C2%B2", "x" * 300]


def _routes(patterns: list, prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def all_routes() -> list[str]:
    return sorted(set(_routes(get_resolver().url_patterns)))


def _fill(route: str, values: dict[str, str]) -> str:
    path = route
    for name, value in values.items():
        for converter in ("", "int:", "str:", "slug:", "path:"):
            path = path.replace(f"<{converter}{name}>", value)
    assert "<" not in path, f"unfilled path parameter in {route}"
    return "/" + path


def _hostile_paths(route: str, real: dict[str, str]) -> list[str]:
    paths = []
    for name in real:
        for value in HOSTILE_PATH_VALUES:
            if f"<int:{name}>" in route and not value.isdigit():
                continue  # the converter would not match: Django's 404, not the view
            if f"<slug:{name}>" in route and "%" in value:
                continue
            paths.append(_fill(route, {**real, name: value}))
    return paths


@pytest.fixture
def world(
    location, consultation_service, practitioner, client_person, manager, settings
) -> Iterator[World]:
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL
    with time_machine.travel(MONDAY, tick=False):
        appointment = appointment_book(
            client=client_person,
            service=consultation_service,
            location=location,
            start_at=MONDAY + timedelta(days=1, hours=2, minutes=30),
        )
        message = Message.objects.create(
            client=client_person,
            location=location,
            appointment=appointment,
            category="adhoc",
            to=client_person.phone,
            body="A note.",
            due_at=MONDAY,
            status=Message.Status.SENT,
            provider_sid="SMroute",
        )
        inbound = InboundMessage.objects.create(
            from_number=client_person.phone, body="Is redness normal?", provider_sid="SMin1"
        )
        verification = PhoneVerification.objects.create(
            phone=client_person.phone,
            code_hash="x",
            expires_at=MONDAY + timedelta(minutes=10),
        )
        _, raw_api_token = api_token_create(user=manager, name="routes")
        recall = recall_create(
            actor=manager,
            product_id=Product.objects.create(name="Hyaluronic serum").pk,
            treated_from=MONDAY.date() - timedelta(days=90),
            reason="Supplier notice",
            client_instructions="Call us if you noticed a reaction.",
        )
        data_request = client_request_export(client=client_person)
        entry = waitlist_join(
            client=client_person,
            service=consultation_service,
            location=location,
            windows=[(MONDAY.date() + timedelta(days=1), "afternoon")],
        )
        freed = FreedTime.objects.create(
            location=location,
            practitioner=practitioner,
            start_at=MONDAY + timedelta(days=1, hours=6),
            source=FreedTime.Source.CANCELLED,
            source_key="every-route",
        )
        offer = WaitlistOffer.objects.create(
            freed_time=freed,
            entry=entry,
            client=client_person,
            sequence=1,
            offered_at=MONDAY,
            expires_at=MONDAY + timedelta(minutes=15),
        )
        yield World(
            location_slug=location.slug,
            service_slug=consultation_service.slug,
            manage_token=manage_token_for(appointment),
            care_token=care_token_for(appointment_id=appointment.pk, end_at=appointment.end_at),
            feed_token=calendar_feed_token_issue(actor=manager, practitioner=practitioner),
            appointment_id=appointment.pk,
            client_id=client_person.pk,
            consultation_id=appointment.consultation.pk,
            message_id=message.pk,
            inbound_id=inbound.pk,
            verification_handle=verification.handle,
            api_token=raw_api_token,
            service_id=consultation_service.pk,
            recall_id=recall.pk,
            extra={
                "data_export_token": data_export_token_for(
                    request_id=data_request.pk, client_id=client_person.pk
                ),
                "time_off_id": TimeOff.objects.create(
                    location=location,
                    start_at=MONDAY + timedelta(days=40),
                    end_at=MONDAY + timedelta(days=41),
                ).pk,
                "waitlist_token": entry.token,
                "offer_token": offer_token_for(offer.pk),
            },
        )


def _signature_headers(path: str, params: dict[str, str]) -> dict[str, str]:
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_BASE_URL + path, params)
    return {"HTTP_X_TWILIO_SIGNATURE": signature}


def _api_fields(schema: dict, route_path: str) -> tuple[list[str], list[str]]:
    """Query and body field names the OpenAPI schema declares for a path."""
    operations = schema["paths"].get(route_path, {})
    query, body = set(), set()
    for operation in operations.values():
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                query.add(parameter["name"])
        content = operation.get("requestBody", {}).get("content", {})
        for media in content.values():
            reference = media["schema"].get("$ref", "")
            component = schema["components"]["schemas"].get(reference.rsplit("/", 1)[-1], {})
            body |= set(component.get("properties", {}))
    return sorted(query), sorted(body)


def _requests(route: str, path: str, *, query_names, body_names, is_api: bool):
    """(method, path, data, content_type, extra headers) for one filled path."""
    signed = route in SIGNED_ROUTES
    for value in HOSTILE_VALUES:
        yield "get", path + "?" + urlencode(dict.fromkeys(query_names, value)), None, None
        if is_api:
            for body_value in (value, [value], {"x": value}):
                body = json.dumps(dict.fromkeys(body_names, body_value))
                yield "post", path, body, "application/json"
        else:
            form = dict.fromkeys(body_names, value)
            if signed:
                form.update(MessageSid="SMroute", MessageStatus="delivered", From="+447911123456")
            yield "post", path, urlencode(form), "application/x-www-form-urlencoded"
    # Mixed: parameter j gets value (i + j), so a value that one parameter rejects early does
    # not hide what another parameter does with a different one.
    for shift in range(len(HOSTILE_VALUES)):
        query = {
            name: HOSTILE_VALUES[(shift + index) % len(HOSTILE_VALUES)]
            for index, name in enumerate(query_names)
        }
        yield "get", path + "?" + urlencode(query), None, None
        mixed = {
            name: HOSTILE_VALUES[(shift + index) % len(HOSTILE_VALUES)]
            for index, name in enumerate(body_names)
        }
        if is_api:
            yield "post", path, json.dumps(mixed), "application/json"
        else:
            if signed:
                mixed.update(MessageSid="SMroute", MessageStatus="delivered", From="+447911123456")
            yield "post", path, urlencode(mixed), "application/x-www-form-urlencoded"
    # arrays where scalars are expected
    many = [(name, value) for name in query_names for value in ("1", "2")]
    yield "get", path + "?" + urlencode(many), None, None
    yield "post", path, urlencode(many), "application/x-www-form-urlencoded"
    # wrong content types and oversized bodies
    yield "post", path, "not json {", "application/json"
    yield "post", path, "<xml/>", "application/xml"
    yield "post", path, json.dumps({"a": 1}), "text/plain"
    yield "post", path, json.dumps([1, 2, 3]), "application/json"
    yield "post", path, "x=" + "y" * 300_000, "application/x-www-form-urlencoded"
    yield "post", path, json.dumps({"padding": "y" * 3_000_000}), "application/json"


def _send(browser: HttpClient, method: str, path: str, data, content_type, *, route, headers):
    extra = dict(headers)
    if route in SIGNED_ROUTES and data is not None and content_type.endswith("urlencoded"):
        from urllib.parse import parse_qsl

        pairs = parse_qsl(data, keep_blank_values=True)
        if len({name for name, _ in pairs}) == len(pairs):
            extra.update(_signature_headers(path, dict(pairs)))
    if method == "get":
        return browser.get(path, **extra)
    return browser.post(path, data, content_type=content_type, **extra)


def test_every_route_is_in_the_registry():
    routes = set(all_routes())

    missing = sorted(routes - set(PATH_PARAMETERS))
    stale = sorted(set(PATH_PARAMETERS) - routes)

    assert not missing, f"add these routes to PATH_PARAMETERS: {missing}"
    assert not stale, f"these routes no longer exist: {stale}"


# About 5,000 requests per actor (a minute on two cores): kept out of the fast unit suite, and
# run on PostgreSQL, where out-of-range ids and dates fail differently than on SQLite.
@pytest.mark.slow
@pytest.mark.parametrize("actor", ["anonymous", "manager"])
def test_no_route_answers_a_server_error_to_hostile_input(world, manager, actor, client, settings):
    settings.API_DOCS_PUBLIC = True  # the schema names each operation's parameters
    schema = client.get("/api/v1/openapi.json").json()
    browser = HttpClient(raise_request_exception=False)
    api_headers: dict[str, str] = {}
    if actor == "manager":
        browser.force_login(manager)
        api_headers = {"HTTP_AUTHORIZATION": f"Bearer {world.api_token}"}
    failures, tried = [], 0
    with time_machine.travel(MONDAY, tick=False):
        for route in all_routes():
            real = PATH_PARAMETERS[route](world)
            is_api = route.startswith("api/v1/")
            if is_api:
                schema_path = "/" + route.replace("<", "{").replace(">", "}")
                query_names, body_names = _api_fields(schema, schema_path)
            else:
                query_names = body_names = PAGE_PARAMETERS
            if route == "staff/logout/":
                continue  # tried last: it ends the manager's session
            paths = [_fill(route, real)]
            for path in paths:
                for method, url, data, content_type in _requests(
                    route, path, query_names=query_names, body_names=body_names, is_api=is_api
                ):
                    response = _send(
                        browser,
                        method,
                        url,
                        data,
                        content_type,
                        route=route,
                        headers=api_headers if is_api else {},
                    )
                    tried += 1
                    if response.status_code >= 500:
                        failures.append(f"{method.upper()} {url[:160]} -> {response.status_code}")
            for path in _hostile_paths(route, real):
                for method in ("get", "post"):
                    response = _send(
                        browser,
                        method,
                        path,
                        "{}",
                        "application/json",
                        route=route,
                        headers=api_headers if is_api else {},
                    )
                    tried += 1
                    if response.status_code >= 500:
                        failures.append(f"{method.upper()} {path[:160]} -> {response.status_code}")
        response = browser.post("/staff/logout/", {"next": "x" * 5000})
        tried += 1
        if response.status_code >= 500:
            failures.append(f"POST /staff/logout/ -> {response.status_code}")
    print(f"{actor}: {len(all_routes())} routes, {tried} requests")  # noqa: T201
    assert not failures, f"{len(failures)} of {tried} requests were server errors:\n" + "\n".join(
        failures[:80]
    )
