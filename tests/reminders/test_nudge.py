"""reminders.services.nudge: at most one dispatch nudge per interval per process, and a commit
skips only while a nudge this process published is still pending (it starts after the
commit, so it sees the commit's rows). The rule is played with a fake clock."""

from __future__ import annotations

import itertools
import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from reminders.services import nudge
from reminders.services.nudge import DispatchNudger

INTERVAL = 0.25


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def published() -> list[float | None]:
    return []


@pytest.fixture
def nudger(clock, published) -> DispatchNudger:
    return DispatchNudger(publish=published.append, clock=clock)


def test_a_commit_in_a_quiet_process_nudges_at_once_without_an_eta(nudger, published):
    assert nudger.after_commit(interval_seconds=INTERVAL)

    assert published == [None]


def test_a_commit_soon_after_a_nudge_gets_one_due_an_interval_after_it(nudger, clock, published):
    nudger.after_commit(interval_seconds=INTERVAL)  # at 1000.0, runs at once
    clock.now += 0.01

    nudger.after_commit(interval_seconds=INTERVAL)

    # The first may already be running, so it cannot be relied on: the next one is due one
    # interval after it, within an interval of this commit.
    assert published == [None, pytest.approx(1_000.25)]


def test_commits_while_a_nudge_is_pending_send_nothing(nudger, clock, published):
    nudger.after_commit(interval_seconds=INTERVAL)
    clock.now += 0.01
    nudger.after_commit(interval_seconds=INTERVAL)  # due at 1000.25
    for _ in range(20):
        clock.now += 0.01  # up to 1000.21, before the pending one is due
        assert not nudger.after_commit(interval_seconds=INTERVAL)

    assert len(published) == 2


def test_a_commit_at_the_pending_nudges_eta_gets_a_new_one(nudger, clock, published):
    nudger.after_commit(interval_seconds=INTERVAL)
    clock.now += 0.01
    nudger.after_commit(interval_seconds=INTERVAL)  # due at 1000.25
    clock.now = 1_000.25  # that nudge may be starting now

    assert nudger.after_commit(interval_seconds=INTERVAL)

    assert published[-1] == pytest.approx(1_000.5)


def test_a_commit_long_after_the_last_nudge_nudges_at_once(nudger, clock, published):
    nudger.after_commit(interval_seconds=INTERVAL)
    clock.now += 0.01
    nudger.after_commit(interval_seconds=INTERVAL)
    clock.now += 5

    nudger.after_commit(interval_seconds=INTERVAL)

    assert published[-1] is None


def test_no_commit_waits_longer_than_the_interval_and_nudges_run_an_interval_apart(clock):
    """Whatever the pattern of commits, each is covered by a nudge published at or after it and
    due no later than one interval after it; and nudges are due at least an interval apart."""
    nudges: list[tuple[float, float]] = []  # (published at, runs from)

    def publish(eta: float | None) -> None:
        nudges.append((clock.now, clock.now if eta is None else eta))

    nudger = DispatchNudger(publish=publish, clock=clock)
    pattern = random.Random(16)  # noqa: S311 - a repeatable pattern of commits, not a secret
    for _ in range(2_000):
        clock.now += pattern.choice([0.0, 0.001, 0.003, 0.005, 0.01, 0.02, 0.07, 0.25, 0.3])
        committed_at = clock.now
        nudger.after_commit(interval_seconds=INTERVAL)
        runs_from = min(at for sent, at in nudges if sent <= committed_at <= at)
        assert runs_from - committed_at <= INTERVAL + 1e-9

    due = [at for _, at in nudges]
    assert all(later - earlier >= INTERVAL - 1e-9 for earlier, later in itertools.pairwise(due))
    assert len(nudges) < 2_000 / 2


def test_with_an_interval_of_zero_every_commit_nudges_at_once(nudger, clock, published):
    for _ in range(5):
        nudger.after_commit(interval_seconds=0)
        clock.now += 0.001

    assert published == [None] * 5


def test_a_clock_set_back_does_not_stretch_a_skip(nudger, clock, published):
    nudger.after_commit(interval_seconds=INTERVAL)
    clock.now += 0.01
    nudger.after_commit(interval_seconds=INTERVAL)  # due at 1000.25
    clock.now -= 3600

    nudger.after_commit(interval_seconds=INTERVAL)

    assert published[-1] is None


def test_a_failed_publish_is_forgotten_so_the_next_commit_nudges_again(clock):
    attempts: list[float | None] = []

    def broker_down_once(eta: float | None) -> None:
        attempts.append(eta)
        if len(attempts) == 2:
            raise ConnectionError("broker unreachable")

    nudger = DispatchNudger(publish=broker_down_once, clock=clock)
    nudger.after_commit(interval_seconds=INTERVAL)
    clock.now += 0.01
    with pytest.raises(ConnectionError):
        nudger.after_commit(interval_seconds=INTERVAL)
    clock.now += 0.01

    assert nudger.after_commit(interval_seconds=INTERVAL)
    assert len(attempts) == 3


def test_threads_committing_at_once_publish_one_nudge_for_the_pending_interval(clock):
    published: list[float | None] = []
    nudger = DispatchNudger(publish=published.append, clock=clock)
    nudger.after_commit(interval_seconds=INTERVAL)
    clock.now += 0.01
    start = threading.Barrier(8)

    def commit() -> None:
        start.wait()
        for _ in range(50):
            nudger.after_commit(interval_seconds=INTERVAL)

    threads = [threading.Thread(target=commit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert published == [None, pytest.approx(1_000.25)]


def test_a_forked_child_starts_with_nothing_pending(nudger, clock, published):
    nudger.after_commit(interval_seconds=INTERVAL)
    clock.now += 0.01
    nudger.after_commit(interval_seconds=INTERVAL)
    nudger._lock.acquire()  # held by a thread that the child will not have

    nudger.forget()

    assert nudger.after_commit(interval_seconds=INTERVAL)
    assert published[-1] is None


@pytest.fixture
def dispatch_task_calls(monkeypatch) -> list[dict[str, object]]:
    """The dispatcher's task as the process-wide nudger publishes it, with a fresh nudger."""
    from reminders.tasks import dispatch_due_messages

    calls: list[dict[str, object]] = []
    monkeypatch.setattr(dispatch_due_messages, "delay", lambda: calls.append({}))
    monkeypatch.setattr(dispatch_due_messages, "apply_async", lambda **kw: calls.append(kw))
    monkeypatch.setattr(nudge, "_nudger", DispatchNudger(publish=nudge._publish_dispatch))
    return calls


NOON = datetime(2026, 5, 1, 12, tzinfo=UTC)


@time_machine.travel(NOON, tick=False)
@pytest.mark.django_db
def test_commits_in_a_burst_publish_the_task_once_now_and_once_with_an_eta(
    dispatch_task_calls, settings, django_capture_on_commit_callbacks
):
    settings.DISPATCH_NUDGE_INTERVAL_MS = 250
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            nudge.nudge_dispatch_on_commit()

    assert dispatch_task_calls == [{}, {"eta": NOON + timedelta(milliseconds=250)}]


@pytest.mark.django_db
def test_eager_tasks_are_run_on_every_commit(
    dispatch_task_calls, settings, django_capture_on_commit_callbacks
):
    from clinic.celery import app

    settings.DISPATCH_NUDGE_INTERVAL_MS = 250
    app.conf.task_always_eager = True
    try:
        for _ in range(3):
            with django_capture_on_commit_callbacks(execute=True):
                nudge.nudge_dispatch_on_commit()
    finally:
        app.conf.task_always_eager = False

    assert dispatch_task_calls == [{}, {}, {}]


@pytest.mark.django_db
def test_a_broker_error_is_logged_not_raised(
    settings, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def broker_down(eta: float | None) -> None:
        raise ConnectionError("broker unreachable")

    settings.DISPATCH_NUDGE_INTERVAL_MS = 250
    monkeypatch.setattr(nudge, "_nudger", DispatchNudger(publish=broker_down))
    with django_capture_on_commit_callbacks(execute=True):
        nudge.nudge_dispatch_on_commit()

    assert "dispatch nudge failed" in caplog.text
