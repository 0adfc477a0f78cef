"""Gunicorn settings for production (``gunicorn -c python:clinic.gunicorn_conf``): access log
lines without the tokens that client links carry in their paths."""

from __future__ import annotations

import os

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

from clinic.logging import scrub_tokens

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
accesslog = "-"


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
