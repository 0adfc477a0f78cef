"""Waitlist pages of the client site: join (with a texted code, as for a booking), see and leave
an entry, and claim or decline an offered time. Views parse, call one service, and show domain
errors as form errors or friendly pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings.selectors.site import locations_bookable_online, services_bookable_online
from bookings.services import client_register, normalise_phone
from bookings.services.verification import (
    verification_check,
    verification_requester_for,
    verification_start,
    verification_token_redeem,
)
from bookings.tokens import manage_token_for
from clinic.errors import ApplicationError, NotFound
from clinic.http import client_ip
from clinic.models import Location, Service
from waitlist import services
from waitlist.errors import OfferTaken, PaymentRequired
from waitlist.forms import CodeForm, JoinForm, parse_windows
from waitlist.models import WaitlistEntry, WaitlistOffer
from waitlist.tokens import offer_token_for

SESSION_KEY = "waitlist_join"


def _friendly_link_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A tampered or unknown link is the booking site's "this link doesn't work" page (404)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            return render(
                request,
                "bookings/site/link_problem.html",
                {"error": error, "is_expired": False},
                status=error.status,
            )

    return wrapped


def _browser(request: HttpRequest) -> str:
    if request.session.session_key is None:
        request.session.save()
    return verification_requester_for(session_key=request.session.session_key)


def _bookable(*, location_slug: str, service_slug: str) -> tuple[Location, Service]:
    location = get_object_or_404(locations_bookable_online(), slug=location_slug)
    service = get_object_or_404(services_bookable_online(location=location), slug=service_slug)
    return location, service


@require_http_methods(["GET", "POST"])
def waitlist_join_page(request: HttpRequest, location_slug: str, service_slug: str) -> HttpResponse:
    """Choose days and parts of the day, give a name and mobile; a code is texted to it."""
    location, service = _bookable(location_slug=location_slug, service_slug=service_slug)
    today = timezone.now().astimezone(location.zone).date()
    initial_day = request.GET.get("on", "")
    initial = {}
    if initial_day:
        initial["windows"] = [
            f"{initial_day}:{part}" for part in ("morning", "afternoon", "evening")
        ]
    form = JoinForm(request.POST or None, initial=initial, today=today, clinic_name=location.name)
    if request.method == "POST" and form.is_valid():
        try:
            phone = normalise_phone(form.cleaned_data["phone"], region=location.country)
            verification = verification_start(
                phone=phone, ip=client_ip(request), location=location, requester=_browser(request)
            )
        except ApplicationError as error:
            form.add_error("phone", error.message)
        else:
            expires_on = form.cleaned_data["expires_on"]
            request.session[SESSION_KEY] = {
                "location": location.pk,
                "service": service.pk,
                "first_name": form.cleaned_data["first_name"],
                "last_name": form.cleaned_data["last_name"],
                "phone": phone,
                "windows": form.cleaned_data["windows"],
                "expires_on": expires_on.isoformat() if expires_on else "",
                "consent_wording": form.consent_wording,
                "verification": verification.handle,
            }
            return redirect("waitlist-verify")
    return render(
        request,
        "waitlist/join.html",
        {"form": form, "location": location, "service": service},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
def waitlist_verify_page(request: HttpRequest) -> HttpResponse:
    """The texted code proves the phone; then the client joins the waitlist."""
    pending = request.session.get(SESSION_KEY)
    if not pending:
        return redirect("site-book")
    location = get_object_or_404(Location, pk=pending["location"])
    service = get_object_or_404(Service, pk=pending["service"])
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token = verification_check(
                handle=pending["verification"],
                code=form.cleaned_data["code"],
                requester=_browser(request),
            )
            entry = _join(pending, token=token, location=location, service=service)
        except ApplicationError as error:
            form.add_error("code" if error.field in {"code", None} else None, error.message)
        else:
            request.session.pop(SESSION_KEY, None)
            return redirect("waitlist-entry", token=entry.token)
    return render(
        request,
        "waitlist/verify.html",
        {"form": form, "phone_ending": pending["phone"][-4:], "service": service},
        status=422 if form.errors else 200,
    )


def _join(pending: dict, *, token: str, location: Location, service: Service) -> WaitlistEntry:
    # Spending the proof and joining commit together, as for a booking.
    with transaction.atomic():
        verification_token_redeem(token=token, phone=pending["phone"])
        client = client_register(
            first_name=pending["first_name"],
            last_name=pending["last_name"],
            phone=pending["phone"],
            sms_consent=True,
            consent_wording=pending["consent_wording"],
            location=location,
            phone_verified=True,
        )
        return services.waitlist_join(
            client=client,
            service=service,
            location=location,
            windows=parse_windows(pending["windows"]),
            expires_on=datetime.fromisoformat(pending["expires_on"]).date()
            if pending["expires_on"]
            else None,
        )


@require_GET
@_friendly_link_errors
def waitlist_entry_page(request: HttpRequest, token: str) -> HttpResponse:
    """One entry: what the client waits for, and a button to leave."""
    entry = services.entry_from_token(token)
    return render(
        request,
        "waitlist/entry.html",
        {
            "entry": entry,
            "windows": entry.windows.all(),
            "needs_clearance": services.entry_needs_clearance(entry=entry),
            "is_live": entry.status in services.LIVE_ENTRY_STATUSES,
        },
    )


@require_POST
@_friendly_link_errors
def waitlist_leave_page(request: HttpRequest, token: str) -> HttpResponse:
    services.waitlist_leave(entry=services.entry_from_token(token))
    return redirect("waitlist-entry", token=token)


def _taken_page(request: HttpRequest, offer: WaitlistOffer, error: OfferTaken) -> HttpResponse:
    location = offer.freed_time.location
    alternatives = [
        datetime.fromisoformat(start).astimezone(location.zone)
        for start in error.extra.get("alternatives", [])
    ]
    return render(
        request,
        "waitlist/taken.html",
        {
            "offer": offer,
            "location": location,
            "service": offer.entry.service,
            "alternatives": alternatives,
        },
        status=error.status,
    )


@require_http_methods(["GET", "POST"])
@_friendly_link_errors
def waitlist_claim_page(request: HttpRequest, token: str) -> HttpResponse:
    """The offered time: book it (through the booking engine) or say no thanks."""
    offer = services.offer_from_token(token)
    if offer.status == WaitlistOffer.Status.CLAIMED and offer.appointment is not None:
        return redirect("site-manage", token=manage_token_for(offer.appointment))
    if request.method == "POST":
        try:
            appointment = services.offer_claim(token=token)
        except PaymentRequired as step:
            # The deposit first, as for any online booking: the payment books the held time.
            return redirect(step.extra["payment_url"])
        except OfferTaken as error:
            return _taken_page(request, offer, error)
        except ApplicationError as error:
            return render(
                request,
                "waitlist/claim.html",
                {"offer": offer, "problem": error.message, **_offer_context(offer)},
                status=error.status,
            )
        return redirect("site-manage", token=manage_token_for(appointment))
    if not services.offer_is_claimable(offer):
        return _taken_page(request, offer, services.offer_taken_error(offer))
    return render(request, "waitlist/claim.html", {"offer": offer, **_offer_context(offer)})


def _offer_context(offer: WaitlistOffer) -> dict[str, object]:
    location = offer.freed_time.location
    seconds_left = max(0, int((offer.expires_at - timezone.now()).total_seconds()))
    return {
        "location": location,
        "service": offer.entry.service,
        "start": offer.freed_time.start_at.astimezone(location.zone),
        "practitioner": offer.freed_time.practitioner,
        "minutes_left": (seconds_left + 59) // 60,
        "decline_url": reverse("waitlist-decline", args=[offer_token_for(offer.pk)]),
    }


@require_POST
@_friendly_link_errors
def waitlist_decline_page(request: HttpRequest, token: str) -> HttpResponse:
    offer = services.offer_from_token(token)
    try:
        services.offer_decline(token=token)
    except OfferTaken as error:
        return _taken_page(request, offer, error)
    return render(
        request,
        "waitlist/declined.html",
        {"offer": offer, "entry": offer.entry, "location": offer.freed_time.location},
    )
