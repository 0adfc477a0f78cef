"""Start Aftercare the way an operator does (``make run`` / ``make serve``) and talk to it over
HTTP, for the end-to-end tests of the embedded stack and of production mode."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# What the test process's own environment must not leak into the stack it starts.
TEST_ONLY_VARIABLES = {
    "DATABASE_URL",
    "TEST_DATABASE_URL",
    "REDIS_URL",
    "DJANGO_SETTINGS_MODULE",
    "SECRET_KEY",
    "DEBUG",
    "SMS_BACKEND",
    "PROMETHEUS_MULTIPROC_DIR",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def base_environment(var_dir: Path, fake_twilio, **overrides: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in TEST_ONLY_VARIABLES}
    env.update(
        {
            "PATH": f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}",
            "AFTERCARE_VAR_DIR": str(var_dir),
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
            "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
            "TWILIO_FROM_NUMBER": "+447700900001",
            "TWILIO_API_BASE_URL": fake_twilio.url,
            "SMS_RATE_PER_SECOND": "0",
            # Not what these tests are about: no reminder may wait for the morning.
            "QUIET_HOURS": "03:00-03:01",
            "LOG_LEVEL": "WARNING",
            # `make run` starts localstripe when no Stripe key is set: on a port of its own, so
            # a developer's `make run` (8420) or another stack cannot be in the way.
            "STRIPE_DEV_PORT": str(free_port()),
        }
    )
    env.update(overrides)
    return env


class Stack:
    """A ``make`` target running in its own process group, its output in ``log_path``."""

    def __init__(
        self,
        target: list[str],
        *,
        env: dict[str, str],
        log_path: Path,
        manage_env: dict[str, str] | None = None,
    ):
        self.env = env
        # make run adds development mode itself; manage.py run by the test needs it spelt out.
        self._manage_env = manage_env or env
        self.log_path = log_path
        self.url = ""
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603
            ["make", "--no-print-directory", *target],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._children: set[int] = set()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_healthy(self, url: str, *, timeout: float = 240) -> None:
        """Until /healthz answers 200 and supervisord says every process has started."""
        self.url = url
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the stack exited early:\n{self.log()[-4000:]}")
            try:
                with urlopen(f"{url}/healthz", timeout=5) as response:  # noqa: S310
                    healthy = response.status == 200
            except (URLError, OSError):
                healthy = False
            if healthy and self.all_running():
                return
            time.sleep(0.5)
        raise AssertionError(f"the stack did not become healthy:\n{self.log()[-4000:]}")

    def supervisorctl(self, *args: str) -> str:
        result = subprocess.run(  # noqa: S603
            [str(ROOT / "bin" / "supervisorctl"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        return result.stdout

    def all_running(self) -> bool:
        """Web, worker and beat (and whatever else the Procfile runs, such as localstripe
        under ``make run``) have all started."""
        lines = [line for line in self.supervisorctl("status").splitlines() if line.strip()]
        names = {line.split()[0] for line in lines}
        return {"web", "worker", "beat"} <= names and all(" RUNNING " in line for line in lines)

    def pid(self, name: str) -> int:
        pid = int(self.supervisorctl("pid", name).strip())
        self._children.add(pid)
        return pid

    def manage(self, *args: str, timeout: float = 120) -> str:
        """``manage.py`` against the stack's database, in the stack's mode."""
        result = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.manage_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def manage_env(self) -> dict[str, str]:
        return self._manage_env

    def stop(self) -> None:
        for name in ("web", "worker", "beat"):
            with contextlib.suppress(ValueError):
                self.pid(name)
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # supervisord's children run in their own process groups: make sure none outlives us.
        for pid in self._children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        self._log.close()


def request(
    url: str,
    *,
    method: str = "GET",
    payload: object | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body; an HTTP error status is an answer, not an exception."""
    data = json.dumps(payload).encode() if payload is not None else None
    all_headers = {"Content-Type": "application/json"} if data is not None else {}
    all_headers.update(headers or {})
    outgoing = Request(url, data=data, method=method, headers=all_headers)  # noqa: S310
    try:
        with urlopen(outgoing, timeout=timeout) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except HTTPError as error:
        return error.code, dict(error.headers), error.read()
