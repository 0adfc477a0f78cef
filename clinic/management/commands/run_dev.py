"""Run the web server, a Celery worker and Celery beat together; Ctrl-C stops all three."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse


class Command(BaseCommand):
    help = "Serve the site on 127.0.0.1:8000 with a Celery worker and beat (development)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, addr: str, **options) -> None:
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "clinic"]
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [
                *celery,
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "--without-mingle",
                "--without-gossip",
            ],
            "beat": [
                *celery,
                "beat",
                "--loglevel=INFO",
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        base = f"http://{addr}"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Aftercare is starting (SQLite, file-system Celery broker, "
                    f"SMS backend: {settings.SMS_BACKEND})",
                    f"  Booking site:  {base}{reverse('site-book')}",
                    f"  Staff login:   {base}{reverse('staff-calendar')}  (reception / practitioner / manager, password: aftercare-demo)",
                    f"  Admin:         {base}{reverse('admin:index')}  (manager / aftercare-demo)",
                    f"  API docs:      {base}{reverse('api:openapi-view')}",
                    f"  Health:        {base}{reverse('healthz')}",
                    "Press Ctrl-C to stop the web server, worker and beat together.",
                    "",
                ]
            )
        )
        # The commands are fixed lists built above, not user input.
        processes = {
            name: subprocess.Popen(command, env=os.environ.copy())  # noqa: S603
            for name, command in commands.items()
        }

        stopping = False

        def request_stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        # Handle Ctrl-C (SIGINT), SIGTERM and a closed terminal the same way, even when the
        # command was started from a context that ignores SIGINT.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, request_stop)
        while not stopping and all(process.poll() is None for process in processes.values()):
            time.sleep(0.3)
        exited = [name for name, process in processes.items() if process.poll() is not None]
        if exited and not stopping:
            self.stderr.write(f"{', '.join(exited)} exited; stopping the others")
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        self.stdout.write("Stopped the web server, worker and beat.")
