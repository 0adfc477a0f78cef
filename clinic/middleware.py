"""Project-wide request middleware: staff session lifetimes, no caching of what we serve, the
Content-Security-Policy header, and message storage made only for requests that use it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.messages.storage import default_storage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty

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
        session = getattr(request, "session", None)
        # Only a session holding a user's id can be signed in (django.contrib.auth.get_user
        # answers AnonymousUser for any other): the anonymous visitors who make most requests
        # are not worth building request.user for.
        if session is not None and SESSION_KEY in session and request.user.is_authenticated:
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


# What a view can set on its response to change the policy (django-csp's decorators).
_PER_RESPONSE_POLICY = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
# (header, the setting it is built from, the response attribute that exempts a response).
_POLICY_HEADERS = (
    (HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt"),
    (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", "_csp_exempt_ro"),
)
# Each header's value and excluded path prefixes as the settings make them, built on first use.
_policies_from_settings: dict[str, tuple[str, tuple[str, ...]]] = {}


@receiver(setting_changed)
def _forget_built_policies(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _policies_from_settings.clear()


def _policy_from_settings(header: str, setting: str) -> tuple[str, tuple[str, ...]]:
    built = _policies_from_settings.get(header)
    if built is None:
        configured = getattr(settings, setting, None) or {}
        built = _policies_from_settings[header] = (
            build_policy(report_only=header == HEADER_REPORT_ONLY),
            tuple(configured.get("EXCLUDE_URL_PREFIXES", None) or ()),
        )
    return built


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the policy that comes from the settings built once.

    django-csp builds both headers from the settings for every response, copying every
    directive each time (about 0.1 ms, as much as all the other middleware together spend on
    a kept availability answer) to make the same string again. A response whose view changed
    nothing (no ``@csp_update``, ``@csp_replace`` or ``@csp``) for a request that asked for no
    nonce gets that string, built once per configuration (a settings change builds it again);
    anything else goes through django-csp unchanged. Which responses get a header is decided
    as django-csp decides it."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _PER_RESPONSE_POLICY
        ):
            return super().process_response(request, response)
        # django-csp leaves Django's debug pages alone (they use inline scripts).
        if response.status_code in (500, 404) and settings.DEBUG:
            return response
        for header, setting, exempt in _POLICY_HEADERS:
            policy, excluded_prefixes = _policy_from_settings(header, setting)
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(excluded_prefixes)
            ):
                response[header] = policy
        # As django-csp does: a nonce asked for after the header is written would not be in it.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response


class MessageMiddleware(DjangoMessageMiddleware):
    """Django's messages middleware, making the storage only when a request uses it.

    Django makes the message storage (a cookie store with its signer and a session store) for
    every request and asks it to save on every response: about 30 us of CPU, while only the
    staff pages and the admin ever add or show a message. Here the storage is made the first
    time something adds, reads or counts messages (``messages.success``, the ``messages``
    context processor's template loop); a response for a request that never did has nothing
    to save, exactly as Django's unused storage saves nothing, and earlier messages stay where
    they are for the next page that shows them."""

    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(lambda: default_storage(request))  # type: ignore[attr-defined]

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        storage = getattr(request, "_messages", None)
        if isinstance(storage, SimpleLazyObject) and storage._wrapped is empty:  # type: ignore[attr-defined]
            return response
        return super().process_response(request, response)
