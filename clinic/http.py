"""Request helpers shared by the apps."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest


class ApiRequest(HttpRequest):
    """The request an authenticated django-ninja endpoint gets: ``auth`` is what the router's
    auth callable returned (the staff user). For type checking only; ninja sets the attribute."""

    auth: User


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for rate limits.

    Without trusted proxies this is REMOTE_ADDR: X-Forwarded-For is written by the client and
    trusting it would let anyone dodge a per-IP limit. Behind ``TRUSTED_PROXY_COUNT`` proxies
    that each append the address they saw, the client is that many entries from the right.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None
