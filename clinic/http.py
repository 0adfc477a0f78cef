"""Request helpers shared by the apps."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import User
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponsePermanentRedirect,
    JsonResponse,
    QueryDict,
)
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.views import defaults


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


# The API takes small JSON documents; anything bigger is refused before it is read.
API_MAX_BODY_BYTES = 256 * 1024
NUL = "\x00"
# Only url-encoded forms are read here: Django reads their body into memory anyway, whereas
# reading a multipart body would consume a stream the view (or the API's 415) still needs.
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@functools.lru_cache(maxsize=32)
def _api_root(script_prefix: str, urlconf: str | None) -> str:
    # reverse() costs more than the rest of request_guard (tens of microseconds, every
    # request); its answer changes only with the script prefix or the URLconf it reads.
    return reverse("api:api-root", urlconf=urlconf)


def _is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith(_api_root(get_script_prefix(), get_urlconf()))


def _field_with_nul(values: QueryDict) -> str | None:
    for key in values:
        if NUL in key or any(NUL in value for value in values.getlist(key)):
            return key.replace(NUL, "")
    return None


def request_guard(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Refuse input no view can use, before any view sees it: an API body larger than
    ``API_MAX_BODY_BYTES`` (413; Django's DATA_UPLOAD_MAX_MEMORY_SIZE still bounds bodies sent
    without a length), and NUL characters in the query or a form (400: PostgreSQL cannot store
    them, so they would fail deep inside a query). JSON bodies are checked by the API's parser.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        is_api = _is_api_request(request)
        is_form = request.content_type == FORM_CONTENT_TYPE and not is_api
        field = _field_with_nul(request.GET)
        if field is None and is_form and request.method == "POST":
            field = _field_with_nul(request.POST)
        if field is not None:
            message = f"{field}: text may not contain NUL characters."
            if is_api:
                return _api_error("bad_request", message, status=400, field=field)
            return HttpResponseBadRequest(message)
        if is_api:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > API_MAX_BODY_BYTES:
                return _api_error(
                    "too_large",
                    f"The request body is larger than {API_MAX_BODY_BYTES // 1024} KiB.",
                    status=413,
                )
        return get_response(request)

    return middleware


def _api_error(code: str, message: str, *, status: int, field: str | None = None) -> JsonResponse:
    return JsonResponse({"error": code, "message": message, "field": field}, status=status)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for an unknown URL: the API's error shape under /api/, Django's page elsewhere."""
    if _is_api_request(request):
        return _api_error("not_found", "No such API operation or resource.", status=404)
    return defaults.page_not_found(request, exception)


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """``/favicon.ico``: browsers and bookmarking tools ask for it whatever a page links to.
    Resolved per request so the hashed name comes from the static manifest."""
    return HttpResponsePermanentRedirect(static("icons/favicon-32.png"))
