"""The JSON API (django-ninja): one ``NinjaAPI`` and one error shape for every router.

Errors always look like ``{"error": code, "message": "...", "field": "..."}``.
Routers are attached in ``clinic/urls.py`` (the project wiring), so this module imports no app.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from clinic.errors import ApplicationError

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Aftercare API",
    version="1",
    description=(
        "Booking and aftercare reminders for skin clinics. Errors share one shape: "
        '`{"error": code, "message": text, "field": name-or-null}`.'
    ),
    urls_namespace="api",
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
    return api.create_response(
        request,
        {"error": "http_error", "message": str(error), "field": None},
        status=error.status_code,
    )
