"""Who may open the staff workspace at all, and the context every staff page shares.

This is only the door (signed in, holds a staff role). What each role may see or change is
decided by the selectors and services the views call, with ``actor=request.user``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from clinic import roles
from clinic.errors import ApplicationError
from clinic.models import Location
from clinic.parsing import id_or_none
from clinic.selectors import location_default, locations_active
from payments.services.policies import payments_off_with_policies
from reminders.selectors import urgent_replies_waiting

RowT = TypeVar("RowT", bound=Model)


def staff_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    held = roles.roles_of(request.user)
    return {
        "staff_roles": {name: name in held for name in roles.ALL_ROLES},
        "staff_role_names": sorted(held),
        # The nav badge: someone must see an urgent reply from whichever page they are on.
        "urgent_replies_waiting": urgent_replies_waiting() if held else 0,
        # Date and time inputs are written as the shown location writes them (the views read
        # them back with the same location's convention).
        "input_region": input_region_for(request),
        # Deposits and fees set while no Stripe key is configured are never collected.
        "payments_off_banner": payments_off_with_policies() if held else False,
        **extra,
    }


def input_region_for(request: HttpRequest) -> str:
    """The country whose date and time conventions the page's inputs use (GB before any
    location exists)."""
    try:
        return current_location(request).country
    except ApplicationError:
        return "GB"


def render_staff(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, *, status=200
) -> HttpResponse:
    return render(request, template, staff_context(request, **(context or {})), status=status)


def render_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    """A domain error as a small page or, for HTMX, an inline alert fragment."""
    template = (
        "workspace/_error.html" if request.headers.get("HX-Request") else "workspace/error.html"
    )
    return render_staff(request, template, {"error": error}, status=error.status)


def redirect_to_next(request: HttpRequest, default: str, *args: Any) -> HttpResponseRedirect:
    """Go back to the form's ``next`` page when it is one of ours, else to ``default`` (a URL
    name or path). A ``next`` pointing at another site is ignored: otherwise a link could make
    a staff action land on a look-alike login page."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(wanted)
    return HttpResponseRedirect(resolve_url(default, *args))


def staff_member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous users go to the login page; signed-in users without a staff role get 403.
    Domain errors raised by the view's service/selector render as error pages with their
    status (403, 404, 409 …)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not roles.is_staff_member(request.user):
            return render_staff(
                request,
                "workspace/error.html",
                {"error": ApplicationError("Your account has no staff role yet.")},
                status=403,
            )
        try:
            # Staff read times in the clinic's zone, whatever the server's TIME_ZONE.
            with timezone.override(current_location(request).zone):
                return view(request, *args, **kwargs)
        except ApplicationError as error:
            return render_error(request, error)

    return wrapper


def row_or_none(rows: QuerySet[RowT], raw_id: object) -> RowT | None:
    """The row of ``rows`` whose id a form or query sent, or None when it sent no valid id."""
    wanted = id_or_none(raw_id)
    return rows.filter(pk=wanted).first() if wanted is not None else None


def current_location(request: HttpRequest) -> Location:
    """The location the workspace shows: ``?location=<id>`` or the default one."""
    wanted = id_or_none(request.GET.get("location") or request.POST.get("location"))
    if wanted is not None:
        chosen = locations_active().filter(id=wanted).first()
        if chosen:
            return chosen
    location = location_default()
    if location is None:
        raise ApplicationError("No active location is configured yet (add one in the admin).")
    return location
