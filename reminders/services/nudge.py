"""The nudge to the dispatcher after a commit that planned something due now: at most one per
``DISPATCH_NUDGE_INTERVAL_MS`` per process, and never a due row left waiting longer than that.

Publishing a Celery task costs about 1 ms of CPU, some 5 % of a booking's; at hundreds of
bookings a second one nudge per commit is mostly wasted, since a single dispatcher run sends
every row due by the time its queries run.

The rule that makes skipping safe: a nudge that already started before this transaction
committed may have missed its rows, so a commit may rely only on a nudge that is still
*pending*. The process remembers the ETA of the last nudge it published. On a commit at time
``t``: if ``t`` is before that ETA, the nudge starts after the commit and sees its rows, so
nothing is sent; otherwise a nudge is published with ``eta = max(t, last_eta + interval)``,
which is never later than ``t + interval`` and, when the process has been quiet, is ``t``
itself (a plain task with no ETA, as before).

What the ETA relies on (checked for both brokers the project uses):

* Redis: a worker takes an ETA task at once and holds it, unacknowledged, until its time;
  only a hold longer than the transport's ``visibility_timeout`` (3600 s) would be delivered
  twice, and these are a fraction of a second. A worker that stops hands unacknowledged
  tasks back to the queue, ETA or not.
* The embedded SQLite broker (``make run``): the worker holds ETA tasks the same way; the
  transport has no visibility timeout at all, so only a worker killed outright loses what it
  holds, as it loses a plain task it has taken (the beat sweep covers both).
* Celery compares the ETA with the worker's clock: the skip assumes the web's and the
  workers' clocks agree to well within the interval (NTP, as beat's ``expires`` already
  assumes; on one machine they are the same clock). A skewed worker only delays rows until
  the beat sweep (``reminders-dispatch-sweep``, every 5 s).

A publish that fails is logged and forgotten, so the next commit publishes again; commits
that skipped in the moment it was being published are left to the sweep, as every commit is
while the broker is down.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

NEVER = float("-inf")


class DispatchNudger:
    """The debounce rule above for one process. ``publish(eta)`` sends the task (``eta`` in
    seconds since the epoch, None: now); ``clock`` is the wall clock the ETA is written in."""

    def __init__(
        self,
        *,
        publish: Callable[[float | None], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._publish = publish
        self._clock = clock
        self.forget()

    def forget(self) -> None:
        """Start afresh, as a forked child must: the parent's lock may be held by a thread
        that does not exist in the child."""
        self._lock = threading.Lock()
        self._sent_at = NEVER
        self._eta = NEVER

    def after_commit(self, *, interval_seconds: float) -> bool:
        """Nudge for a commit that has just happened, unless a nudge this process published
        is still pending. True if one was published. Raises what ``publish`` raises."""
        with self._lock:
            now = self._clock()
            # A clock set back (now before the last publish) must not stretch a skip.
            if self._sent_at <= now < self._eta:
                return False
            eta = now if now < self._sent_at else max(now, self._eta + interval_seconds)
            previous = (self._sent_at, self._eta)
            self._sent_at, self._eta = now, eta
        try:
            self._publish(eta if eta > now else None)
        except Exception:
            with self._lock:
                if (self._sent_at, self._eta) == (now, eta):
                    self._sent_at, self._eta = previous
            raise
        return True


def _publish_dispatch(eta: float | None) -> None:
    from reminders.tasks import dispatch_due_messages

    if eta is None:
        dispatch_due_messages.delay()
    else:
        dispatch_due_messages.apply_async(eta=datetime.fromtimestamp(eta, UTC))


_nudger = DispatchNudger(publish=_publish_dispatch)
# gunicorn (with --preload) and Celery's prefork pool fork processes that may nudge.
os.register_at_fork(after_in_child=lambda: _nudger.forget())


def _nudge_after_commit() -> None:
    from reminders.tasks import dispatch_due_messages

    interval_seconds = settings.DISPATCH_NUDGE_INTERVAL_MS / 1000
    try:
        if interval_seconds <= 0 or dispatch_due_messages.app.conf.task_always_eager:
            # One nudge per commit (and eager tasks run here and now, with nothing pending).
            dispatch_due_messages.delay()
        else:
            _nudger.after_commit(interval_seconds=interval_seconds)
    except Exception:  # noqa: BLE001 - any broker error; the sweep is the safety net
        logger.warning("dispatch nudge failed; the periodic sweep will send", exc_info=True)


def nudge_dispatch_on_commit() -> None:
    """Have a worker run the dispatcher within ``DISPATCH_NUDGE_INTERVAL_MS`` of the current
    transaction's commit (see the module's docstring). If the broker is down the beat sweep
    finds the rows anyway, so a failure here is only logged."""
    transaction.on_commit(_nudge_after_commit)
