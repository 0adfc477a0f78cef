"""The global send-rate limit shared by every worker process.

A token bucket with a capacity of one token, kept in the GCRA form: Redis stores the
"theoretical arrival time" (TAT) of the next free slot per sender, and a Lua script reserves
slots atomically using Redis's own clock, so all workers on all machines draw from one bucket.
Slots are a little more than 1/rate apart, which is what keeps every 1-second window at or
under the rate (a larger bucket would allow bursts above it), and a sender that wakes late
reserves a new slot instead of sending on top of the next one. Without Redis (development,
unit tests) the same arithmetic runs in a process-local bucket.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from redis.commands.core import Script

# Reserve the next slot: returns microseconds to wait before sending, and the slot itself
# (microseconds on Redis's clock).
_RESERVE_LUA = """
local interval = tonumber(ARGV[1])
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil((tat + interval - now) / 1000) + 1000)
return {tat - now, tat}
"""

# Slots are spaced a little wider than 1/rate: a request's network latency varies, so exact
# spacing could put rate+1 arrivals into some 1-second window at the provider.
SAFETY_MARGIN = 1.03
# A sender that wakes this long after its slot gives the slot up and reserves another. Sent
# late, its text would land just before the next slot's: rate+1 consecutive slots span 1.03 s,
# so a stall of 30 ms across a few slots puts rate+1 arrivals into one second. (Seen in
# bench/reminders.py: a full garbage collection stalled each worker process 50-65 ms, its
# sending threads woke together, and 52 texts reached the provider within a second at a limit
# of 50. Workers now freeze their start-up objects, clinic.warmup.startup_objects_freeze, which
# removed those stalls; this guards against the ones a process cannot prevent, such as the
# host descheduling it.)
LATE_WAKE_TOLERANCE_SECONDS = 0.010
# A stall is rare and brief: one new slot is enough for it. On a host so loaded that the second
# wake is late too, the text goes then: every further slot given up would be a text the
# limit's budget never sends, and the provider queues a brief excess rather than refusing it.
MAX_RESERVATIONS = 2


class LocalBucket:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}

    def reserve(self, key: str, interval: float) -> tuple[float, float]:
        with self._lock:
            now = time.monotonic()
            tat = max(self._tat.get(key, 0.0), now)
            self._tat[key] = tat + interval
            return tat - now, tat


_local_bucket = LocalBucket()
_redis_script = None
_redis_lock = threading.Lock()


def _script() -> Script:
    global _redis_script
    with _redis_lock:
        if _redis_script is None:
            import redis

            connection = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
            _redis_script = connection.register_script(_RESERVE_LUA)
        return _redis_script


def reset_rate_limiter() -> None:
    global _redis_script, _local_bucket
    with _redis_lock:
        _redis_script = None
        _local_bucket = LocalBucket()


@dataclass(frozen=True)
class Reservation:
    wait_seconds: float
    # When the slot starts, in seconds on the bucket's clock (Redis TIME, or this process's
    # monotonic clock): slots for one sender are never closer than 1.03/rate.
    slot_at: float


def rate_limit_reserve(*, sender_key: str, rate_per_second: float) -> Reservation:
    """Reserve the next send slot for ``sender_key`` (shared by every worker through Redis)."""
    interval = SAFETY_MARGIN / rate_per_second
    key = f"aftercare:sms-rate:{sender_key}"
    if settings.REDIS_URL:
        wait, slot = _script()(keys=[key], args=[int(interval * 1_000_000)])
        return Reservation(int(wait) / 1_000_000, int(slot) / 1_000_000)
    wait, slot = _local_bucket.reserve(key, interval)
    return Reservation(wait, slot)


def rate_limit_wait(*, sender_key: str, rate_per_second: float | None = None) -> float:
    """Block until this process may send one more message for ``sender_key``: the start of a
    reserved slot, and not much after it (a late wake reserves a new slot). Returns the seconds
    waited. A rate of 0 means unthrottled."""
    rate = settings.SMS_RATE_PER_SECOND if rate_per_second is None else rate_per_second
    if not rate:
        return 0.0
    started = time.monotonic()
    for _ in range(MAX_RESERVATIONS):
        wait = rate_limit_reserve(sender_key=sender_key, rate_per_second=rate).wait_seconds
        slot_starts = time.monotonic() + max(wait, 0.0)
        if wait > 0:
            time.sleep(wait)
        if time.monotonic() - slot_starts <= LATE_WAKE_TOLERANCE_SECONDS:
            break
    return time.monotonic() - started
