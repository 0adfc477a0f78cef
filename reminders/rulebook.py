"""The active reminder rules, loaded once per process instead of twice per booking.

Planning reads the protocol on every booking change, and the protocol changes a few times a
year. ``active_rules()`` keeps the loaded rules (with their catch-up rule and services) in the
process and reloads them when the *rules generation*, a random token in the shared cache
(Redis in production), is no longer the one they were loaded under.

Why a reader never keeps stale rules under a current generation:

* Every change to a rule (save, delete, its services) replaces the token **after its
  transaction commits** (``transaction.on_commit``), and also at once (so the writer's own
  later reads in that transaction reload).
* A reader reads the token **before** it loads the rules, and stores what it loaded under the
  token it read. Each statement sees everything committed before it starts (READ COMMITTED,
  Django's default), so rules loaded after reading token T include every change whose
  after-commit replacement of T had happened; any change it missed replaces T later, after
  which no reader uses what was stored under T. A reader that loads between a change's early
  replacement and its commit stores the old rules under a token that the after-commit
  replacement retires.
* A writer's own connection sees its uncommitted change; it does not store rules while it has
  one (a rolled-back change would otherwise live on in the process).
* Loaded rules are also dropped after ``REMINDER_RULES_CACHE_SECONDS`` (a process killed
  between a commit and its replacement, a flushed cache); 0 turns the cache off (the tests'
  settings: their transactions roll back, so a change's after-commit replacement never runs).
  If the cache cannot be reached, rules are loaded from the database every time.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from reminders.models import ReminderRule

logger = logging.getLogger(__name__)

GENERATION_KEY = "reminders:rules-generation"

# (generation token, monotonic time loaded, rules): replaced whole, never mutated, so threads
# may share it.
_loaded: tuple[str, float, list[ReminderRule]] | None = None
_PENDING_ATTRIBUTE = "_aftercare_rule_change_pending"


# The ids of a loaded rule's services, worked out once when the rules are loaded: asking the
# prefetched ``rule.services.all()`` builds a related manager and a queryset each time, which
# for every rule of every plan cost more than the rest of deciding whether the rule applies.
_SERVICE_IDS_ATTRIBUTE = "_aftercare_service_ids"


def _load() -> list[ReminderRule]:
    rules = list(
        ReminderRule.objects.filter(is_active=True, is_catch_up=False)
        .select_related("catch_up")
        .prefetch_related("services")
        .order_by("id")
    )
    for rule in rules:
        setattr(rule, _SERVICE_IDS_ATTRIBUTE, frozenset(s.pk for s in rule.services.all()))
    return rules


def rule_service_ids(rule: ReminderRule) -> frozenset[int]:
    """The ids of the services ``rule`` is limited to (empty: not limited by service)."""
    known = rule.__dict__.get(_SERVICE_IDS_ATTRIBUTE)
    if known is not None:
        return known
    return frozenset(service.pk for service in rule.services.all())


def _generation() -> str | None:
    try:
        token = cache.get(GENERATION_KEY)
        if token is None:
            cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
            token = cache.get(GENERATION_KEY)
    except Exception:  # noqa: BLE001 - any cache error: load from the database instead
        logger.warning("reminder rules generation unreadable; loading rules", exc_info=True)
        return None
    return token


def active_rules() -> list[ReminderRule]:
    """Every active rule that is not a catch-up, by id, with ``catch_up`` and ``services``
    loaded. Treat the rules as read-only: they may be shared with other requests."""
    global _loaded
    max_age = settings.REMINDER_RULES_CACHE_SECONDS
    if max_age <= 0 or getattr(connection, _PENDING_ATTRIBUTE, False):
        return _load()
    generation = _generation()  # before loading: see the module's docstring
    if generation is None:
        return _load()
    loaded, now = _loaded, time.monotonic()
    if loaded is not None and loaded[0] == generation and now - loaded[1] < max_age:
        return loaded[2]
    rules = _load()
    _loaded = (generation, now, rules)
    return rules


def rules_changed() -> None:
    """Retire the current generation now and again once the current transaction commits
    (nothing to retire when rules are not kept: the setting is the same in every process)."""
    global _loaded
    _loaded = None
    if settings.REMINDER_RULES_CACHE_SECONDS <= 0:
        return
    _new_generation()
    if connection.in_atomic_block:
        setattr(connection, _PENDING_ATTRIBUTE, True)

        def after_commit() -> None:
            setattr(connection, _PENDING_ATTRIBUTE, False)
            _new_generation()

        transaction.on_commit(after_commit)


def _new_generation() -> None:
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:  # noqa: BLE001 - the max age still bounds how long old rules live
        logger.warning("reminder rules generation not replaced", exc_info=True)


def _on_rule_change(sender: Any, **kwargs: Any) -> None:
    rules_changed()


def _warm(sender: object, **kwargs: object) -> None:
    active_rules()  # a worker's first booking then plans with the rules already read


def connect() -> None:
    from clinic.warmup import worker_warming

    uid = "reminders.rulebook"
    worker_warming.connect(_warm, dispatch_uid=f"{uid}.warm")
    post_save.connect(_on_rule_change, sender=ReminderRule, dispatch_uid=f"{uid}.save")
    post_delete.connect(_on_rule_change, sender=ReminderRule, dispatch_uid=f"{uid}.delete")
    m2m_changed.connect(
        _on_rule_change, sender=ReminderRule.services.through, dispatch_uid=f"{uid}.services"
    )
