"""How fast is ``free_slots``, and does it stay fast as the appointment table grows?

Scenario: 10 practitioners and 3 rooms on a 60-day rota; a 60-minute treatment (15 min
buffer) searched over the next 30 days across all practitioners. The next 60 days are about
half booked (as busy as a real clinic gets); every other appointment is history before today,
so 2,000 vs 20,000 rows measures how the engine scales with the table, not with a calendar
that cannot physically hold 20,000 visits in a month.

A second question asks the same table for one practitioner only: a 30-minute service that needs
no room, on a solo practitioner's 09:00-17:00 daily rota (about a fifth of the future rows are
theirs), over the same 30 days.

Run:  .venv/bin/python bench/availability.py            (SQLite, and PostgreSQL if reachable)
      .venv/bin/python bench/availability.py --database sqlite
Targets (medians): all practitioners at 2,000 appointments <= 3 ms on SQLite, <= 4.5 ms on
PostgreSQL; one practitioner <= 1.5 ms / <= 2.5 ms; 20,000/2,000 ratio <= 1.1; the same number
of queries at both table sizes.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time as clock
from pathlib import Path

# Run as a script, this folder comes first on sys.path, where bench/http.py would hide the
# standard library's ``http`` package from what is imported below (Django, requests).
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).parent]

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_BENCH_DB = os.environ.get("BENCH_DB_PREFIX", "aftercare_bench") + "_availability"


def run_backend(database: str, sizes: list[int], repeats: int) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from bookings.availability import free_slots
    from bookings.models import Appointment, Client
    from clinic.models import Location, Practitioner, Room, Service, WorkingHours

    london = ZoneInfo("Europe/London")
    call_command("migrate", verbosity=0)

    for size in sizes:
        Appointment.objects.all().delete()
        Client.objects.all().delete()
        WorkingHours.objects.all().delete()
        Practitioner.objects.all().delete()
        Service.objects.all().delete()
        Room.objects.all().delete()
        Location.objects.all().delete()

        today = timezone.localdate(timezone.now(), london)
        location = Location.objects.create(
            name="Bench clinic", slug="bench", timezone="Europe/London"
        )
        rooms = [Room.objects.create(location=location, name=f"Room {n}") for n in range(3)]
        service = Service.objects.create(
            name="Micro-needling",
            slug="bench-mn",
            duration_minutes=60,
            buffer_after_minutes=15,
            min_lead_minutes=0,
            horizon_days=120,
        )
        service.rooms.set(rooms)
        practitioners = []
        for n in range(10):
            practitioner = Practitioner.objects.create(display_name=f"Practitioner {n}")
            practitioner.locations.add(location)
            practitioner.services.add(service)
            practitioners.append(practitioner)
            for weekday in range(6):
                if (weekday + n) % 7 == 6:
                    continue
                WorkingHours.objects.create(
                    practitioner=practitioner,
                    location=location,
                    weekday=weekday,
                    start_time=time(9),
                    end_time=time(18),
                    valid_from=today - timedelta(days=3000),
                    valid_until=today + timedelta(days=60),
                )
        # The one-practitioner question: a 30-minute service without a room, on a 09:00-17:00
        # rota every day, asked of this practitioner only.
        short_service = Service.objects.create(
            name="Consultation",
            slug="bench-consult",
            duration_minutes=30,
            slot_step_minutes=30,
            min_lead_minutes=0,
            horizon_days=120,
        )
        solo = Practitioner.objects.create(display_name="Solo practitioner")
        solo.locations.add(location)
        solo.services.add(short_service)
        for weekday in range(7):
            WorkingHours.objects.create(
                practitioner=solo,
                location=location,
                weekday=weekday,
                start_time=time(9),
                end_time=time(17),
                valid_from=today - timedelta(days=3000),
                valid_until=today + timedelta(days=60),
            )
        # One client per practitioner: a client's active visits may not overlap (the
        # exclusion constraint appointment_no_client_overlap), and one practitioner's never do.
        clients = {
            practitioner.pk: Client.objects.create(
                first_name="Bench", phone=f"+4479110000{number:02d}"
            )
            for number, practitioner in enumerate([*practitioners, solo])
        }
        # Half of the solo practitioner's 30-minute positions in the window are booked.
        solo_rows = [
            datetime.combine(
                today + timedelta(days=day_offset), time(9 + k // 2, 30 * (k % 2)), tzinfo=london
            )
            for day_offset in range(1, 32)
            for k in range(16)
            if (k + day_offset) % 2 == 0
        ]

        # Each practitioner-day has six 75-minute positions (09:00..16:30); half the future ones
        # are taken (alternating), the rest of the rows are history before today.
        positions = [time(9 + (75 * k) // 60, (75 * k) % 60) for k in range(6)]
        future_rows = []
        for day_offset in range(1, 61):
            day = today + timedelta(days=day_offset)
            for k, wall in enumerate(positions):
                rooms_used = 0
                for index, practitioner in enumerate(practitioners):
                    if (k + index + day_offset) % 2:
                        continue
                    # About a third of visits need a room (3 rooms for 10 practitioners).
                    room = None
                    if (index + k) % 3 == 0 and rooms_used < len(rooms):
                        room, rooms_used = rooms[rooms_used], rooms_used + 1
                    future_rows.append(
                        (practitioner, room, datetime.combine(day, wall, tzinfo=london))
                    )
        history_rows = []
        day_offset = 1
        while len(future_rows) + len(history_rows) < size:
            day = today - timedelta(days=day_offset)
            for index, practitioner in enumerate(practitioners):
                for k, wall in enumerate(positions):
                    history_rows.append(
                        (
                            practitioner,
                            rooms[(index + k) % 3] if k % 2 == 0 else None,
                            datetime.combine(day, wall, tzinfo=london),
                        )
                    )
            day_offset += 1
        rows = (future_rows + history_rows)[: size - len(solo_rows)]
        Appointment.objects.bulk_create(
            [
                Appointment(
                    client=clients[solo.pk],
                    service=short_service,
                    practitioner=solo,
                    location=location,
                    start_at=start,
                    end_at=start + timedelta(minutes=30),
                    blocked_start_at=start,
                    blocked_end_at=start + timedelta(minutes=30),
                    status="booked",
                )
                for start in solo_rows
            ]
        )
        Appointment.objects.bulk_create(
            [
                Appointment(
                    client=clients[practitioner.pk],
                    service=service,
                    practitioner=practitioner,
                    room=room if start.date() > today else None,
                    location=location,
                    start_at=start,
                    end_at=start + timedelta(minutes=60),
                    blocked_start_at=start,
                    blocked_end_at=start + timedelta(minutes=75),
                    status="booked" if start.date() > today else "completed",
                )
                for practitioner, room, start in rows
            ],
            batch_size=2000,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "ANALYZE bookings_appointment" if connection.vendor == "postgresql" else "ANALYZE"
            )

        window_start = today + timedelta(days=1)
        window_end = today + timedelta(days=30)
        in_window = sum(1 for row in rows if window_start <= row[2].date() <= window_end) + sum(
            1 for start in solo_rows if window_start <= start.date() <= window_end
        )
        solo_in_window = sum(1 for start in solo_rows if window_start <= start.date() <= window_end)
        # Leave the process as a server would be: no bulk-load garbage for the collector to walk,
        # and (SQLite) the write-ahead log folded back into the database file.
        del rows, future_rows, history_rows
        gc.collect()
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        questions = {
            "all": {"service": service, "practitioner": None},
            "one": {"service": short_service, "practitioner": solo},
        }
        for name, question in questions.items():
            # One untimed call warms caches (zoneinfo, prepared statements) as a running server
            # has; it also counts the queries.
            with CaptureQueriesContext(connection) as queries:
                free_slots(
                    location=location, start_date=window_start, end_date=window_end, **question
                )
            timings, cpu = [], []
            slot_count = 0
            server_ticks = _server_cpu_ticks()
            for _ in range(repeats):
                started, started_cpu = clock.perf_counter(), clock.process_time()
                slots = free_slots(
                    location=location, start_date=window_start, end_date=window_end, **question
                )
                timings.append((clock.perf_counter() - started) * 1000)
                cpu.append((clock.process_time() - started_cpu) * 1000)
                slot_count = len(slots)
            median = statistics.median(timings)
            server_cpu = ""
            if server_ticks is not None:
                used = (_server_cpu_ticks() or 0) - server_ticks
                # A mean, not a median: /proc counts in clock ticks, far coarser than one call.
                server_cpu = f"  server cpu mean={used * 1000 / TICKS_PER_SECOND / repeats:5.2f} ms"
            label = "10 practitioners" if name == "all" else "1 practitioner "
            rows_note = in_window if name == "all" else solo_in_window
            print(
                f"{database:10} {label} appointments={size:>6} (theirs in window: {rows_note:>5})"
                f"  slots={slot_count:>5}  queries={len(queries):>2}  median={median:7.2f} ms"
                f"  p90={sorted(timings)[int(len(timings) * 0.9) - 1]:7.2f} ms"
                # This process's CPU: on SQLite all of the work, on PostgreSQL all but the
                # server's (printed apart); unlike the wall clock it does not grow when the
                # machine is busy.
                f"  cpu median={statistics.median(cpu):7.2f} ms{server_cpu}"
            )
            print(f"RESULT {database} {name} {size} {median:.3f} {len(queries)}", flush=True)


TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _server_cpu_ticks() -> int | None:
    """CPU (user + system clock ticks) of this connection's PostgreSQL backend so far, when the
    server runs on this machine; None on SQLite (whose work is all this process's)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # a server elsewhere
        return None
    return int(fields[11]) + int(fields[12])


# Medians in ms at 2,000 appointments, per backend and question.
TARGETS = {
    ("sqlite", "all"): 3.0,
    ("postgres", "all"): 4.5,
    ("sqlite", "one"): 1.5,
    ("postgres", "one"): 2.5,
}
RATIO_TARGET = 1.1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--repeats", type=int, default=201)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [2000, 20000]
    if args.worker:
        run_backend(args.database, sizes, args.repeats)
        return

    backends = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    medians: dict[tuple[str, str], dict[int, tuple[float, int]]] = {}
    for backend in backends:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "REDIS_URL"}
        }
        with tempfile.TemporaryDirectory() as scratch:
            env["AFTERCARE_VAR_DIR"] = scratch
            # Production settings: with DEBUG on, Django keeps a log of every query.
            env.update(
                {
                    "DEBUG": "0",
                    "SECRET_KEY": "bench-" + "x7Kq2" * 12,
                    "ALLOWED_HOSTS": "localhost",
                    "SMS_BACKEND": "locmem",
                }
            )
            if backend == "postgres":
                if not _recreate_postgres_database():
                    print("postgres   skipped: no PostgreSQL at BENCH_PG_ADMIN_URL")
                    continue
                env["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_BENCH_DB
            output = subprocess.run(  # noqa: S603 - our own script
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    "--database",
                    backend,
                    "--repeats",
                    str(args.repeats),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if output.returncode != 0:
                sys.stderr.write(output.stdout + output.stderr)
                raise SystemExit(f"{backend} worker failed (exit {output.returncode})")
        for line in output.stdout.splitlines():
            if line.startswith("RESULT "):
                _, database, question, size, median, queries = line.split()
                medians.setdefault((database, question), {})[int(size)] = (
                    float(median),
                    int(queries),
                )
            else:
                print(line)
    print()
    for (database, question), by_size in medians.items():
        (small, small_queries), (big, big_queries) = by_size[2000], by_size[20000]
        target = TARGETS[(database, question)]
        ratio = big / small
        label = "10 practitioners" if question == "all" else "1 practitioner "
        print(
            f"{database:10} {label} median at 2,000: {small:.2f} ms"
            f" (target <= {target} ms: {'ok' if small <= target else 'MISSED'})"
            f"   20,000/2,000 ratio: {ratio:.2f}"
            f" (target <= {RATIO_TARGET}: {'ok' if ratio <= RATIO_TARGET else 'MISSED'})"
            f"   queries {small_queries}/{big_queries}"
            f" (constant: {'ok' if small_queries == big_queries else 'MISSED'})"
        )


def _recreate_postgres_database() -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB}")
            admin.execute(f"CREATE DATABASE {PG_BENCH_DB}")
    except psycopg.Error:
        return False
    return True


if __name__ == "__main__":
    main()
