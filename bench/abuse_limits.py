"""Abuse limits under load, end to end through a running server on PostgreSQL.

1. Hold flood: one address, a fresh browser (no cookies) for every attempt, asks to hold every
   free start of a day, 8 at a time. Reports holds attempted, held and refused, and how many of
   the day's starts are still free for a real client from another address.
2. SMS pumping: code requests for numbers in 10 countries to a London clinic; cross-site form
   posts (text/plain) to the API; then a burst from 300 different addresses against an hourly
   budget of 50 codes. Reports what was sent, refused, and the manager alerts.

It starts gunicorn (2 workers x 4 threads) with TRUSTED_PROXY_COUNT=1 against a fresh
database ``aftercare_bench_abuse`` on the local PostgreSQL, and sets X-Forwarded-For to play
clients at different addresses behind one proxy (loopback only).

Run:  .venv/bin/python bench/abuse_limits.py
Targets (each printed with ok/MISSED): the flood holds exactly HOLD_LIVE_LIMIT starts and is
refused for the rest (429 over budget, or 409 where a start overlaps one it already holds),
while a client at another address still holds one; a code goes only to the clinic's own country
(422 elsewhere); every cross-site post is refused (415); the burst creates exactly the hourly
budget of codes, refuses the rest (429) and alerts a manager once.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time as clock
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# Run as a script, this folder comes first on sys.path, where bench/http.py would hide the
# standard library's ``http`` package from what is imported below (requests, Django).
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).parent]

import requests  # noqa: E402 - after the sys.path fix above

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE = os.environ.get("BENCH_DB_PREFIX", "aftercare_bench") + "_abuse"
SECRET_KEY = "bench-abuse-" + "Zq8#w" * 12
BUDGET = 50
CSRF_FIELD = re.compile(r'(?:name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")([^"]+)"')
PUMPING_NUMBERS = {
    "US": "+12015550123",
    "CN": "+8613800138000",
    "DE": "+4915123456789",
    "RU": "+79161234567",
    "NG": "+2348031234567",
    "FR": "+33612345678",
    "IN": "+919812345678",
    "PH": "+639171234567",
    "LB": "+96171123456",
    "GB": "+447911123456",
}


def _verdict(met: bool) -> str:
    return "ok" if met else "MISSED"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _recreate_database() -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + DATABASE


def main() -> None:  # noqa: PLR0915 - one linear script
    scratch = tempfile.mkdtemp(prefix="aftercare-abuse-")
    env = {
        **{key: value for key, value in os.environ.items() if key != "REDIS_URL"},
        "DATABASE_URL": _recreate_database(),
        # DEBUG=1 only so that pages render without a collected static manifest; every limit
        # measured here is the same in production.
        "DEBUG": "1",
        "API_DOCS_PUBLIC": "0",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "AFTERCARE_VAR_DIR": scratch,
        "SMS_BACKEND": "console",
        "LOG_LEVEL": "ERROR",
        "TRUSTED_PROXY_COUNT": "1",
        "VERIFICATION_SMS_PER_HOUR": str(BUDGET),
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from datetime import time as wall
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.utils import timezone

    from bookings.availability import free_slots
    from bookings.models import Appointment, PhoneVerification
    from clinic import roles
    from clinic.models import Location, Practitioner, Service, WorkingHours
    from reminders.models import StaffAlert

    call_command("migrate", verbosity=0)
    location = Location.objects.create(name="London clinic", slug="london", country="GB")
    service = Service.objects.create(
        name="Consultation",
        slug="consultation",
        kind="consultation",
        duration_minutes=30,
        slot_step_minutes=15,
        min_lead_minutes=0,
    )
    practitioner = Practitioner.objects.create(display_name="Pat")
    practitioner.locations.add(location)
    practitioner.services.add(service)
    for weekday in range(7):
        WorkingHours.objects.create(
            practitioner=practitioner,
            location=location,
            weekday=weekday,
            start_time=wall(9),
            end_time=wall(18),
        )
    manager = get_user_model().objects.create_user(
        "manager", email="manager@example.test", password="x" * 20
    )
    manager.groups.add(Group.objects.get(name=roles.MANAGER))
    tomorrow = timezone.localdate(timezone.now(), location.zone) + timedelta(days=1)

    def free_starts() -> list:
        return [
            slot.start_at
            for slot in free_slots(
                service=service, location=location, start_date=tomorrow, end_date=tomorrow
            )
        ]

    day_starts = free_starts()

    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - fixed command line
        [
            sys.executable,
            "-m",
            "gunicorn",
            "clinic.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    times_url = f"{base}/book/{location.slug}/{service.slug}/"
    try:
        deadline = clock.monotonic() + 60
        while clock.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            clock.sleep(0.3)
        else:
            raise SystemExit("server did not become healthy")

        def hold(start, address: str) -> int:
            with requests.Session() as browser:  # a fresh browser: no cookies kept
                headers = {"X-Forwarded-For": address}
                page = browser.get(times_url, headers=headers, timeout=30)
                found = CSRF_FIELD.search(page.text)
                if found is None:
                    raise SystemExit(
                        f"no CSRF token on {times_url}: {page.status_code} {page.text[:300]}"
                    )
                token = found.group(1)
                answer = browser.post(
                    f"{times_url}hold/",
                    data={"start": start.isoformat(), "csrfmiddlewaretoken": token},
                    headers={**headers, "Referer": times_url},
                    allow_redirects=False,
                    timeout=30,
                )
                return answer.status_code

        # 1. Hold flood from one address.
        started = clock.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            flood = Counter(pool.map(hold, day_starts, ["203.0.113.66"] * len(day_starts)))
        elapsed = clock.perf_counter() - started
        held = Appointment.objects.filter(status=Appointment.Status.HELD).count()
        still_free = len(free_starts())
        live_limit = settings.HOLD_LIVE_LIMIT
        # A 409 is a refusal too: a start overlapping one the flood already holds is taken.
        refused_only = set(flood) - {302} <= {409, 429}
        print(
            f"hold flood: {len(day_starts)} holds attempted from one address in {elapsed:.1f} s: "
            f"{dict(sorted(flood.items()))} (302 = held, 429 = over budget, 409 = taken; target:"
            f" {live_limit} x 302, the rest refused: "
            f"{_verdict(flood[302] == live_limit and refused_only)})"
        )
        print(
            f"  held: {held} (target {live_limit}: {_verdict(held == live_limit)}); free starts"
            f" that day: {len(day_starts)} before, {still_free} after"
        )
        remaining = free_starts()
        real_client = hold(remaining[len(remaining) // 2], "198.51.100.20")
        print(
            f"  a real client from another address then: {real_client} (302 = held; target 302:"
            f" {_verdict(real_client == 302)})"
        )

        # 2. SMS pumping.
        def ask_code(phone: str, address: str, *, content_type: str = "application/json") -> int:
            body = f'{{"phone": "{phone}", "location": {location.pk}}}'
            return requests.post(
                f"{base}/api/v1/verifications",
                data=body,
                headers={"Content-Type": content_type, "X-Forwarded-For": address},
                timeout=30,
            ).status_code

        countries = {
            country: ask_code(number, f"192.0.2.{n + 1}")
            for n, (country, number) in enumerate(PUMPING_NUMBERS.items())
        }
        only_home = all(code == (201 if c == "GB" else 422) for c, code in countries.items())
        print(
            f"codes to 10 countries for a London clinic: {countries} (201 = sent; target: GB"
            f" sent, every other country 422: {_verdict(only_home)})"
        )
        cross_site = Counter(
            ask_code(f"+4479111234{n:02d}", f"192.0.2.{100 + n}", content_type="text/plain")
            for n in range(20)
        )
        print(
            f"cross-site text/plain posts: {dict(cross_site)} (415 = refused; target all 415:"
            f" {_verdict(set(cross_site) == {415})})"
        )
        PhoneVerification.objects.all().delete()
        burst_numbers = [f"+447911{200000 + n:06d}" for n in range(300)]
        burst_addresses = [f"10.{n // 250}.{n % 250}.1" for n in range(300)]
        started = clock.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            burst = Counter(pool.map(ask_code, burst_numbers, burst_addresses))
        elapsed = clock.perf_counter() - started
        alerts = StaffAlert.objects.filter(kind=StaffAlert.Kind.SMS_BUDGET).count()
        codes = PhoneVerification.objects.count()
        print(
            f"burst of 300 code requests from 300 addresses, budget {BUDGET}/hour, in "
            f"{elapsed:.1f} s: {dict(sorted(burst.items()))} (target {BUDGET} x 201, the rest"
            f" 429: {_verdict(burst == Counter({201: BUDGET, 429: 300 - BUDGET}))}); codes created:"
            f" {codes} (target {BUDGET}: {_verdict(codes == BUDGET)}); manager alerts: {alerts}"
            f" (target 1: {_verdict(alerts == 1)})"
        )
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
