"""Booking under contention, end to end through a running server on PostgreSQL.

1. 50 clients (threads, each its own HTTP connection) POST the same slot at the same moment:
   expect exactly 1 x 201, 49 x 409 (with alternatives) and 0 x 5xx.
2. 500 bookings of distinct slots from 16 concurrent clients (wrk, one connection each, every
   request a different slot and client): report bookings per second and latency.

It starts gunicorn (the workers and threads bin/web runs, from clinic/gunicorn_conf.py) against a fresh database ``aftercare_bench_race``
on the local PostgreSQL and Redis at BENCH_REDIS_URL (default redis://127.0.0.1:6379/5), proves each client's phone the way the site does (a verified
PhoneVerification and its signed token), and talks to the server over loopback only.

Run:  .venv/bin/python bench/booking_race.py   (needs wrk, the Debian package)
Targets: exactly 1 winner and 0 x 5xx in the race; >= 200 bookings/s with p95 <= 150 ms for the
distinct slots. The server's CPU per booking (gunicorn workers and PostgreSQL backends, from
/proc) is printed too: unlike the rates it does not depend on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time as clock
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# Run as a script, this folder comes first on sys.path, where bench/http.py would hide the
# standard library's ``http`` package from what is imported below (Django, requests).
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).parent]

import requests  # noqa: E402 - after the sys.path fix above

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.wrk import WRK_REPORT, wrk_result  # noqa: E402 - needs the checkout on sys.path

TARGET_RATE = 200
TARGET_P95_MS = 150
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (0 for any that has gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def _children(pid: int) -> list[int]:
    try:
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except OSError:
        return []


def _postgres_backends(database: str) -> list[int]:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [database]
        ).fetchall()
    return [pid for (pid,) in rows]


PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE = os.environ.get("BENCH_DB_PREFIX", "aftercare_bench") + "_race"
SECRET_KEY = "bench-race-" + "Zq8#w" * 12

# wrk, one connection per thread: thread k sends bodies k, k + n, k + 2n, … (each a different
# slot and client) and stops after its share, so every request made is a distinct booking.
# A load generator in C, so the client's own CPU (about 2 ms a request with Python's requests,
# a fifth of what the server is allowed) is not taken from the server on a 2-core machine.
WRK_SCRIPT = """
local threads = {}
setup = function(thread)
  thread:set("first", #threads)
  table.insert(threads, thread)
end
init = function(args)
  step = tonumber(args[1])
  finished_path = args[2]
  next_index = first + 1
  answered = 0
  share = 0
  for i = next_index, #bodies, step do share = share + 1 end
end
-- The next body moves on only with an answer: wrk calls request() once more on the first
-- thread to check the script, and one connection per thread has one request out at a time.
request = function()
  local body = bodies[math.min(next_index, #bodies)]
  return wrk.format("POST", "/api/v1/bookings", {["Content-Type"] = "application/json"}, body)
end
response = function(status, headers, body)
  answered = answered + 1
  next_index = next_index + step
  if status ~= 201 then
    io.write("REFUSED " .. status .. " " .. body .. "\\n")
  end
  if answered >= share then
    -- wrk itself runs until its -d time is up: the bench stops it once every thread is done.
    local finished = io.open(finished_path, "a")
    finished:write("done\\n")
    finished:close()
    wrk.thread:stop()
  end
end
"""


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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contenders", type=int, default=50)
    parser.add_argument("--bookings", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    scratch = tempfile.mkdtemp(prefix="aftercare-race-")
    env = {
        **{key: value for key, value in os.environ.items() if key != "REDIS_URL"},
        # Redis as in production: the cache (reminder rules generation) and Celery's broker
        # for the dispatch nudge each booking sends after commit.
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5"),
        "DATABASE_URL": _recreate_database(),
        "DEBUG": "0",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "AFTERCARE_VAR_DIR": scratch,
        "SMS_BACKEND": "locmem",
        "LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
    }
    os.environ.update(env)
    import django

    django.setup()
    from datetime import datetime, timedelta
    from datetime import time as wall

    from django.core.management import call_command
    from django.utils import timezone

    from bookings.availability import free_slots
    from bookings.models import Appointment, PhoneVerification
    from bookings.services.verification import verification_token_for
    from clinic import gunicorn_conf
    from clinic.models import Location, Practitioner, Service, WorkingHours

    call_command("migrate", verbosity=0)
    location = Location.objects.create(name="Race clinic", slug="race", timezone="Europe/London")
    service = Service.objects.create(
        name="Express facial",
        slug="express",
        duration_minutes=30,
        slot_step_minutes=30,
        min_lead_minutes=0,
    )
    for n in range(4):
        practitioner = Practitioner.objects.create(display_name=f"Practitioner {n}")
        practitioner.locations.add(location)
        practitioner.services.add(service)
        for weekday in range(7):
            WorkingHours.objects.create(
                practitioner=practitioner,
                location=location,
                weekday=weekday,
                start_time=wall(8),
                end_time=wall(20),
            )

    def proven_phone(index: int) -> tuple[str, str]:
        phone = f"+447911{100000 + index:06d}"
        verification = PhoneVerification.objects.create(
            phone=phone,
            code_hash="bench",
            expires_at=timezone.now() + timedelta(minutes=10),
            verified_at=timezone.now(),
            ip="127.0.0.1",
        )
        return phone, verification_token_for(verification=verification)

    today = timezone.localdate(timezone.now(), location.zone)
    slots = free_slots(
        service=service,
        location=location,
        start_date=today + timedelta(days=1),
        end_date=today + timedelta(days=14),
    )
    targets = [
        (slot.start_at, practitioner_id)
        for slot in slots
        for practitioner_id in slot.practitioner_ids
    ]
    # The contested slot is one start with one practitioner: everybody asks for the same one.
    contested, contested_practitioner = targets[0]
    distinct = targets[1:][: args.bookings]
    proofs = [proven_phone(index) for index in range(args.contenders + len(distinct))]

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
            str(gunicorn_conf.workers),
            "--threads",
            str(gunicorn_conf.threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
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

        def payload(
            start: datetime, proof: tuple[str, str], practitioner_id: int | None = None
        ) -> dict:
            phone, token = proof
            return {
                "service": service.pk,
                "location": location.pk,
                "start": start.isoformat(),
                "practitioner": practitioner_id,
                "client": {"first_name": "Bench", "last_name": phone[-4:], "phone": phone},
                "sms_consent": True,
                "verification_token": token,
            }

        # Phase 1: everyone at once for one slot.
        ready = threading.Barrier(args.contenders)

        def contend(proof: tuple[str, str]) -> int:
            with requests.Session() as session:
                session.get(f"{base}/healthz", timeout=10)  # open the connection first
                ready.wait()
                return session.post(
                    f"{base}/api/v1/bookings",
                    json=payload(contested, proof, contested_practitioner),
                    timeout=60,
                ).status_code

        with ThreadPoolExecutor(max_workers=args.contenders) as pool:
            statuses = Counter(pool.map(contend, proofs[: args.contenders]))
        server_errors = sum(count for status, count in statuses.items() if status >= 500)
        print(
            f"gunicorn {gunicorn_conf.workers} workers x {gunicorn_conf.threads} threads;"
            f" same slot, {args.contenders} concurrent clients: {dict(sorted(statuses.items()))}"
        )
        verdict = statuses[201] == 1 and statuses[409] == args.contenders - 1 and server_errors == 0
        print(
            f"  exactly 1 success, {args.contenders - 1} x 409, 0 x 5xx: {'ok' if verdict else 'MISSED'}"
        )

        # Phase 2: distinct slots, as fast as the server takes them.
        bodies = [
            json.dumps(payload(start, proof, practitioner_id))
            for (start, practitioner_id), proof in zip(
                distinct, proofs[args.contenders :], strict=False
            )
        ]
        script = Path(scratch) / "bookings.lua"
        script.write_text(
            "bodies = {\n"
            + "".join(f"[==[{body}]==],\n" for body in bodies)
            + "}\n"
            + WRK_SCRIPT
            + WRK_REPORT
        )
        booked_before = Appointment.objects.count()
        workers = _children(server.pid)
        # Backends live as long as their connections (CONN_MAX_AGE), so those open after the
        # race are the ones the distinct bookings use; new ones are picked up at the end.
        backends_before = _postgres_backends(DATABASE)
        workers_before, backends_cpu_before = _cpu_seconds(workers), _cpu_seconds(backends_before)
        finished = Path(scratch) / "finished"
        finished.touch()
        load = subprocess.Popen(  # noqa: S603 - wrk with fixed arguments
            [
                wrk,
                *("-t", str(args.concurrency), "-c", str(args.concurrency), "-d", "300s"),
                *("--timeout", "10s", "-s", str(script), f"{base}/api/v1/bookings"),
                *("--", str(args.concurrency), str(finished)),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        # wrk sleeps for its whole -d time whatever its threads do; on SIGINT it stops and
        # reports with the time taken so far.
        while len(finished.read_text().splitlines()) < args.concurrency and load.poll() is None:
            clock.sleep(0.01)
        load.send_signal(signal.SIGINT)
        output, _ = load.communicate(timeout=60)
        for refusal in (row for row in output.splitlines() if row.startswith("REFUSED ")):
            print(f"  {refusal}")
        backends = sorted(set(backends_before) | set(_postgres_backends(DATABASE)))
        workers_cpu = _cpu_seconds(workers) - workers_before
        server_cpu = workers_cpu + _cpu_seconds(backends) - backends_cpu_before
        result = wrk_result(output)
        # What the clients were told, checked against what the database holds.
        booked = Appointment.objects.count() - booked_before
        created = result.requests - result.status_errors - result.socket_errors
        print(
            f"{len(bodies)} distinct slots, {args.concurrency} concurrent clients:"
            f" {result.requests} requests, {created} x 201, {result.status_errors} refused,"
            f" {result.socket_errors} socket errors or timeouts;"
            f" {booked} new bookings in the database"
        )
        rate = booked / result.seconds
        p95_ms = result.p95_ms
        print(
            f"  {rate:.1f} bookings/s (target >= {TARGET_RATE}: {'ok' if rate >= TARGET_RATE else 'MISSED'}),"
            f" median latency {result.p50_ms:.0f} ms,"
            f" p95 {p95_ms:.0f} ms (target <= {TARGET_P95_MS}: {'ok' if p95_ms <= TARGET_P95_MS else 'MISSED'}),"
            f" p99 {result.p99_ms:.0f} ms"
        )
        print(
            f"  server CPU per booking: {server_cpu / max(booked, 1) * 1000:.1f} ms"
            f" ({workers_cpu / max(booked, 1) * 1000:.1f} ms gunicorn workers,"
            f" {(server_cpu - workers_cpu) / max(booked, 1) * 1000:.1f} ms PostgreSQL"
            f" backends; load average now"
            f" {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
        )
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
