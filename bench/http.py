"""What the public endpoints sustain over HTTP: gunicorn + PostgreSQL + Redis on this machine.

The demo clinic (``seed_demo``) in a fresh database ``aftercare_bench_http``, served by
gunicorn (the workers and threads bin/web runs, from clinic/gunicorn_conf.py, warmed by
gunicorn.conf.py before they accept), loaded by wrk
with 50 connections for 30 s on each of:

1. ``GET /api/v1/availability`` for a 30-day month of the demo's busiest bookable service;
2. the booking page's time-picker fragment (what HTMX fetches when a client changes week),
   with the cookies the booking page set, as a browser sends them.

Prints requests/s, latency p50/p95/p99 and errors (socket errors, timeouts and non-2xx), and
the server's CPU per request, which does not depend on what else the machine is doing.
Run:  .venv/bin/python bench/http.py  [--duration 30] [--connections 50]
(BENCH_GUNICORN_ARGS, e.g. "--threads 4", adds gunicorn flags to try another setup.)
Needs wrk (Debian package ``wrk``), PostgreSQL at BENCH_PG_ADMIN_URL and Redis at
BENCH_REDIS_URL (default redis://127.0.0.1:6379/5).
Targets: p95 <= 100 ms and 0 errors on both.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time as clock
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and its name would hide the
# standard library's ``http`` package from everything imported below.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).parent]

import requests  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.wrk import WRK_REPORT, wrk_result  # noqa: E402 - needs the checkout on sys.path

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
DATABASE = os.environ.get("BENCH_DB_PREFIX", "aftercare_bench") + "_http"
SECRET_KEY = "bench-http-" + "Qm4!t" * 12
TARGET_P95_MS = 100
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


def _server_pids(server_pid: int) -> list[int]:
    """gunicorn's workers and the PostgreSQL backends serving this database."""
    import psycopg

    try:
        children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    except OSError:
        children = []
    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        backends = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [DATABASE]
        ).fetchall()
    return [int(child) for child in children] + [pid for (pid,) in backends]


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


def _targets(env: dict[str, str]) -> dict[str, tuple[str, dict[str, str]]]:
    """The URLs to load: a month of the service with the most free starts, and its picker."""
    probe = """
import json
from datetime import timedelta
import django
django.setup()
from django.urls import reverse
from django.utils import timezone
from bookings.availability import free_slots
from clinic.models import Location, Service
location = Location.objects.filter(is_active=True).order_by("id").first()
today = timezone.localdate(timezone.now(), location.zone)
start, end = today + timedelta(days=1), today + timedelta(days=30)
services = Service.objects.filter(is_active=True, is_online_bookable=True)
busiest = max(services, key=lambda s: len(free_slots(
    service=s, location=location, start_date=start, end_date=end)))
print(json.dumps({
    "availability": f"/api/v1/availability?service={busiest.pk}&location={location.pk}"
                    f"&from={start}&to={end}",
    "picker": reverse("site-times", args=[location.slug, busiest.slug]) + f"?week={start}",
    "service": busiest.name,
}))
"""
    found = json.loads(
        subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", probe],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    print(f"service: {found['service']}")
    return {
        "GET /api/v1/availability (30 days)": (found["availability"], {}),
        # Only the picker body, as HTMX asks for it when the week changes: from the booking
        # page, which has already given the visitor its CSRF cookie (added in main()).
        "time-picker fragment (HTMX)": (found["picker"], {"HX-Request": "true"}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=30, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    scratch = Path(tempfile.mkdtemp(prefix="aftercare-http-"))
    env = {
        **{key: value for key, value in os.environ.items() if key != "DATABASE_URL"},
        "DATABASE_URL": _recreate_database(),
        "REDIS_URL": REDIS_URL,
        "DEBUG": "0",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "AFTERCARE_VAR_DIR": str(scratch),
        "SMS_BACKEND": "locmem",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    # As bin/release does: with DEBUG off, pages name their static files from the manifest.
    subprocess.run(
        [*manage, "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )  # noqa: S603
    # --force: the demo's published staff password is harmless in this throwaway database.
    subprocess.run(
        [*manage, "seed_demo", "--force"], cwd=ROOT, env=env, check=True, capture_output=True
    )  # noqa: S603
    targets = _targets(env)
    report = scratch / "report.lua"
    report.write_text(WRK_REPORT)

    from clinic import gunicorn_conf

    # The server runs with DEBUG off, hence (gunicorn.conf.py) a listening socket per worker.
    print(f"gunicorn {gunicorn_conf.workers} workers x {gunicorn_conf.threads} threads")
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - fixed command line
        [
            *(sys.executable, "-m", "gunicorn", "clinic.wsgi:application"),
            *("--bind", f"127.0.0.1:{port}"),
            *("--workers", str(gunicorn_conf.workers), "--threads", str(gunicorn_conf.threads)),
            *("--log-level", "warning"),
            *os.environ.get("BENCH_GUNICORN_ARGS", "").split(),
        ],
        cwd=ROOT,  # gunicorn.conf.py (worker warm-up) is read from here
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
        for name, (path, headers) in targets.items():
            if "HX-Request" in headers:
                # The page the fragment belongs to, as a visitor opens it first: the cookies
                # it sets (the CSRF token) go with every fragment request, as a browser's do.
                page = requests.get(f"{base}{path}", timeout=30)
                page.raise_for_status()
                cookies = "; ".join(f"{key}={value}" for key, value in page.cookies.items())
                headers = {**headers, "Cookie": cookies} if cookies else headers
            first = requests.get(f"{base}{path}", headers=headers, timeout=30)
            if first.status_code != 200:
                raise SystemExit(f"{name}: {first.status_code} {first.text[:200]}")
            header_args = [
                item for key, value in headers.items() for item in ("-H", f"{key}: {value}")
            ]
            pids = _server_pids(server.pid)
            cpu_before = _cpu_seconds(pids)
            output = subprocess.run(  # noqa: S603 - wrk with fixed arguments
                [
                    wrk,
                    *("-t", "2", "-c", str(args.connections), "-d", f"{args.duration}s"),
                    *("--timeout", "5s", "-s", str(report), *header_args),
                    f"{base}{path}",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            pids = sorted(set(pids) | set(_server_pids(server.pid)))
            server_cpu = _cpu_seconds(pids) - cpu_before
            result = wrk_result(output)
            rate = result.requests / result.seconds
            errors = result.socket_errors + result.status_errors
            fast = result.p95_ms <= TARGET_P95_MS
            print(
                f"{name}: {len(first.content):,} bytes, {args.connections} connections x"
                f" {args.duration} s: {rate:.0f} req/s, p50 {result.p50_ms:.1f} ms,"
                f" p95 {result.p95_ms:.1f} ms (target <= {TARGET_P95_MS}: {'ok' if fast else 'MISSED'}),"
                f" p99 {result.p99_ms:.1f} ms, errors {errors}"
                f" ({result.socket_errors} socket/timeout, {result.status_errors} non-2xx;"
                f" target 0: {'ok' if errors == 0 else 'MISSED'})"
            )
            print(
                f"  server CPU per request: {server_cpu / max(result.requests, 1) * 1000:.1f} ms"
                " (gunicorn workers + PostgreSQL backends; what the machine's load does not change)"
            )
        print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the end)")
    finally:
        server.terminate()
        server.wait(timeout=20)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
