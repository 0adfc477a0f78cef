"""The SMS pipeline end to end: PostgreSQL, Redis, 2 Celery worker processes, fake Twilio.

1. Unthrottled: N due messages (default 10,000) → msgs/s from first to last acceptance at the
   fake server, duplicates (bodies accepted more than once) and missing (never accepted).
2. Throttled: SMS_RATE_PER_SECOND (default 50) shared by both workers through the Redis token
   bucket → achieved rate and the busiest 1-second window at the fake server.
3. Claim-batch time (one batch of 100, median of repeats, rolled back) with 10,000 vs
   1,000,000 scheduled rows in the table (the partial index on due rows keeps it flat).

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/aftercare_bench_reminders \\
      REDIS_URL=redis://127.0.0.1:6379/1 .venv/bin/python bench/reminders.py
      (--count, --rated-count, --rate, --big to shrink it). The database is created if missing
      and its outbox emptied; the Redis database is flushed. Prints figures; not a test.
Targets: 0 duplicates, 0 missing; ≥ 300 msgs/s unthrottled; throttled ≥ 95 % of the rate and
never above it in any 1-second window; a claim of 100 at 1,000,000 rows ≤ 10 ms, ratio ≤ 2.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

# Run as a script, this folder comes first on sys.path, where bench/http.py would hide the
# standard library's ``http`` package from what is imported below (Django, requests).
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).parent]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLAIM_TARGET_MS = 10
UNTHROTTLED_TARGET = 300  # messages per second, two workers


def _verdict(met: bool) -> str:
    return "ok" if met else "MISSED"


def _delivery(result: dict[str, float]) -> str:
    """Duplicates and missing messages, each against its target of none."""
    return (
        f"duplicates {result['duplicates']} (target 0: {_verdict(not result['duplicates'])}),"
        f" missing {result['missing']} (target 0: {_verdict(not result['missing'])})"
    )


class _ProviderProcess:
    """The fake Twilio server in a process of its own, as the real provider is: inside this
    process it stopped whenever this process collected garbage (about 40 ms for a full
    collection of a Django process), and the texts that arrived meanwhile were counted as
    arriving together."""

    def __init__(self) -> None:
        from tests.fake_twilio import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

        self.account_sid, self.auth_token = DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
        self._process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "tests.fake_twilio", "--port", "0", "--no-callbacks"],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self._process.stderr is not None
        # Its first line: "fake Twilio listening on http://127.0.0.1:PORT (account …)".
        self.url = self._process.stderr.readline().split(" on ", 1)[1].split()[0]
        # Anything it logs later is read and dropped, so that a full pipe never blocks it.
        threading.Thread(target=self._process.stderr.read, daemon=True).start()

    def reset(self) -> None:
        import requests

        requests.post(f"{self.url}/_fake/reset", timeout=10).raise_for_status()

    def accepted_log(self) -> list[dict]:
        import requests

        answer = requests.get(f"{self.url}/_fake/messages", timeout=60)
        answer.raise_for_status()
        return answer.json()["messages"]

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=20)


def _ensure_database(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    import psycopg

    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rated-count", type=int, default=1_000)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--claim-only", action="store_true", help="only part 3, the claim of one batch"
    )
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not database_url.startswith("postgres") or not redis_url:
        sys.stderr.write("Set DATABASE_URL (PostgreSQL) and REDIS_URL.\n")
        return 2
    _ensure_database(database_url)

    fake = _ProviderProcess()
    tmp = tempfile.mkdtemp(prefix="bench-reminders-")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "clinic.settings",
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": fake.account_sid,
            "TWILIO_AUTH_TOKEN": fake.auth_token,
            "TWILIO_FROM_NUMBER": "+447700900001",
            "TWILIO_API_BASE_URL": fake.url,
            "PUBLIC_BASE_URL": "http://127.0.0.1:9",
            "QUIET_HOURS": "03:00-03:01",
            "AFTERCARE_VAR_DIR": tmp,
            "LOG_LEVEL": "WARNING",
            # Production settings, as the other benchmarks use: with DEBUG on, Django wraps
            # every cursor and keeps a log of every query, which is not what a worker pays.
            "DEBUG": "0",
            "ALLOWED_HOSTS": "localhost",
        }
    )
    import django

    django.setup()
    import redis
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from bookings.models import Client
    from clinic.models import Location
    from reminders.dispatch import DispatchReport, messages_claim_due
    from reminders.models import Message
    from reminders.tasks import dispatch_due_messages

    call_command("migrate", verbosity=0)

    def empty_outbox() -> None:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE reminders_message CASCADE")

    empty_outbox()
    broker = redis.Redis.from_url(redis_url)
    broker.flushdb()
    location, _ = Location.objects.get_or_create(slug="bench", defaults={"name": "Bench Clinic"})
    clients = []
    for n in range(100):
        client, _ = Client.objects.get_or_create(
            phone=f"+4477009{n:05d}",
            defaults={"first_name": f"Client{n}", "sms_consent_at": timezone.now()},
        )
        clients.append(client)

    def insert_due(count: int, tag: str) -> None:
        now = timezone.now()
        Message.objects.bulk_create(
            (
                Message(
                    client=clients[n % len(clients)],
                    location=location,
                    category="confirmation",
                    to=clients[n % len(clients)].phone,
                    body=f"{tag} message {n}. Reply STOP to opt out",
                    due_at=now,
                )
                for n in range(count)
            ),
            batch_size=2000,
        )

    worker_log = open(Path(tmp) / "workers.log", "ab")  # noqa: SIM115 - lives for the run
    print(f"worker logs: {worker_log.name}")

    def run_workers(rate: float) -> list[subprocess.Popen]:
        env = {**os.environ, "SMS_RATE_PER_SECOND": str(rate)}
        return [
            subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "clinic",
                    "worker",
                    "--pool=solo",
                    "--loglevel=WARNING",
                    "--without-mingle",
                    "--without-gossip",
                    "-n",
                    f"bench{i}-{rate}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=worker_log,
                stderr=subprocess.STDOUT,
            )
            for i in range(args.workers)
        ]

    def stop(workers: list[subprocess.Popen]) -> None:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()

    def drive(count: int, tag: str, rate: float, timeout: float) -> dict[str, float]:
        fake.reset()
        insert_due(count, tag)
        workers = run_workers(rate)
        try:
            started = time.monotonic()
            while time.monotonic() - started < timeout:
                # Beat's role: keep a nudge queued per worker; each task drains 50 batches.
                if broker.llen("celery") < args.workers:
                    for _ in range(args.workers):
                        dispatch_due_messages.delay()
                if not Message.objects.filter(
                    status__in=["scheduled", "sending"], body__startswith=tag
                ).exists():
                    break
                time.sleep(1.0)
        finally:
            stop(workers)
        log = fake.accepted_log()
        bodies = collections.Counter(entry["body"] for entry in log)
        arrivals = sorted(entry["received_at"] for entry in log)
        span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else float("nan")
        busiest, j = 0, 0
        for i, start in enumerate(arrivals):
            while j < len(arrivals) and arrivals[j] < start + 1.0:
                j += 1
            busiest = max(busiest, j - i)
        statuses = collections.Counter(
            Message.objects.filter(body__startswith=tag).values_list("status", flat=True)
        )
        return {
            "accepted": len(log),
            "duplicates": sum(n - 1 for n in bodies.values() if n > 1),
            "missing": count - len(bodies),
            "rate": (len(arrivals) - 1) / span if span == span and span > 0 else 0.0,
            "busiest_window": busiest,
            "statuses": dict(statuses),
        }

    if not args.claim_only:
        print(f"== 1. unthrottled: {args.count} due messages, {args.workers} workers ==")
        result = drive(args.count, "U", 0, timeout=max(120, args.count / 10))
        print(
            f"accepted {result['accepted']}, {_delivery(result)}, {result['rate']:.0f} msgs/s "
            f"first→last acceptance (target >= {UNTHROTTLED_TARGET}: "
            f"{_verdict(result['rate'] >= UNTHROTTLED_TARGET)}); statuses {result['statuses']}"
        )

        print(f"== 2. throttled: {args.rated_count} messages at SMS_RATE_PER_SECOND={args.rate} ==")
        result = drive(
            args.rated_count, "R", args.rate, timeout=args.rated_count / args.rate * 3 + 60
        )
        share = result["rate"] / args.rate
        print(
            f"accepted {result['accepted']}, {_delivery(result)}, achieved "
            f"{result['rate']:.1f}/s, {share:.1%} of the limit (target >= 95%: "
            f"{_verdict(share >= 0.95)}), busiest 1-second window {result['busiest_window']}"
            f" (target <= {args.rate:.0f}: {_verdict(result['busiest_window'] <= args.rate)})"
        )

    print("== 3. claim one batch of 100: small vs big table of scheduled rows ==")

    def fill_scheduled(total: int) -> None:
        empty_outbox()
        with connection.cursor() as cursor:
            # Future-dated scheduled rows (the next 90 days' reminders), then 1,000 due now.
            cursor.execute(
                """
                INSERT INTO reminders_message (client_id, location_id, category, "to", body,
                    due_at, status, status_reason, provider_status, attempts,
                    was_resent_after_reconciliation, created_at, updated_at, channel, subject)
                SELECT (%s)[1 + g %% 100], %s, 'pre_care', '+447700900000', 'future ' || g,
                    now() + (g %% 129600) * interval '1 minute', 'scheduled', '', '', 0,
                    false, now(), now(), 'sms', ''
                FROM generate_series(1, %s) AS g
                """,
                [[client.pk for client in clients], location.pk, total - 1000],
            )
            cursor.execute(
                """
                INSERT INTO reminders_message (client_id, location_id, category, "to", body,
                    due_at, status, status_reason, provider_status, attempts,
                    was_resent_after_reconciliation, created_at, updated_at, channel, subject)
                SELECT (%s)[1 + g %% 100], %s, 'confirmation', '+447700900000', 'due ' || g,
                    now() - interval '1 minute', 'scheduled', '', '', 0, false, now(), now(),
                    'sms', ''
                FROM generate_series(1, 1000) AS g
                """,
                [[client.pk for client in clients], location.pk],
            )
            cursor.execute("ANALYZE reminders_message")

    def claim_median(repeats: int = 31) -> tuple[float, float]:
        """Median wall time and this process's CPU time of one claim, in ms."""
        timings, cpu = [], []
        for _ in range(repeats):
            with transaction.atomic():
                started, started_cpu = time.perf_counter(), time.process_time()
                messages_claim_due(batch_size=100, report=DispatchReport())
                timings.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
                transaction.set_rollback(True)
        return statistics.median(timings) * 1000, statistics.median(cpu) * 1000

    fill_scheduled(args.small)
    small, _ = claim_median()
    fill_scheduled(args.big)
    big, big_cpu = claim_median()
    print(
        f"claim batch median: {small:.1f} ms at {args.small:,} rows, {big:.1f} ms at "
        f"{args.big:,} rows (target <= {CLAIM_TARGET_MS} ms: "
        f"{_verdict(big <= CLAIM_TARGET_MS)}; {big_cpu:.1f} ms of it Python CPU),"
        f" ratio {big / small:.2f} (target <= 2: {_verdict(big / small <= 2)});"
        f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    empty_outbox()
    fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
