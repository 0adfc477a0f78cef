"""The shared SMS rate limit: slots for one sender are never closer than 1.03/rate, whoever
reserves them. Checked on the slots themselves (exact arithmetic), not on arrival times."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from reminders.ratelimit import SAFETY_MARGIN, rate_limit_reserve

RATE = 10
CALLERS = 4
EACH = 15


def _slots_reserved_at_once() -> list[float]:
    sender = f"test-{uuid.uuid4().hex}"
    everyone_ready = threading.Barrier(CALLERS, timeout=30)

    def caller(_: int) -> list[float]:
        everyone_ready.wait()
        return [
            rate_limit_reserve(sender_key=sender, rate_per_second=RATE).slot_at for _ in range(EACH)
        ]

    with ThreadPoolExecutor(max_workers=CALLERS) as pool:
        return sorted(slot for slots in pool.map(caller, range(CALLERS)) for slot in slots)


def _assert_spaced(slots: list[float]) -> None:
    assert len(slots) == CALLERS * EACH
    gaps = [later - earlier for earlier, later in zip(slots, slots[1:], strict=False)]
    # Microsecond rounding on Redis's side; otherwise exactly one interval or more.
    assert min(gaps) >= SAFETY_MARGIN / RATE - 2e-6
    # So no 1-second window holds more than RATE slots.
    assert (
        max(sum(1 for other in slots[i:] if other < start + 1.0) for i, start in enumerate(slots))
        <= RATE
    )


def test_slots_from_concurrent_callers_in_one_process_are_spaced():
    _assert_spaced(_slots_reserved_at_once())


@pytest.mark.integration
def test_slots_from_concurrent_callers_sharing_redis_are_spaced(settings):
    from reminders.ratelimit import reset_rate_limiter

    reset_rate_limiter()  # the Redis script for this test's REDIS_URL
    _assert_spaced(_slots_reserved_at_once())


def _wait_with_stalls(monkeypatch, stalls: list[float]) -> tuple[float, float]:
    """Reserve one slot, then wait for the next with each sleep overrunning by the next of
    ``stalls`` (a stalled process wakes late). Returns how many intervals after the first slot
    the wait returned, and how many after it the next free slot starts."""
    from reminders import ratelimit

    sender = f"test-{uuid.uuid4().hex}"
    interval = SAFETY_MARGIN / RATE
    real_sleep = time.sleep
    overruns = iter(stalls)
    monkeypatch.setattr(ratelimit.time, "sleep", lambda s: real_sleep(s + next(overruns, 0.0)))
    first = rate_limit_reserve(sender_key=sender, rate_per_second=RATE)
    first_slot_local = time.monotonic() + first.wait_seconds
    ratelimit.rate_limit_wait(sender_key=sender, rate_per_second=RATE)
    returned = (time.monotonic() - first_slot_local) / interval
    following = rate_limit_reserve(sender_key=sender, rate_per_second=RATE)
    return returned, (following.slot_at - first.slot_at) / interval


def test_a_sender_on_time_uses_the_next_slot(monkeypatch):
    returned, next_free = _wait_with_stalls(monkeypatch, [])
    assert 1 <= returned < 1.5
    assert next_free == pytest.approx(2)


def test_a_sender_that_wakes_late_reserves_a_new_slot_instead_of_crowding_the_next(
    monkeypatch,
):
    # 50 ms late on its slot: it gives the slot up and sends on the one after.
    returned, next_free = _wait_with_stalls(monkeypatch, [0.05])
    assert 2 <= returned < 2.5
    assert next_free == pytest.approx(3)


def test_a_sender_always_late_still_sends_after_a_few_slots(monkeypatch):
    from reminders.ratelimit import MAX_RESERVATIONS

    _, next_free = _wait_with_stalls(monkeypatch, [0.05] * 20)
    assert next_free == pytest.approx(MAX_RESERVATIONS + 1)
