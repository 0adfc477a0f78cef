"""``make run`` as a clinic runs it: SQLite, the SQLite broker, gunicorn, a worker and beat
under bin/supervise, with no service at all. SMS go to the fake Twilio so that every send can
be counted."""

from __future__ import annotations

import collections
import json
import os
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fake_twilio import FakeTwilio
from tests.stack import ROOT, Stack, base_environment, free_port, request

# EMBEDDED_SOAK_SECONDS=600 repeats the load for that long (one round by default).
SOAK_SECONDS = float(os.environ.get("EMBEDDED_SOAK_SECONDS") or 0)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900 + SOAK_SECONDS)]

PUSHED_MESSAGES = 300
LOAD_BOOKINGS = 30
CONCURRENT_REQUESTS = 50

# Runs inside the stack's own manage.py shell: one due outbox row at a time, each followed by
# a dispatch task through the broker, while the web process takes bookings.
PUSH_SCRIPT = """
from django.utils import timezone
from bookings.models import Client
from clinic.models import Location
from reminders.models import Message, ReminderRule
from reminders.tasks import dispatch_due_messages
from tests import factories

location = Location.objects.filter(slug="load-test").first()
location = location or factories.LocationFactory(slug="load-test")
client = Client.objects.filter(phone="+447700900999").first()
client = client or factories.ClientFactory(phone="+447700900999")
for n in range(COUNT):
    Message.objects.create(
        client=client,
        location=location,
        category=ReminderRule.Category.ADHOC,
        to=client.phone,
        body=f"Load message ROUND-{n}",
        due_at=timezone.now(),
    )
    dispatch_due_messages.delay()
"""


@pytest.fixture(scope="module")
def fake_twilio():
    fake = FakeTwilio(callbacks=False).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def stack(fake_twilio, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("embedded") / "var"
    port = free_port()
    env = base_environment(var_dir, fake_twilio, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    running = Stack(["run", f"PORT={port}"], env=env, log_path=var_dir.parent / "stack.log")
    try:
        running.wait_until_healthy(f"http://127.0.0.1:{port}")
        secret_key = (ROOT / "var" / "secret-key").read_text().strip()
        running._manage_env = {**env, "DEBUG": "1", "SECRET_KEY": secret_key}
        running.token = running.manage("create_api_token", "manager").strip().splitlines()[-1]
        yield running
    finally:
        running.stop()


def _database(stack: Stack) -> sqlite3.Connection:
    connection = sqlite3.connect(
        f"file:{stack.env['AFTERCARE_VAR_DIR']}/aftercare.sqlite3?mode=ro", uri=True, timeout=30
    )
    connection.row_factory = sqlite3.Row
    return connection


def _slots(stack: Stack, service_name: str) -> tuple[dict, int, list[tuple[str, int]]]:
    """Free (start, practitioner) pairs far enough apart that booking one never takes another."""
    _, _, body = request(f"{stack.url}/api/v1/services")
    service = next(s for s in json.loads(body) if s["name"] == service_name)
    _, _, body = request(f"{stack.url}/api/v1/locations")
    location = next(place["id"] for place in json.loads(body) if place["slug"] == "soho")
    start = datetime.now(UTC).date() + timedelta(days=2)
    status, _, body = request(
        f"{stack.url}/api/v1/availability?service={service['id']}&location={location}"
        f"&from={start}&to={start + timedelta(days=40)}"
    )
    assert status == 200, body
    apart = timedelta(minutes=service["duration_minutes"] + 60)
    last_start: dict[int, datetime] = {}
    slots = []
    for day in json.loads(body)["days"]:
        for slot in day["slots"]:
            start_at = datetime.fromisoformat(slot["start"])
            for practitioner in slot["practitioner_ids"]:
                if practitioner in last_start and start_at - last_start[practitioner] < apart:
                    continue
                last_start[practitioner] = start_at
                slots.append((slot["start"], practitioner))
    return service, location, slots


def _book(stack: Stack, *, service: int, location: int, start: str, practitioner: int, n: int):
    return request(
        f"{stack.url}/api/v1/bookings",
        method="POST",
        headers={"Authorization": f"Bearer {stack.token}"},
        payload={
            "service": service,
            "location": location,
            "start": start,
            "practitioner": practitioner,
            "client": {"first_name": f"Client{n}", "phone": f"+4479112{n:05d}"},
            "sms_consent": True,
            "consent_wording": "Texts about my booking are fine",
        },
    )


def _wait_until(condition, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _unfinished(stack: Stack) -> int:
    with _database(stack) as db:
        return db.execute(
            "SELECT count(*) FROM reminders_message WHERE status = 'sending'"
            " OR (status = 'scheduled' AND due_at <= datetime('now'))"
        ).fetchone()[0]


def _load_round(stack: Stack, round_number: int, first_phone: int) -> list[str]:
    """Push PUSHED_MESSAGES tasks while booking up to LOAD_BOOKINGS slots; the booked phones."""
    service, location, slots = _slots(stack, "Skin consultation")
    slots = slots[:LOAD_BOOKINGS]
    script = PUSH_SCRIPT.replace("COUNT", str(PUSHED_MESSAGES)).replace("ROUND", str(round_number))
    pusher = threading.Thread(target=stack.manage, args=("shell", "-c", script))
    pusher.start()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(
                lambda index: _book(
                    stack,
                    service=service["id"],
                    location=location,
                    start=slots[index][0],
                    practitioner=slots[index][1],
                    n=first_phone + index,
                )[0],
                range(len(slots)),
            )
        )
    pusher.join(timeout=600)
    assert not pusher.is_alive()
    assert collections.Counter(answers) == {201: len(slots)}
    return [f"+4479112{first_phone + index:05d}" for index in range(len(slots))]


def test_the_embedded_stack_sends_every_message_once_while_booking_without_a_restart(
    stack, fake_twilio
):
    worker_pid = stack.pid("worker")
    started = time.monotonic()
    booked_phones: list[str] = []
    rounds = 0
    while rounds == 0 or time.monotonic() - started < SOAK_SECONDS:
        booked_phones += _load_round(stack, rounds, first_phone=1000 + len(booked_phones))
        rounds += 1
    assert len(booked_phones) >= LOAD_BOOKINGS

    def pushed_all_sent() -> bool:
        bodies = {entry["body"] for entry in fake_twilio.accepted_log()}
        pushed = sum(body.startswith("Load message ") for body in bodies)
        return pushed == rounds * PUSHED_MESSAGES

    _wait_until(
        lambda: pushed_all_sent() and _unfinished(stack) == 0, timeout=300, what="the outbox"
    )
    elapsed = time.monotonic() - started

    accepted = fake_twilio.accepted_log()
    bodies = collections.Counter(entry["body"] for entry in accepted)
    assert max(bodies.values()) == 1, "a message was sent twice"
    with _database(stack) as db:
        sent = {
            row["provider_sid"]: row["to"]
            for row in db.execute(
                "SELECT provider_sid, \"to\" FROM reminders_message WHERE status = 'sent'"
            )
        }
    assert sent == {entry["sid"]: entry["to"] for entry in accepted}
    # Every booking's confirmation went out, once.
    confirmations = collections.Counter(e["to"] for e in accepted if e["to"] in booked_phones)
    assert confirmations == dict.fromkeys(booked_phones, 1)
    # Counted in each gunicorn and Celery process, summed by /metrics (multiprocess mode).
    status, _, body = request(f"{stack.url}/metrics")
    assert status == 200
    figures = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }
    api_booked = (("channel", "api"), ("outcome", "booked"))
    assert figures[("aftercare_bookings_total", api_booked)] == len(booked_phones)
    accepted_labels = (("error_code", ""), ("outcome", "accepted"))
    assert figures[("aftercare_sms_sends_total", accepted_labels)] == len(accepted)
    assert figures[("aftercare_outbox_messages", (("status", "sending"),))] == 0
    # The same worker did it all: nothing crashed and nothing had to be restarted.
    assert stack.pid("worker") == worker_pid
    assert "exited:" not in stack.log()
    print(  # noqa: T201 - the figures for the report
        f"\nembedded stack: {rounds} round(s), {rounds * PUSHED_MESSAGES} pushed tasks +"
        f" {len(booked_phones)} bookings, settled after {elapsed:.1f} s; {len(accepted)} SMS"
        f" sent once each; worker pid {worker_pid} unchanged, no restart"
    )


def test_fifty_concurrent_requests_for_one_slot_all_get_an_http_answer(stack):
    service, location, slots = _slots(stack, "Skin consultation")
    start, practitioner = slots[-1]
    everyone_ready = threading.Barrier(CONCURRENT_REQUESTS, timeout=60)

    def contend(n: int) -> int | str:
        everyone_ready.wait()
        try:
            return _book(
                stack,
                service=service["id"],
                location=location,
                start=start,
                practitioner=practitioner,
                n=500 + n,
            )[0]
        except OSError as error:  # a reset or refused connection is not an answer
            return type(error).__name__

    with ThreadPoolExecutor(max_workers=CONCURRENT_REQUESTS) as pool:
        answers = collections.Counter(pool.map(contend, range(CONCURRENT_REQUESTS)))

    print(f"\n{CONCURRENT_REQUESTS} concurrent bookings of one slot: {dict(answers)}")  # noqa: T201
    assert answers == {201: 1, 409: CONCURRENT_REQUESTS - 1}


def test_a_worker_that_dies_is_restarted_and_the_rest_keeps_serving(stack, fake_twilio):
    web_pid, worker_pid = stack.pid("web"), stack.pid("worker")
    os.kill(worker_pid, signal.SIGKILL)
    _wait_until(
        lambda: (
            stack.supervisorctl("pid", "worker").strip() not in {"", "0", str(worker_pid)}
            and stack.all_running()
        ),
        timeout=120,
        what="supervisord to restart the worker",
    )

    assert "exited: worker (terminated by SIGKILL; not expected)" in stack.log()
    assert stack.pid("web") == web_pid
    service, location, slots = _slots(stack, "Skin consultation")
    status, _, _ = _book(
        stack,
        service=service["id"],
        location=location,
        start=slots[1][0],
        practitioner=slots[1][1],
        n=900,
    )
    assert status == 201
    _wait_until(
        lambda: any(e["to"] == "+447911200900" for e in fake_twilio.accepted_log()),
        timeout=120,
        what="the restarted worker to send the confirmation",
    )
