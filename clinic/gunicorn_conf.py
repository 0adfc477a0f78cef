"""gunicorn settings for bin/web (``gunicorn -c python:clinic.gunicorn_conf``), from the
environment: threaded workers, each with its own listening socket and warmed up before it
accepts, and access log lines without the tokens that client links carry in their paths."""

from __future__ import annotations

import os

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

from clinic.env import env_bool
from clinic.logging import scrub_tokens

bind = [
    os.environ.get("BIND")
    or os.environ.get("GUNICORN_BIND")
    or f"0.0.0.0:{os.environ.get('PORT') or '8000'}"
]
# Threads, not just processes: a burst of slow clients queues in the threads instead of being
# refused, and a booking waits on the database part of the time. But few threads per process:
# threads of one process share one interpreter lock (on 2 cores bench/booking_race.py measured
# 4 workers x 2 threads at 21.7-23.3 ms of server CPU a booking, against 25.0-26.8 ms for
# 4 x 4 and 24.9 ms for 2 x 8). And one process per core, not two: on 2 cores, three runs each
# of bench/booking_race.py gave 2 x 2 200/220/140 bookings/s with p95 107/94/145 ms, against
# 175/152/160 and 176/164/168 ms for 4 x 2, and bench/http.py 2,426 against 1,865 requests/s
# (p95 35.5 against 55.9 ms): every extra process is another interpreter, another database
# connection per thread and another cold start competing for the same cores. At least two,
# so that one worker restarting (after a crash or a timeout) never leaves none; at most 8.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or min(max(os.cpu_count() or 1, 2), 8))
threads = int(os.environ.get("WEB_THREADS") or 2)
backlog = 2048
# One listening socket per worker (SO_REUSEPORT), so the kernel spreads new connections over
# the workers. With the one shared socket, whichever worker woke first took connections in
# bursts, and a kept-alive connection stays with the worker that took it: under wrk's 50
# connections the 4 workers held 33, 15, 1 and 1, and the clients of the busiest waited behind
# its two threads while others idled (bench/http.py). The cost: a second server started on the
# same port by the same user shares it instead of failing, so not in development (DEBUG on).
reuse_port = env_bool("WEB_REUSE_PORT", not env_bool("DEBUG", False))
timeout = 30
graceful_timeout = 20
accesslog = "-"
# gunicorn's control socket lives in ~/.gunicorn by default and would be shared by every
# instance on the machine; supervisord is what controls this process.
control_socket_disable = True


class TokenScrubbingLogger(Logger):
    """Gunicorn's logger with manage tokens, feed tokens and verification handles removed
    before an access line is written."""

    def atoms(self, resp, req, environ, request_time):  # noqa: ANN001, ANN201
        atoms = super().atoms(resp, req, environ, request_time)
        # Every text atom: the request line, path and query, but also the Referer header of a
        # request made from a client's manage page.
        return {
            key: scrub_tokens(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }


logger_class = TokenScrubbingLogger


def post_worker_init(worker) -> None:  # noqa: ANN001 - gunicorn's Worker
    """Runs in each worker after it has loaded the app and before it accepts a connection, so
    no client waits for the warm-up a first request would otherwise trigger, and no request
    waits while the garbage collector walks what start-up built."""
    from clinic.warmup import worker_process_prepare

    worker_process_prepare()


def child_exit(server: object, worker: object) -> None:
    """A dead worker's live gauges must not linger in the shared metrics files."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


# gunicorn's own lines (start-up, worker restarts, the access log) in the same shape as the
# application's when LOG_FORMAT=json.
if (os.environ.get("LOG_FORMAT") or "").lower() == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(levelname)s %(name)s %(message)s",
                "rename_fields": {"levelname": "level", "name": "logger", "message": "msg"},
                "timestamp": "ts",
            }
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
            }
        },
        # Replaces gunicorn's defaults, whose root logger names a handler defined there.
        "root": {"handlers": ["stdout"], "level": "INFO"},
        "loggers": {
            name: {"handlers": ["stdout"], "level": "INFO", "propagate": False}
            for name in ("gunicorn.error", "gunicorn.access")
        },
    }
