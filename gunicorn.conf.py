"""gunicorn settings read from the working directory by every ``gunicorn`` command here
(Dockerfile, docker-compose, bench/*.py); command-line flags still win."""

from __future__ import annotations


def post_worker_init(worker) -> None:  # noqa: ANN001 - gunicorn's Worker
    """Runs in each worker after it has loaded the app and before it accepts a connection, so
    no client waits for the warm-up a first request would otherwise trigger."""
    from clinic.warmup import warm_up

    warm_up()
