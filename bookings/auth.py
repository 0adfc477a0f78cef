"""Staff authentication for the JSON API (django-ninja).

A staff member is recognised either by their Django session (the browser workspace; unsafe
methods must pass Django's CSRF check, as a form would) or by a personal API token sent as
``Authorization: Bearer <token>`` (scripts and integrations; no cookie, so no CSRF). Either way
the user must hold one of the staff roles; a valid login without a role gets 403, a missing or
bad credential 401.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security.base import AuthBase
from ninja.utils import check_csrf

from bookings.services.api_tokens import api_token_authenticate
from clinic import roles
from clinic.errors import PermissionDenied
from clinic.roles import Actor

BEARER = "bearer"


class StaffAuth(AuthBase):
    """Session or Bearer token, then a staff role. Returns the user (``request.auth``)."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> Actor:
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != BEARER or not token.strip():
                return None
            user = api_token_authenticate(raw_token=token.strip())
            if user is None:
                return None
            # Token requests carry no session cookie, so they cannot be forged cross-site.
            request.user = user
        else:
            user = getattr(request, "user", None)
            if user is None or not user.is_authenticated:
                return None
            if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
                raise HttpError(403, "CSRF check failed")
        if not roles.is_staff_member(user):
            raise PermissionDenied("This needs a staff role (reception, practitioner or manager).")
        return user


staff_auth = StaffAuth()


def staff_user(request: HttpRequest) -> Any:
    """The authenticated staff user of a request that passed ``staff_auth``."""
    return request.auth  # type: ignore[attr-defined]
