"""A short-lived shared cache of whole availability answers, invalidated by calendar changes.

``GET /api/v1/availability`` for a month costs several milliseconds of CPU; the same month is
asked for again and again between two bookings. ``cached_answer(key, compute)`` keeps the
answer's bytes in the shared cache (Redis) under the question, together with the calendar
generations it was computed in, and gives it out only while those are the current ones:

* a generation token per location, replaced by every change to an appointment there;
* one token for everything else availability reads (working hours, time off, practitioners
  and what they do and where, rooms, services and their rooms, locations).

Each process also keeps copies of the answers it has read or computed (``_KeptHere``, bounded
by ``AVAILABILITY_PROCESS_CACHE_BYTES``) and uses one under exactly the same conditions, the
current generations being read from the shared cache for every request: only the answer's
bytes stop crossing from Redis, never the check.

Why an answer is never stale under current tokens (the same argument as reminders.rulebook):

1. A change replaces its tokens **after its transaction commits** (``on_commit``; at once when
   it is not in a transaction), one cache write per change.
2. A reader reads the tokens **before** it computes, and stores the answer under the tokens
   it read. Its queries run after that read and, under READ COMMITTED (Django's default; no
   request-wide snapshot), see every change committed before them. So if a change is missing
   from the answer, the change committed after the reader's queries began, hence its
   after-commit replacement came after the reader read the tokens: the tokens the answer is
   stored under are already retired, or will be as soon as that replacement runs.
3. Nothing is replaced before the commit: a reader that computes meanwhile sees the calendar
   without the change and stores it under the current tokens, which the after-commit
   replacement retires (replacing them early as well only made such readers compute the same
   answer again, for a second round trip per booking). A process killed between commit and
   replacement, an earlier after-commit callback that raises (Django then runs no later
   one), or a change that bypasses ``save()``/``delete()`` (a queryset ``update()``), is
   bounded by the answer's lifetime, ``AVAILABILITY_CACHE_SECONDS``.

The clock also changes answers without any write (a hold expiring frees a time; a start
moving inside the minimum lead time stops being offered), so answers live only a few seconds:
within that lifetime an answer may still offer a start that just became too soon (booking it
is refused with a clear message, the booking re-checks everything in its transaction) or keep
showing an expired hold as busy. Nothing is cached when the setting is 0 (the tests' default,
and without Redis, where each process would have its own cache and tokens).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

logger = logging.getLogger(__name__)

_EVERYWHERE = "all"


def _token_key(scope: str) -> str:
    return f"availability:generation:{scope}"


def _token_keys(location_id: int) -> list[str]:
    return [_token_key(_EVERYWHERE), _token_key(str(location_id))]


def _tokens(location_id: int) -> list[str] | None:
    keys = _token_keys(location_id)
    try:
        found = cache.get_many(keys)
        missing = [key for key in keys if key not in found]
        for key in missing:
            cache.add(key, uuid.uuid4().hex, timeout=None)
        if missing:
            found = cache.get_many(keys)
    except Exception:  # noqa: BLE001 - any cache error: answer without the cache
        logger.warning("availability generations unreadable", exc_info=True)
        return None
    if len(found) != len(keys):
        return None
    return [found[key] for key in keys]


class _KeptHere:
    """This process's copies of kept answers, the most recently used first out of the budget.

    A month's answer is tens of kilobytes: read from Redis for every request it was most of
    the request's CPU (the transfer and redis-py's parsing). A copy is given out only under the
    same conditions as the shared one (its generations are still the current ones, read from
    the shared cache for every request, and its lifetime has not run out), so it can never be
    staler than the shared answer it copies."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, _Kept] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> _Kept | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: _Kept) -> None:
        budget = settings.AVAILABILITY_PROCESS_CACHE_BYTES
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= len(previous[2])
            if len(entry[2]) > budget:
                return
            self._entries[key] = entry
            self._bytes += len(entry[2])
            while self._bytes > budget:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped[2])

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


# (expires at, by this process's clock; the generations it was computed under; the answer)
_Kept = tuple[float, list[str], bytes]
_kept_here = _KeptHere()


def _answer_if_current(kept: _Kept | None, tokens: list[str]) -> bytes | None:
    """The kept answer if it was computed under ``tokens`` and its lifetime has not run out.
    The lifetime is checked against this process's clock as well as left to the cache's
    expiry: Redis expires keys by its own clock, which a test's (or a skewed host's) clock
    does not move."""
    if kept is not None and kept[1] == tokens and kept[0] > time.time():
        return kept[2]
    return None


def cached_answer(
    *, location_id: int, question: Iterable[Any], compute: Callable[[], bytes]
) -> bytes:
    """The answer to ``question`` (values naming it, e.g. service, dates) at this location:
    from the cache when it was computed under the current generations, else ``compute()``d and
    kept for ``AVAILABILITY_CACHE_SECONDS``."""
    lifetime = settings.AVAILABILITY_CACHE_SECONDS
    if lifetime <= 0 or connection.in_atomic_block:
        # Inside a transaction the reader may see its own uncommitted change: never publish.
        return compute()
    name = "|".join(str(part) for part in (location_id, *question))
    key = "availability:kept:" + hashlib.blake2b(name.encode(), digest_size=16).hexdigest()
    token_keys = _token_keys(location_id)
    here = _kept_here.get(key)
    # One round trip for the generations, and for the kept answer unless this process holds a
    # copy; an answer is used only while the generations it was computed under are still the
    # current ones (the same as keeping it under a key made of them, one entry per question).
    try:
        found = cache.get_many(token_keys if here is not None else [*token_keys, key])
    except Exception:  # noqa: BLE001 - any cache error: answer without the cache
        logger.warning("availability answer unreadable", exc_info=True)
        return compute()
    tokens = [found[token] for token in token_keys if token in found]
    if len(tokens) == len(token_keys):
        answer = _answer_if_current(here, tokens)
        if answer is not None:
            return answer
        # No current copy here: the shared one (read already unless an old copy was here).
        kept: _Kept | None
        try:
            kept = found.get(key) if here is None else cache.get(key)
        except Exception:  # noqa: BLE001 - any cache error: compute it
            logger.warning("availability answer unreadable", exc_info=True)
            kept = None
        if kept is not None and (answer := _answer_if_current(kept, tokens)) is not None:
            _kept_here.put(key, kept)
            return answer
    else:
        created = _tokens(location_id)  # a generation not created yet (or evicted)
        if created is None:
            return compute()
        tokens = created
    # The generations were read before computing: see the module's docstring.
    answer = compute()
    entry = (time.time() + lifetime, tokens, answer)
    _kept_here.put(key, entry)
    try:
        cache.set(key, entry, timeout=lifetime)
    except Exception:  # noqa: BLE001 - the answer is still right, just not kept
        logger.warning("availability answer not kept", exc_info=True)
    return answer


def calendar_changed(*, location_id: int | None = None) -> None:
    """Retire the generation of ``location_id`` (None: every location) once the current
    transaction commits, or now outside one. Nothing to retire when answers are not kept (the
    setting is the same in every process of a deployment)."""
    if settings.AVAILABILITY_CACHE_SECONDS <= 0:
        return
    key = _token_key(_EVERYWHERE if location_id is None else str(location_id))
    # on_commit runs it at once outside a transaction.
    transaction.on_commit(lambda: _replace(key))


def _replace(key: str) -> None:
    try:
        cache.set(key, uuid.uuid4().hex, timeout=None)
    except Exception:  # noqa: BLE001 - answers still expire after their short lifetime
        logger.warning("availability generation not replaced", exc_info=True)


def _on_appointment_change(sender: Any, instance: Any, **kwargs: Any) -> None:
    calendar_changed(location_id=instance.location_id)


def _on_change(sender: Any, **kwargs: Any) -> None:
    calendar_changed()


def connect() -> None:
    from bookings.models import Appointment
    from clinic.models import Location, Practitioner, Room, Service, TimeOff, WorkingHours

    uid = "bookings.availability.answers"
    # Visits change all day long: only their location's answers are retired. (A visit keeps
    # its location; were one moved, the old location would show it busy until its answers
    # expire, never a time that is taken.)
    post_save.connect(_on_appointment_change, sender=Appointment, dispatch_uid=f"{uid}.visit.save")
    post_delete.connect(
        _on_appointment_change, sender=Appointment, dispatch_uid=f"{uid}.visit.delete"
    )
    # The rest changes rarely and may move between locations: every location's answers.
    for model in (WorkingHours, TimeOff, Practitioner, Room, Service, Location):
        post_save.connect(_on_change, sender=model, dispatch_uid=f"{uid}.{model.__name__}.save")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"{uid}.{model.__name__}.delete")
    for through in (
        Practitioner.locations.through,
        Practitioner.services.through,
        Service.rooms.through,
    ):
        m2m_changed.connect(_on_change, sender=through, dispatch_uid=f"{uid}.{through.__name__}")
