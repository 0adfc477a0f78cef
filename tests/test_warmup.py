"""Workers warm up before they take traffic (gunicorn's post_worker_init hook)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, runpy, sys
import django
django.setup()
hook = runpy.run_path(sys.argv[1])["post_worker_init"]
lazy = ["bookings.api", "bookings.views.site", "workspace.urls"]
assert not any(name in sys.modules for name in lazy), "imported before the warm-up"
assert gc.get_freeze_count() == 0
hook(None)
missing = [name for name in lazy if name not in sys.modules]
assert not missing, missing
# What start-up built, the views the warm-up imported included, is out of the collector's walk.
assert gc.get_freeze_count() > 0, "start-up objects left to every full collection"
print("warm")
"""

# What a Celery worker's task process does once it is ready (prefork child or solo worker).
TASK_PROCESS_PROBE = """
import gc
import django
django.setup()
from celery.signals import worker_process_init
from clinic.celery import app
from django.urls import get_resolver
app.loader.import_default_modules()
# The task modules import the URLconf; reverse()'s lookup is built on its first call (17 ms).
assert not get_resolver()._populated, "built before the warm-up"
assert gc.get_freeze_count() == 0
worker_process_init.send(sender="probe")
# Built before the first text reverses its status callback address.
assert get_resolver()._populated, "the task process did not warm up"
assert gc.get_freeze_count() > 0, "start-up objects left to every full collection"
print("ready")
"""


@pytest.mark.parametrize(
    "config",
    [
        "clinic/gunicorn_conf.py",  # bin/web's, so production workers warm up too
        "gunicorn.conf.py",  # what a plain gunicorn command here reads (the benches)
    ],
)
def test_the_gunicorn_hook_imports_the_views_before_the_first_request(config):
    assert _run_probe(PROBE, config).endswith("warm")


def _run_probe(code: str, *args: str) -> str:
    """Run ``code`` in a fresh interpreter (a worker process's start-up state); its output."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update({"DJANGO_SETTINGS_MODULE": "clinic.settings", "DEBUG": "1"})
    result = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _reuse_port(**environ: str) -> str:
    env = {
        key: value for key, value in os.environ.items() if key not in {"DEBUG", "WEB_REUSE_PORT"}
    }
    env.update(environ)
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", "from clinic import gunicorn_conf; print(gunicorn_conf.reuse_port)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()


def test_each_production_worker_listens_on_its_own_socket_and_development_shares_one():
    assert _reuse_port() == "True"
    assert _reuse_port(DEBUG="0") == "True"
    assert _reuse_port(DEBUG="1") == "False"  # a second `make run` fails instead of sharing
    assert _reuse_port(WEB_REUSE_PORT="0") == "False"
    assert _reuse_port(DEBUG="1", WEB_REUSE_PORT="1") == "True"


@pytest.mark.django_db(transaction=True)  # warm_up closes its thread's connection
def test_warm_up_compiles_the_phone_patterns_of_each_open_location_and_reads_the_rules(settings):
    from bookings.services.clients import phone_patterns_compile_for_locations
    from clinic import warmup
    from clinic.models import Location
    from reminders import rulebook

    Location.objects.create(name="Dublin", slug="dublin", country="IE")
    Location.objects.create(name="Closed", slug="closed", country="FR", is_active=False)
    countries = sorted(
        set(Location.objects.filter(is_active=True).values_list("country", flat=True))
    )
    assert "IE" in countries
    assert "FR" not in countries
    assert phone_patterns_compile_for_locations() == countries

    settings.REMINDER_RULES_CACHE_SECONDS = 60  # kept per process, as with Redis
    rulebook._loaded = None
    warmup.warm_up()
    assert rulebook._loaded is not None  # the first booking's plan finds the rules read


def test_warm_up_survives_a_database_it_cannot_read(monkeypatch, caplog):
    from django.db import OperationalError
    from django.dispatch import Signal

    from clinic import warmup

    def unreachable(sender: object, **kwargs: object) -> None:
        raise OperationalError("connection refused")

    # Only this receiver: the apps' own would need the database.
    only_unreachable = Signal()
    only_unreachable.connect(unreachable, weak=False)
    monkeypatch.setattr(warmup, "worker_warming", only_unreachable)
    warmup.warm_up()
    assert "warm-up step failed" in caplog.text
    assert "connection refused" in caplog.text


def test_every_web_thread_shares_one_result_backend():
    # A backend per thread made each thread's first publish load the backend class again.
    import threading

    from clinic.celery import app

    seen = []
    thread = threading.Thread(target=lambda: seen.append(app.backend))
    thread.start()
    thread.join()
    assert seen == [app.backend]


def test_warm_up_survives_a_task_producer_it_cannot_build(monkeypatch, caplog):
    from clinic import warmup

    def broken() -> None:
        raise ValueError("bad broker URL")

    monkeypatch.setattr(warmup, "_warm_task_producer", broken)
    monkeypatch.setattr(warmup, "_warm_apps", lambda: None)
    warmup.warm_up()
    assert "warm-up could not build the task producer" in caplog.text


def test_a_celery_task_process_warms_up_and_puts_its_start_up_objects_out_of_the_collectors_walk():
    # Cold, its first text paid the URLconf after reserving its send slot; and a full
    # collection over the start-up objects stopped its sending threads for 40-100 ms. Either
    # way texts crowded into one second at the provider (bench/reminders.py).
    assert _run_probe(TASK_PROCESS_PROBE).endswith("ready")
