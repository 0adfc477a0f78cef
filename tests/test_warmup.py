"""Workers warm up before they take traffic (gunicorn's post_worker_init hook)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import runpy, sys
import django
django.setup()
hook = runpy.run_path("gunicorn.conf.py")["post_worker_init"]
lazy = ["bookings.api", "bookings.views.site", "workspace.urls"]
assert not any(name in sys.modules for name in lazy), "imported before the warm-up"
hook(None)
missing = [name for name in lazy if name not in sys.modules]
assert not missing, missing
print("warm")
"""


def test_the_gunicorn_hook_imports_the_views_before_the_first_request():
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update({"DJANGO_SETTINGS_MODULE": "clinic.settings", "DEBUG": "1"})
    result = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("warm")
