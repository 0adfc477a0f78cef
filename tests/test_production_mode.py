"""``make serve`` as a deployment runs it: DEBUG=0, a random SECRET_KEY, PostgreSQL, Redis, the
hashed static files, and SMS through the (fake) Twilio, so it works offline."""

from __future__ import annotations

import json
import re
import secrets
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection

from tests.fake_twilio import FakeTwilio
from tests.stack import Stack, base_environment, free_port, request

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

# What a TLS-terminating proxy in front of gunicorn adds (SECURE_PROXY_SSL_HEADER).
BEHIND_TLS = {"X-Forwarded-Proto": "https"}


def _server_url(database: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{database}"


@pytest.fixture
def scratch_database():
    """A database of its own: make serve migrates it from nothing, like a new deployment."""
    name = f"{connection.settings_dict['NAME']}_serve"

    def drop(admin: psycopg.Connection) -> None:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')

    with psycopg.connect(_server_url("postgres"), autocommit=True) as admin:
        drop(admin)
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _server_url(name)
    with psycopg.connect(_server_url("postgres"), autocommit=True) as admin:
        drop(admin)


def test_make_serve_serves_pages_static_files_and_sends_sms_through_the_worker(
    scratch_database, tmp_path
):
    fake = FakeTwilio(callbacks=False).start()
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = base_environment(
        tmp_path / "var",
        fake,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=scratch_database,
        REDIS_URL=settings.REDIS_URL,
        ALLOWED_HOSTS="127.0.0.1",
        PORT=str(port),
        PUBLIC_BASE_URL=url,
        STATIC_ROOT=str(tmp_path / "static"),
        METRICS_TOKEN="metrics-" + secrets.token_urlsafe(16),
        LOG_LEVEL="INFO",
    )
    stack = Stack(["serve"], env=env, log_path=tmp_path / "serve.log")
    report = []
    try:
        started = time.monotonic()
        stack.wait_until_healthy(url)
        report.append(f"make serve healthy after {time.monotonic() - started:.1f} s")

        pages = {}
        for path in ("/book/", "/staff/login/", "/admin/login/"):
            status, _, body = request(url + path, headers=BEHIND_TLS)
            pages[path] = (status, body)
            report.append(f"GET {path} -> {status}")
        assert {path: status for path, (status, _) in pages.items()} == dict.fromkeys(pages, 200)

        hashed = re.search(rb"/static/css/site\.[0-9a-f]{12}\.css", pages["/book/"][1])
        assert hashed, "the page does not link the hashed stylesheet"
        status, headers, _ = request(url + hashed.group().decode(), headers=BEHIND_TLS)
        cache = headers.get("Cache-Control", "")
        report.append(f"GET {hashed.group().decode()} -> {status} Cache-Control: {cache}")
        assert status == 200
        assert "max-age=315360000" in cache
        assert "immutable" in cache

        status, _, body = request(url + "/healthz")
        report.append(f"GET /healthz -> {status} {body.decode()}")
        assert status == 200

        status, _, _ = request(url + "/metrics")
        assert status == 403
        status, _, body = request(
            url + "/metrics", headers={"Authorization": f"Bearer {env['METRICS_TOKEN']}"}
        )
        report.append(f"GET /metrics without the token -> 403, with it -> {status}")
        assert status == 200
        assert b"aftercare_outbox_oldest_due_unsent_seconds" in body

        # A clinic to book at (make serve itself creates no demo data), and a staff token.
        stack.manage("seed_demo", "--force", "--no-appointments")
        token = stack.manage("create_api_token", "manager").strip().splitlines()[-1]
        status, _, body = request(f"{url}/api/v1/services", headers=BEHIND_TLS)
        service = next(s for s in json.loads(body) if s["kind"] == "consultation")
        status, _, body = request(f"{url}/api/v1/locations", headers=BEHIND_TLS)
        location = json.loads(body)[0]["id"]
        start = datetime.now(UTC).date() + timedelta(days=2)
        status, _, body = request(
            f"{url}/api/v1/availability?service={service['id']}&location={location}"
            f"&from={start}&to={start + timedelta(days=14)}",
            headers=BEHIND_TLS,
        )
        slot = next(slot for day in json.loads(body)["days"] for slot in day["slots"])
        phone = "+447911123456"
        status, _, body = request(
            f"{url}/api/v1/bookings",
            method="POST",
            headers={**BEHIND_TLS, "Authorization": f"Bearer {token}"},
            payload={
                "service": service["id"],
                "location": location,
                "start": slot["start"],
                "client": {"first_name": "Prod", "phone": phone},
                "sms_consent": True,
                "consent_wording": "Texts about my booking are fine",
            },
        )
        report.append(f"POST /api/v1/bookings -> {status}")
        assert status == 201, body
        booked = time.monotonic()
        deadline = booked + 120
        while time.monotonic() < deadline and not any(
            entry["to"] == phone for entry in fake.accepted_log()
        ):
            time.sleep(0.2)
        sent = [entry for entry in fake.accepted_log() if entry["to"] == phone]
        assert len(sent) == 1, stack.log()[-3000:]
        assert "booked" in sent[0]["body"]
        report.append(
            f"confirmation SMS accepted by (fake) Twilio {time.monotonic() - booked:.1f} s"
            " after the booking, sent by the worker"
        )
    finally:
        stack.stop()
        fake.stop()
        print("\n" + "\n".join(report))  # noqa: T201 - the production-mode check's output
