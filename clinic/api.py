"""The JSON API (django-ninja): one ``NinjaAPI`` and one error shape for every router.

Errors always look like ``{"error": code, "message": "...", "field": "..."}``.
Routers are attached in ``clinic/urls.py`` (the project wiring), so this module imports no app.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from clinic import roles
from clinic.errors import ApplicationError, ValidationFailed

logger = logging.getLogger(__name__)


class ErrorOut(Schema):
    """The one error shape. Some errors add fields: ``alternatives`` (nearest free starts, on
    409 slot_taken), ``retry_after`` (seconds, on 429), ``attempts_left`` (a wrong code),
    ``details`` (every validation problem, on 422)."""

    error: str
    message: str
    field: str | None = None
    alternatives: list[str] | None = None
    retry_after: int | None = None
    attempts_left: int | None = None
    details: list[dict[str, Any]] | None = None


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """``response=`` entries for the domain errors an operation can answer (409, 410, …); the
    generic ones (400, 401, 403, 404, 413, 422) are declared for every operation that can
    produce them by ``_add_error_responses``."""
    return dict.fromkeys(statuses, ErrorOut)


ERROR_DESCRIPTIONS = {
    400: "The request could not be read (e.g. NUL characters in a parameter)",
    401: "Missing or invalid credentials",
    403: "Authenticated, but this role may not do this",
    404: "No such resource",
    413: "The request body is larger than the API accepts",
    415: "The body is not sent as application/json",
    422: "A parameter or field is invalid; `field` names it",
}


def token_links(*, status: int, field: str, operations: dict[str, str]) -> dict[str, Any]:
    """``openapi_extra`` declaring OpenAPI links from an answer carrying ``field`` to the
    operations that token opens (link name → operationId). Used by clients that follow links,
    and by schemathesis' stateful run."""
    token = {"token": f"$response.body#/{field}"}
    return {
        "responses": {
            str(status): {
                "links": {
                    name: {"operationId": operation_id, "parameters": token}
                    for name, operation_id in operations.items()
                }
            }
        }
    }


def _add_error_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare in every operation the error statuses the project-wide handlers can produce,
    all with ``ErrorOut``: 400 and 422 for any input, 413 and 415 where there is a body, 404
    where there are path parameters, 401 and 403 where credentials are needed. Operations
    declare their domain errors (409, 410, 429) themselves."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["ErrorOut"] = error_schema
    reference = {"$ref": "#/components/schemas/ErrorOut"}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            parameters = operation.get("parameters", [])
            statuses = set()
            if parameters or "requestBody" in operation:
                statuses |= {400, 422}
            if "requestBody" in operation:
                statuses |= {413, 415}
            if any(parameter.get("in") == "path" for parameter in parameters):
                statuses.add(404)
            if operation.get("security"):
                statuses |= {401, 403}
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                responses.setdefault(
                    str(status),
                    {
                        "description": ERROR_DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return schema


class AftercareAPI(NinjaAPI):
    """The project's API: every operation declares the generic errors, and the schema is
    built once per prefix (building it takes a quarter of a second; routes are fixed once the
    URLconf is loaded)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._openapi_schemas: dict[str | None, Any] = {}

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        if path_params or path_prefix not in self._openapi_schemas:
            schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
            if path_params:
                return _add_error_responses(schema)
            self._openapi_schemas[path_prefix] = _add_error_responses(schema)
        return self._openapi_schemas[path_prefix]


class UnsupportedMediaType(ApplicationError):
    code = "unsupported_media_type"
    status = 415


class JsonOnlyParser(Parser):
    """Request bodies must say they are JSON, and be a JSON object without NUL characters.

    A cross-site HTML form can post ``text/plain``, ``multipart/form-data`` or
    ``application/x-www-form-urlencoded`` without the browser asking first, but not
    ``application/json`` (that needs a CORS preflight, which we never grant). Refusing the
    others means no other web page can make its visitors' browsers call the API, e.g. to spread
    verification-code requests over thousands of addresses. NUL characters are refused because
    PostgreSQL cannot store them (they would fail deep inside a query)."""

    def parse_body(self, request: HttpRequest) -> dict:
        content_type = (request.content_type or "").lower()
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise UnsupportedMediaType(
                "Send the request body as JSON with Content-Type: application/json.",
                field="Content-Type",
            )
        try:
            document = json.loads(request.body)
        except ValueError:
            raise ValidationFailed("The request body is not valid JSON.", field="body") from None
        # Every operation's body is one JSON object; a number or a list would otherwise pass
        # as "no fields given" for a schema whose fields all have defaults.
        if not isinstance(document, dict):
            raise ValidationFailed("The request body must be a JSON object.", field="body")
        if _contains_nul(document):
            raise ValidationFailed("Text may not contain NUL characters.", field="body")
        return document


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(key) or _contains_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


def _docs_for_staff_in_production(view: Callable) -> Callable:
    """The API docs (and schema) are public only where ``API_DOCS_PUBLIC`` is on (development);
    in production only signed-in staff see them."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:  # noqa: ANN002, ANN003
        if settings.API_DOCS_PUBLIC or roles.is_staff_member(request.user):
            return view(request, *args, **kwargs)
        return redirect_to_login(request.get_full_path())

    return wrapped


api = AftercareAPI(
    parser=JsonOnlyParser(),
    docs_decorator=_docs_for_staff_in_production,
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


HTTP_ERROR_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    # Ninja wraps whatever the body parser raises in a 400; ours say exactly what was wrong.
    if isinstance(error.__cause__, ApplicationError):
        return application_error(request, error.__cause__)
    return api.create_response(
        request,
        {
            "error": HTTP_ERROR_CODES.get(error.status_code, "http_error"),
            "message": str(error),
            "field": None,
        },
        status=error.status_code,
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return api.create_response(
        request, {"error": "not_found", "message": "Not found", "field": None}, status=404
    )


def too_large_response() -> JsonResponse:
    return JsonResponse(
        {
            "error": "too_large",
            "message": "The request body is too large.",
            "field": None,
        },
        status=413,
    )


@api.exception_handler(RequestDataTooBig)
def request_too_large(request: HttpRequest, error: RequestDataTooBig) -> HttpResponse:
    return too_large_response()


@api.exception_handler(SuspiciousOperation)
def suspicious_request(request: HttpRequest, error: SuspiciousOperation) -> HttpResponse:
    # Django answers these with 400 outside the API; ninja would turn them into a 500.
    return api.create_response(
        request,
        {"error": "bad_request", "message": "The request could not be read.", "field": None},
        status=400,
    )
