"""Project-wide request middleware: staff session lifetimes and no caching of what we serve."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

SIGNED_IN_AT = "staff_signed_in_at"
LAST_SEEN_AT = "staff_last_seen_at"
# Writing the session on every request would cost a database write per click; a minute's
# precision is plenty for a 30-minute idle timeout.
LAST_SEEN_PRECISION_SECONDS = 60


class StaffSessionTimeoutMiddleware:
    """End a signed-in session after ``STAFF_IDLE_TIMEOUT_MINUTES`` without a request and, in
    any case, ``STAFF_SESSION_MAX_HOURS`` after sign-in: a workstation left open at the desk
    stops showing client records on its own.

    The request then continues signed out, so pages send the user to the login page and the
    API answers 401, exactly as for anyone else who is not signed in.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            self._enforce_lifetime(request)
        return self.get_response(request)

    def _enforce_lifetime(self, request: HttpRequest) -> None:
        now = int(time.time())
        session = request.session
        signed_in_at = session.get(SIGNED_IN_AT)
        last_seen_at = session.get(LAST_SEEN_AT)
        idle_limit = settings.STAFF_IDLE_TIMEOUT_MINUTES * 60
        absolute_limit = settings.STAFF_SESSION_MAX_HOURS * 3600
        if signed_in_at is None or last_seen_at is None:
            session[SIGNED_IN_AT] = now if signed_in_at is None else signed_in_at
            session[LAST_SEEN_AT] = now
            return
        if now - last_seen_at > idle_limit or now - signed_in_at > absolute_limit:
            logout(request)
            return
        if now - last_seen_at >= LAST_SEEN_PRECISION_SECONDS:
            session[LAST_SEEN_AT] = now


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every response whose view did not choose otherwise.

    Pages and API answers carry client details and health data (screening answers, treatment
    notes), which must not stay in a browser's or a proxy's cache; static files, served before
    this by WhiteNoise, are the only thing worth caching. One rule here rather than a decorator
    on each health-data view that a new view could forget.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response
