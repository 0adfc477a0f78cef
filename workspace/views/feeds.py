from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from bookings.models import CalendarFeedToken
from bookings.selectors.calendar import own_practitioner
from bookings.services.calendar_feeds import (
    calendar_feed_render,
    calendar_feed_token_issue,
    calendar_feed_token_revoke,
    calendar_feed_url,
)
from clinic import roles
from clinic.errors import ApplicationError, NotFound
from clinic.models import Practitioner
from clinic.parsing import id_or_none
from workspace.views.access import render_staff, staff_member_required


def _target_practitioner(request: HttpRequest) -> Practitioner:
    wanted = id_or_none(request.POST.get("practitioner") or request.GET.get("practitioner"))
    if wanted is not None and roles.has_role(request.user, roles.MANAGER):
        practitioner = Practitioner.objects.filter(id=wanted).first()
    else:
        practitioner = own_practitioner(request.user)
    if practitioner is None:
        raise NotFound("Calendar feeds belong to practitioners; your account has none linked.")
    return practitioner


@staff_member_required
def feed_settings(request: HttpRequest) -> HttpResponse:
    """Show whether a feed is live; the URL itself is only shown right after issuing it."""
    is_manager = roles.has_role(request.user, roles.MANAGER)
    try:
        practitioner = _target_practitioner(request)
    except NotFound:
        practitioner = None
    live = (
        CalendarFeedToken.objects.filter(practitioner=practitioner, revoked_at__isnull=True).first()
        if practitioner
        else None
    )
    return render_staff(
        request,
        "workspace/feeds.html",
        {
            "nav": "feeds",
            "practitioner": practitioner,
            "live_feed": live,
            "new_feed_url": request.session.pop("new_calendar_feed_url", None),
            "all_practitioners": Practitioner.objects.filter(is_active=True) if is_manager else [],
        },
    )


def _feed_settings_redirect(practitioner: Practitioner) -> HttpResponse:
    query = urlencode({"practitioner": practitioner.id})
    return redirect(f"{reverse('staff-feeds')}?{query}")


@require_POST
@staff_member_required
def feed_issue(request: HttpRequest) -> HttpResponse:
    practitioner = _target_practitioner(request)
    token = calendar_feed_token_issue(actor=request.user, practitioner=practitioner)
    # Shown once after the redirect; never stored in clear.
    request.session["new_calendar_feed_url"] = calendar_feed_url(token=token)
    messages.success(request, "New private calendar link created; the old one no longer works.")
    return _feed_settings_redirect(practitioner)


@require_POST
@staff_member_required
def feed_revoke(request: HttpRequest) -> HttpResponse:
    practitioner = _target_practitioner(request)
    calendar_feed_token_revoke(actor=request.user, practitioner=practitioner)
    messages.success(request, "Calendar link revoked.")
    return _feed_settings_redirect(practitioner)


@require_GET
def feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself: no session (phones fetch it), the signed token is the credential."""
    try:
        body = calendar_feed_render(token=token)
    except ApplicationError as error:
        return HttpResponse(error.message, status=error.status, content_type="text/plain")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response
