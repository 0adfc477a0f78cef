"""The CPU a booking spends planning its outbox messages, in one process on PostgreSQL.

``POST /api/v1/bookings`` through Django's test client (no server, no network), one booking at
a time, each a new client with a proven phone booking a distinct slot of a treatment (the
default protocol plans its confirmation, pre-care, day-before, aftercare and downtime texts).
Per booking it records the process's CPU time (``time.process_time``) for the whole request and
for the planning inside it (``reminders.services.messages_plan_for_appointment``), and the
PostgreSQL backend's CPU from /proc.

With ``--baseline REV`` the planning module of that revision (``reminders/services/planning.py``
as committed there) is loaded next to the current one and the bookings alternate between the
two, so both see the same machine: the medians of each are printed side by side. ``--profile``
prints a cProfile of the planning calls instead.

Run:  BENCH_DB_PREFIX=aftercare_me BENCH_REDIS_URL=redis://127.0.0.1:6379/N \\
      .venv/bin/python bench/booking_planning.py [--bookings 400] [--baseline main] [--profile]
The database ``<prefix>_planning`` is dropped and created. Prints figures; not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import time
import types
from collections import defaultdict
from pathlib import Path
from typing import Any

# Run as a script, this folder comes first on sys.path, where bench/http.py would hide the
# standard library's ``http`` package from what is imported below (Django).
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).parent]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE = os.environ.get("BENCH_DB_PREFIX", "aftercare_bench") + "_planning"
SECRET_KEY = "bench-planning-" + "Zq8#w" * 12
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _recreate_database() -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + DATABASE


def _process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


# The modules whose committed versions a baseline run loads (those that differ from the
# working tree): the planning and what it calls for rules, bodies and inserts.
BASELINE_MODULES = (
    "clinic.db",
    "reminders.rendering",
    "reminders.rulebook",
    "reminders.services.email_channel",
    "reminders.services.planning",
)


def _baseline_planning(revision: str) -> Any:
    """``reminders.services.planning`` as committed at ``revision``, calling the versions of
    ``BASELINE_MODULES`` committed there (modules of their own, next to the current ones)."""
    loaded: dict[str, Any] = {}
    for name in BASELINE_MODULES:
        path = name.replace(".", "/") + ".py"
        source = subprocess.run(  # noqa: S603 - fixed command line
            ["git", "show", f"{revision}:{path}"],  # noqa: S607
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        if source == (ROOT / path).read_text() and name != "reminders.services.planning":
            continue
        module = types.ModuleType(f"baseline.{name}")
        sys.modules[module.__name__] = module  # dataclasses look their module up
        exec(compile(source, f"{revision}:{path}", "exec"), module.__dict__)  # noqa: S102
        loaded[name] = module
    # What a baseline module imported from a current one it replaces: the baseline's own.
    for module in loaded.values():
        for attribute, value in list(vars(module).items()):
            home = loaded.get(getattr(value, "__module__", ""))
            if home is not None and hasattr(home, attribute):
                setattr(module, attribute, getattr(home, attribute))
    print(f"baseline {revision}: {', '.join(loaded)}")
    return loaded["reminders.services.planning"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bookings", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--baseline", help="a revision whose planning module to compare with")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--email", action="store_true", help="clients also agree to email")
    args = parser.parse_args()

    env = {
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5"),
        "DATABASE_URL": _recreate_database(),
        "DEBUG": "0",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        "SMS_BACKEND": "locmem",
        "LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
    }
    os.environ.update(env)
    import django

    django.setup()
    import json
    from datetime import time as wall
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client as TestClient
    from django.utils import timezone

    import reminders.services
    from bookings.availability import free_slots
    from bookings.models import PhoneVerification
    from bookings.services.verification import verification_token_for
    from clinic.models import Location, Practitioner, Service, WorkingHours
    from reminders.models import Message

    call_command("migrate", verbosity=0)
    location = Location.objects.create(
        name="Planning clinic", slug="planning", timezone="Europe/London"
    )
    service = Service.objects.create(
        name="Micro-needling",
        slug="microneedling",
        duration_minutes=30,
        slot_step_minutes=30,
        min_lead_minutes=0,
        kind=Service.Kind.TREATMENT,
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
    total = args.warmup + args.bookings
    today = timezone.localdate(timezone.now(), location.zone)
    slots = free_slots(
        service=service,
        location=location,
        start_date=today + timedelta(days=3),
        end_date=today + timedelta(days=40),
    )
    targets = [(slot.start_at, pid) for slot in slots for pid in slot.practitioner_ids][:total]
    if len(targets) < total:
        raise SystemExit(f"only {len(targets)} free slots for {total} bookings")

    def body(index: int) -> str:
        start_at, practitioner_id = targets[index]
        phone = f"+447911{200000 + index:06d}"
        verification = PhoneVerification.objects.create(
            phone=phone,
            code_hash="bench",
            expires_at=timezone.now() + timedelta(hours=2),
            verified_at=timezone.now(),
            ip="127.0.0.1",
        )
        return json.dumps(
            {
                "service": service.pk,
                "location": location.pk,
                "start": start_at.isoformat(),
                "practitioner": practitioner_id,
                "client": {
                    "first_name": "Bench",
                    "last_name": phone[-4:],
                    "phone": phone,
                    "email": f"c{index}@example.com" if args.email else "",
                },
                "sms_consent": True,
                "email_consent": args.email,
                "verification_token": verification_token_for(verification=verification),
            }
        )

    bodies = [body(index) for index in range(total)]

    current = reminders.services.messages_plan_for_appointment
    planners = {"current": current}
    if args.baseline:
        baseline = _baseline_planning(args.baseline)
        planners = {"baseline": baseline.messages_plan_for_appointment}
        planners["current"] = current
    # CPU time, not wall time: waits for PostgreSQL and Redis are not this process's cost.
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    planning_cpu: list[float] = []

    def timed(plan):  # type: ignore[no-untyped-def]
        def plan_timed(**kwargs):  # type: ignore[no-untyped-def]
            if profiler is not None:
                profiler.enable()
            started = time.process_time()
            try:
                return plan(**kwargs)
            finally:
                planning_cpu.append(time.process_time() - started)
                if profiler is not None:
                    profiler.disable()

        return plan_timed

    timed_planners = {name: timed(plan) for name, plan in planners.items()}
    http = TestClient()
    http.get("/healthz")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend_pid,) = cursor.fetchone()
    figures: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    names = list(timed_planners)
    messages_before = Message.objects.count()
    for index, payload in enumerate(bodies):
        name = names[index % len(names)]
        reminders.services.messages_plan_for_appointment = timed_planners[name]
        planning_cpu.clear()
        backend_before = _process_cpu(backend_pid)
        started = time.process_time()
        response = http.post("/api/v1/bookings", payload, content_type="application/json")
        request_cpu = time.process_time() - started
        backend_cpu = _process_cpu(backend_pid) - backend_before
        if response.status_code != 201:
            raise SystemExit(f"booking {index}: {response.status_code} {response.content[:300]!r}")
        if index < args.warmup:
            continue
        figures[name]["request"].append(request_cpu * 1000)
        figures[name]["planning"].append(sum(planning_cpu) * 1000)
        figures[name]["backend"].append(backend_cpu * 1000)
    reminders.services.messages_plan_for_appointment = current
    planned = Message.objects.count() - messages_before
    print(
        f"{total} bookings ({args.warmup} warm-up), {planned / total:.1f} messages planned a"
        f" booking{' (clients agreed to email)' if args.email else ''}; CPU ms, median [p25-p75]"
    )
    for name, series in figures.items():
        parts = []
        for phase in ("request", "planning", "backend"):
            values = sorted(series[phase])
            q = statistics.quantiles(values, n=4)
            parts.append(f"{phase} {statistics.median(values):.2f} [{q[0]:.2f}-{q[2]:.2f}]")
        print(f"  {name:8s} ({len(series['request'])} bookings): " + "; ".join(parts))
    print("  (backend: PostgreSQL's CPU from /proc, in clock ticks of 10 ms: a mean is")
    print(
        "   "
        + ", ".join(
            f"{name} {statistics.fmean(series['backend']):.2f}" for name, series in figures.items()
        )
        + ")"
    )
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
