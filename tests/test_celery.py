from __future__ import annotations

import subprocess
import sys
import time

import pytest
from django.conf import settings

from clinic.celery import app, ping


def test_celery_app_is_configured_from_django_settings():
    assert app.main == "aftercare"
    assert app.conf.task_serializer == "json"
    assert app.conf.task_acks_late is True
    assert "clinic.ping" in app.tasks


def test_ping_task_body_runs_directly():
    assert ping() == "pong"


@pytest.mark.integration
def test_a_task_round_trips_through_redis_to_a_real_worker():
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    worker = subprocess.Popen(  # noqa: S603
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
            "-Q",
            "roundtrip-test",
            "-n",
            "roundtrip@%h",
        ],
    )
    try:
        result = ping.apply_async(queue="roundtrip-test", ignore_result=False)
        assert result.get(timeout=60) == "pong"
    finally:
        worker.terminate()
        deadline = time.monotonic() + 15
        while worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        if worker.poll() is None:
            worker.kill()
