"""reminders.rulebook: the active rules are loaded once per process and never kept stale under
a current generation (the proof is in the module's docstring; these tests play its cases)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reminders import rulebook
from reminders.models import ReminderRule

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cached(settings):
    settings.REMINDER_RULES_CACHE_SECONDS = 60
    cache.delete(rulebook.GENERATION_KEY)
    rulebook._loaded = None
    setattr(connection, rulebook._PENDING_ATTRIBUTE, False)
    yield
    rulebook._loaded = None
    setattr(connection, rulebook._PENDING_ATTRIBUTE, False)


def _names(rules):
    return {rule.name for rule in rules}


def _day_before():
    return ReminderRule.objects.get(name="Day-before reminder")


def test_rules_are_loaded_once_then_served_without_a_query():
    first = rulebook.active_rules()
    with CaptureQueriesContext(connection) as queries:
        again = rulebook.active_rules()

    assert again is first
    assert len(queries) == 0
    assert "Day-before reminder" in _names(first)
    assert all(rule.is_active and not rule.is_catch_up for rule in first)


def test_the_writers_own_transaction_sees_its_change_and_does_not_keep_it(
    django_capture_on_commit_callbacks,
):
    rulebook.active_rules()
    rule = _day_before()
    rule.is_active = False
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rule.save()
        during = rulebook.active_rules()
        with CaptureQueriesContext(connection) as queries:
            rulebook.active_rules()

    assert "Day-before reminder" not in _names(during)
    # Uncommitted: loaded every time, never stored (a rollback must not leave it behind).
    assert len(queries) == 2
    assert rulebook._loaded is None
    assert callbacks  # the after-commit replacement is queued


def test_a_change_replaces_the_generation_now_and_after_commit(
    django_capture_on_commit_callbacks,
):
    rulebook.active_rules()
    before = cache.get(rulebook.GENERATION_KEY)
    rule = _day_before()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rule.offset_minutes += 60
        rule.save()
    early = cache.get(rulebook.GENERATION_KEY)
    for callback in callbacks:
        callback()
    after_commit = cache.get(rulebook.GENERATION_KEY)

    assert len({before, early, after_commit}) == 3
    assert not getattr(connection, rulebook._PENDING_ATTRIBUTE)


def test_a_commit_between_reading_the_generation_and_loading_retires_what_was_loaded(
    monkeypatch,
):
    """A reader reads generation T, loads rules that miss a change committed meanwhile, and
    stores them under T; the change's after-commit replacement retires T, so the next reader
    loads again and sees the change."""
    real_load = rulebook._load
    stale = real_load()

    def load_then_another_process_commits():
        ReminderRule.objects.filter(name="Day-before reminder").update(is_active=False)
        rulebook._new_generation()  # that writer's after-commit replacement
        return stale  # what this reader's statement saw before that commit

    monkeypatch.setattr(rulebook, "_load", load_then_another_process_commits)
    assert "Day-before reminder" in _names(rulebook.active_rules())
    monkeypatch.setattr(rulebook, "_load", real_load)

    assert "Day-before reminder" not in _names(rulebook.active_rules())


def test_rules_loaded_before_a_commit_under_its_early_generation_are_retired_by_the_commit(
    monkeypatch,
):
    """Another process's change replaced the generation early (T2) but has not committed: a
    reader loads the old rules under T2. The after-commit replacement (T3) retires them."""
    rulebook._new_generation()  # the other writer's early replacement
    assert "Day-before reminder" in _names(rulebook.active_rules())  # stored under T2
    ReminderRule.objects.filter(name="Day-before reminder").update(is_active=False)  # commit
    rulebook._new_generation()  # its after-commit replacement

    assert "Day-before reminder" not in _names(rulebook.active_rules())


def test_a_changed_service_list_reloads_the_rules(treatment_service):
    rules = rulebook.active_rules()
    rule = _day_before()
    rule.services.add(treatment_service)
    assert rulebook._loaded is None

    reloaded = {r.name: r for r in rulebook.active_rules()}
    assert reloaded is not rules
    assert [s.pk for s in reloaded["Day-before reminder"].services.all()] == [treatment_service.pk]
    assert rulebook.rule_service_ids(reloaded["Day-before reminder"]) == {treatment_service.pk}
    assert rulebook.rule_service_ids({r.name: r for r in rules}["Day-before reminder"]) == set()


def test_without_a_reachable_cache_rules_come_from_the_database(monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", broken)
    with CaptureQueriesContext(connection) as queries:
        rules = rulebook.active_rules()

    assert "Day-before reminder" in _names(rules)
    assert len(queries) == 2
    assert rulebook._loaded is None


def test_rules_are_kept_at_most_the_configured_age(settings, monkeypatch):
    first = rulebook.active_rules()
    clock = rulebook.time.monotonic() + 61
    monkeypatch.setattr(rulebook.time, "monotonic", lambda: clock)

    assert rulebook.active_rules() is not first


def test_with_the_cache_turned_off_every_plan_loads(settings):
    settings.REMINDER_RULES_CACHE_SECONDS = 0
    rulebook.active_rules()
    with CaptureQueriesContext(connection) as queries:
        rulebook.active_rules()

    assert len(queries) == 2
