"""The JSON API (django-ninja): one ``NinjaAPI`` and one error shape for every router.

Errors always look like ``{"error": code, "message": "...", "field": "..."}``.
Routers are attached in ``clinic/urls.py`` (the project wiring), so this module imports no app.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from clinic import roles
from clinic.errors import ApplicationError, ValidationFailed

logger = logging.getLogger(__name__)


class UnsupportedMediaType(ApplicationError):
    code = "unsupported_media_type"
    status = 415


class JsonOnlyParser(Parser):
    """Request bodies must say they are JSON.

    A cross-site HTML form can post ``text/plain``, ``multipart/form-data`` or
    ``application/x-www-form-urlencoded`` without the browser asking first, but not
    ``application/json`` (that needs a CORS preflight, which we never grant). Refusing the
    others means no other web page can make its visitors' browsers call the API, e.g. to spread
    verification-code requests over thousands of addresses."""

    def parse_body(self, request: HttpRequest) -> dict:
        content_type = (request.content_type or "").lower()
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise UnsupportedMediaType(
                "Send the request body as JSON with Content-Type: application/json.",
                field="Content-Type",
            )
        try:
            return json.loads(request.body)
        except ValueError:
            raise ValidationFailed("The request body is not valid JSON.", field="body") from None


def _docs_for_staff_in_production(view: Callable) -> Callable:
    """The API docs (and schema) are public only where ``API_DOCS_PUBLIC`` is on (development);
    in production only signed-in staff see them."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:  # noqa: ANN002, ANN003
        if settings.API_DOCS_PUBLIC or roles.is_staff_member(request.user):
            return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path())

    return wrapped


api = NinjaAPI(
    title="Aftercare API",
    version="1",
    description=(
        "Booking and aftercare reminders for skin clinics. Errors share one shape: "
        '`{"error": code, "message": text, "field": name-or-null}`.'
    ),
    urls_namespace="api",
    parser=JsonOnlyParser(),
    docs_decorator=_docs_for_staff_in_production,
)


def _field_from_location(location: list[str | int]) -> str | None:
    # Ninja reports e.g. ["body", "payload", "phone"] or ["query", "service"]; the last
    # string that is not a container name is the field the client sent.
    names = [
        str(part)
        for part in location
        if str(part) not in {"body", "query", "path", "payload", "form"}
    ]
    return ".".join(names) if names else None


@api.exception_handler(ApplicationError)
def application_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    return api.create_response(request, error.as_dict(), status=error.status)


@api.exception_handler(NinjaValidationError)
def validation_error(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    first = error.errors[0] if error.errors else {}
    field = _field_from_location(list(first.get("loc", [])))
    message = first.get("msg", "Invalid input")
    if field:
        message = f"{field}: {message}"
    return api.create_response(
        request,
        {"error": "invalid", "message": message, "field": field, "details": error.errors},
        status=422,
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"error": "unauthenticated", "message": "Authentication required", "field": None},
        status=401,
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    # Ninja wraps whatever the body parser raises in a 400; ours say exactly what was wrong.
    if isinstance(error.__cause__, ApplicationError):
        return application_error(request, error.__cause__)
    return api.create_response(
        request,
        {"error": "http_error", "message": str(error), "field": None},
        status=error.status_code,
    )
