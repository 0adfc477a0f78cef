"""gunicorn settings read from the working directory by a plain ``gunicorn`` command here
(bench/*.py, a developer's shell): the worker warm-up and listening sockets of bin/web's
clinic/gunicorn_conf.py, without its bind address, worker count or access log, which those
commands give themselves. Command-line flags still win."""

from __future__ import annotations

from clinic.gunicorn_conf import post_worker_init, reuse_port

__all__ = ["post_worker_init", "reuse_port"]
