"""GET /metrics: closed to the public, and the figures an operator alerts on."""

from __future__ import annotations

import json
import logging
from datetime import time as clock_time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from reminders.backends import SmsError, locmem
from reminders.dispatch import messages_dispatch_due
from reminders.models import Message
from tests.bookings.test_booking_api import at, booking_payload
from tests.bookings.test_booking_api import facial as facial  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db
Status = Message.Status


def _samples(response) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def _counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_answer_loopback_callers_when_no_token_is_set(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 403
    # A proxy on this machine makes every visitor look local; what it forwards is not.
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403


def test_metrics_need_the_bearer_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    response = client.get(
        "/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token", REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


def test_outbox_state_comes_from_the_database(client, outbox_message):
    now = timezone.now()
    outbox_message(rule_name=None, due_at=now - timedelta(minutes=7))
    outbox_message(rule_name=None, due_at=now + timedelta(hours=1))
    outbox_message(rule_name=None, due_at=now, status=Status.FAILED, error_code=21211)
    outbox_message(rule_name=None, due_at=now, status=Status.FAILED, error_code=21211)
    outbox_message(rule_name=None, due_at=now, status=Status.UNDELIVERED, error_code=30003)

    samples = _samples(client.get("/metrics"))

    assert samples[("aftercare_outbox_messages", (("status", "scheduled"),))] == 2
    assert samples[("aftercare_outbox_messages", (("status", "failed"),))] == 2
    assert samples[("aftercare_outbox_messages", (("status", "sent"),))] == 0
    oldest = samples[("aftercare_outbox_oldest_due_unsent_seconds", ())]
    assert 7 * 60 <= oldest < 8 * 60
    failed = (("error_code", "21211"), ("status", "failed"))
    assert samples[("aftercare_outbox_failed_messages", failed)] == 2
    undelivered = (("error_code", "30003"), ("status", "undelivered"))
    assert samples[("aftercare_outbox_failed_messages", undelivered)] == 1


def test_sends_failures_by_code_and_dispatch_latency_are_counted(outbox_message, settings):
    settings.QUIET_HOURS = (clock_time(3, 0), clock_time(3, 1))  # not what this test is about
    accepted = _counter("aftercare_sms_sends_total", outcome="accepted", error_code="")
    refused = _counter("aftercare_sms_sends_total", outcome="failed", error_code="21211")
    latencies = _counter("aftercare_sms_dispatch_latency_seconds_count")
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        outbox_message(rule_name=None, due_at=now - timedelta(seconds=30), body="first")
        outbox_message(rule_name=None, due_at=now - timedelta(seconds=30), body="second")
        locmem.faults.append(SmsError("bad number", permanent=True, code=21211))
        messages_dispatch_due()

    assert _counter("aftercare_sms_sends_total", outcome="accepted", error_code="") == accepted + 1
    assert (
        _counter("aftercare_sms_sends_total", outcome="failed", error_code="21211") == refused + 1
    )
    assert _counter("aftercare_sms_dispatch_latency_seconds_count") == latencies + 1
    assert _counter("aftercare_sms_dispatch_latency_seconds_bucket", le="30.0") >= 1


def test_bookings_are_counted_by_channel_and_outcome(client, facial, location):  # noqa: F811
    def booked(outcome: str) -> float:
        return _counter("aftercare_bookings_total", channel="online", outcome=outcome)

    before = {outcome: booked(outcome) for outcome in ("booked", "slot_taken")}
    first = booking_payload(facial, location, at(10))
    second = booking_payload(
        facial, location, at(10), {"client": {"first_name": "Noah", "phone": "07912 345678"}}
    )
    for payload in (first, second):
        client.post("/api/v1/bookings", payload, content_type="application/json")

    assert booked("booked") == before["booked"]  # the API channel, not online
    api = {
        outcome: _counter("aftercare_bookings_total", channel="api", outcome=outcome)
        for outcome in ("booked", "slot_taken")
    }
    assert api["booked"] >= 1
    assert api["slot_taken"] >= 1


def test_request_latency_is_labelled_by_route_name_not_by_path(client):
    before = _counter(
        "aftercare_http_request_duration_seconds_count",
        view="healthz",
        method="GET",
        status="2xx",
    )
    client.get("/healthz")
    after = _counter(
        "aftercare_http_request_duration_seconds_count",
        view="healthz",
        method="GET",
        status="2xx",
    )
    assert after == before + 1


def test_each_route_method_and_status_class_is_counted_on_its_own(client, settings):
    settings.METRICS_TOKEN = ""

    def requests(method: str, status: str) -> float:
        return _counter(
            "aftercare_http_request_duration_seconds_count",
            view="metrics",
            method=method,
            status=status,
        )

    before = {key: requests(*key) for key in (("GET", "2xx"), ("GET", "4xx"), ("HEAD", "2xx"))}
    for _ in range(2):
        client.get("/metrics")
        client.get("/metrics", REMOTE_ADDR="203.0.113.9")  # 403
        client.head("/metrics")

    assert {key: requests(*key) - before[key] for key in before} == {
        ("GET", "2xx"): 2,
        ("GET", "4xx"): 2,
        ("HEAD", "2xx"): 2,
    }


def test_json_logs_carry_the_structured_fields(settings, capsys):
    from logging.config import dictConfig

    config = {**settings.LOGGING, "handlers": {**settings.LOGGING["handlers"]}}
    config["handlers"]["stdout"] = {**config["handlers"]["stdout"], "formatter": "json"}
    dictConfig(config)
    try:
        logging.getLogger("reminders.test").warning("send failed", extra={"message_id": 12})
        line = capsys.readouterr().out.strip().splitlines()[-1]
    finally:
        dictConfig(settings.LOGGING)
    record = json.loads(line)
    assert record["msg"] == "send failed"
    assert record["level"] == "WARNING"
    assert record["logger"] == "reminders.test"
    assert record["message_id"] == 12
    assert "ts" in record
