"""The client booking site (``/book/``): treatment → time (held ``SLOT_HOLD_MINUTES``) → details → phone
code → confirmation. Views parse, call one service, and show domain errors as friendly pages or
form errors; the booking-in-progress lives in the session, keyed by the hold it owns.

A browser that proved a phone keeps that proof in its session (the cookie is only the opaque
session id) for ``PHONE_PROOF_LIFETIME``: within it the client's details are filled in and a
further booking for the same number needs no new code; after it, or on another device, nothing
personal is shown and a code is asked for again."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from bookings import checkout, policy
from bookings.availability import cached_answer, nearest_free_slots
from bookings.forms import CodeForm, DetailsForm
from bookings.models import Appointment, Client
from bookings.selectors.site import (
    consultation_for,
    locations_bookable_online,
    services_bookable_online,
    verification_open,
)
from bookings.services import (
    appointment_cancel,
    appointment_hold,
    client_register,
    normalise_phone,
)
from bookings.services.appointments import HoldLimitReached
from bookings.services.online import appointment_book_online
from bookings.services.verification import (
    VerificationRateLimited,
    verification_check,
    verification_requester_for,
    verification_start,
)
from bookings.tokens import manage_token_for
from bookings.views.site_picker import (
    chosen_practitioner,
    local_alternatives,
    parse_start,
    picker_context,
)
from clinic.errors import (
    ApplicationError,
    ClientBusy,
    ConsultationAlreadyBooked,
    HoldExpired,
    NotEligible,
    SlotTaken,
    SlotUnavailable,
    ValidationFailed,
)
from clinic.http import client_ip
from clinic.models import Location, Service
from clinic.templatetags.phone_format import phone as phone_display

logger = logging.getLogger(__name__)

SESSION_KEY = "booking"
PHONE_PROOF_KEY = "phone_proof"
PHONE_PROOF_LIFETIME = timedelta(hours=1)
# Eligibility refusals that mean "see us for a consultation first".


# --- helpers -------------------------------------------------------------------------------


def _bookable_service(*, location_slug: str, service_slug: str) -> tuple[Location, Service]:
    location = get_object_or_404(locations_bookable_online(), slug=location_slug)
    service = get_object_or_404(services_bookable_online(location=location), slug=service_slug)
    return location, service


def _state(request: HttpRequest) -> dict:
    return dict(request.session.get(SESSION_KEY) or {})


def _save_state(request: HttpRequest, state: dict) -> None:
    request.session[SESSION_KEY] = state


def _current_hold(request: HttpRequest) -> Appointment | None:
    hold_id = _state(request).get("hold_id")
    if not hold_id:
        return None
    return (
        Appointment.objects.select_related("service", "location", "practitioner")
        .filter(pk=hold_id)
        .first()
    )


def _hold_is_live(hold: Appointment) -> bool:
    return (
        hold.status == Appointment.Status.HELD
        and hold.hold_expires_at is not None
        and hold.hold_expires_at > timezone.now()
    )


def _browser(request: HttpRequest) -> str:
    """This browser's binding for holds and verifications (a keyed hash of its session key),
    creating the session when it has none yet."""
    if request.session.session_key is None:
        request.session.save()
    return verification_requester_for(session_key=request.session.session_key)


def returning_client(request: HttpRequest) -> Client | None:
    """The client whose phone this browser proved in the last hour, if the phone still
    matches; nobody otherwise, so a shared device never shows the previous client."""
    proof = request.session.get(PHONE_PROOF_KEY) or {}
    try:
        client_id, phone, proven_at = int(proof["client"]), str(proof["phone"]), float(proof["at"])
    except (KeyError, TypeError, ValueError):
        return None
    if time.time() - proven_at > PHONE_PROOF_LIFETIME.total_seconds():
        request.session.pop(PHONE_PROOF_KEY, None)
        return None
    return Client.objects.filter(pk=client_id, phone=phone).first()


def _remember_client(request: HttpRequest, client: Client, *, proven_now: bool) -> None:
    """Keep the phone proof in the session; its clock starts when the code was typed, so
    booking again without a code does not extend it."""
    proven_at = time.time()
    if not proven_now:
        proven_at = float((request.session.get(PHONE_PROOF_KEY) or {}).get("at", proven_at))
    request.session[PHONE_PROOF_KEY] = {"client": client.pk, "phone": client.phone, "at": proven_at}


def _picker_page(
    request: HttpRequest,
    *,
    location: Location,
    service: Service,
    template: str = "bookings/site/times.html",
    error: ApplicationError | None = None,
    status: int = 200,
    **context,
) -> HttpResponse:
    base_url = reverse("site-times", args=[location.slug, service.slug])
    returning = returning_client(request)
    picker = picker_context(
        request,
        service=service,
        location=location,
        base_url=base_url,
        action_url=reverse("site-hold", args=[location.slug, service.slug]),
        extra_query={"consulted": "yes"} if service.requires_consultation else None,
        client_id=returning.pk if returning is not None else None,
    )
    alternatives = []
    if error is not None:
        alternatives = local_alternatives(
            isoformats=error.extra.get("alternatives", []), location=location
        )
    context = {**picker, "error": error, "alternatives": alternatives, **context}
    if request.headers.get("HX-Request") and error is None:
        return render(request, "bookings/site/_picker_body.html", context)
    return render(request, template, context, status=status)


def _countdown(hold: Appointment) -> dict[str, object]:
    """What the hold countdown starts from (its script counts down from there)."""
    expires_at = hold.hold_expires_at
    assert expires_at is not None  # a hold always has an expiry (a database constraint)
    seconds_left = max(int((expires_at - timezone.now()).total_seconds()), 0)
    return {
        "hold_expires_epoch": int(expires_at.timestamp()),
        "hold_time_left": f"{seconds_left // 60}:{seconds_left % 60:02d}",
    }


def _hold_expired_page(
    request: HttpRequest, *, location: Location, service: Service, around: datetime
) -> HttpResponse:
    nearest = [
        slot.start_at
        for slot in nearest_free_slots(service=service, location=location, around=around)
    ]
    return render(
        request,
        "bookings/site/hold_expired.html",
        {
            "location": location,
            "service": service,
            "alternatives": nearest,
            "action_url": reverse("site-hold", args=[location.slug, service.slug]),
            "hold_minutes": settings.SLOT_HOLD_MINUTES,
        },
        status=410,
    )


# --- step 1: location and treatment -------------------------------------------------------


def book_start(request: HttpRequest) -> HttpResponse:
    """Choose the clinic (skipped when there is one) and the treatment."""
    locations = list(locations_bookable_online())
    location = None
    if len(locations) == 1:
        location = locations[0]
    elif request.GET.get("location"):
        location = next((loc for loc in locations if loc.slug == request.GET["location"]), None)
    services = list(services_bookable_online(location=location)) if location else []
    return render(
        request,
        "bookings/site/start.html",
        {
            "locations": locations,
            "location": location,
            "services": services,
            "returning": returning_client(request),
        },
    )


# --- step 2 and 3: consultation question, then times --------------------------------------


# Stands for the request's CSRF token in a kept picker fragment (the only part that differs
# between two visitors asking for the same week).
_CSRF_PLACEHOLDER = "aftercare-csrf-token-placeholder"


class _NotAFragment(Exception):  # noqa: N818 - carries the response, not an error
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


# The location each slug names, remembered by this process so that a kept fragment is given
# out without any query. Only slugs that name a location get in. A stale entry (a slug given
# to another location) costs nothing wrong: every location change retires every kept answer,
# and a fragment is kept only after its slug was looked up again and still named this id.
_location_id_by_slug: dict[str, int] = {}


def _location_id(slug: str) -> int | None:
    return Location.objects.filter(slug=slug).values_list("pk", flat=True).first()


def book_times(request: HttpRequest, location_slug: str, service_slug: str) -> HttpResponse:
    """Ask about a recent consultation where the treatment needs one, then show times.

    The week fragment HTMX asks for is the same for everyone but the CSRF token, so it is
    kept like an availability answer (``bookings.availability.answers``: retired by any
    calendar change, a few seconds at most) with the token put in per request. Not for a
    known client: their own visits hide times, so their week is theirs alone."""
    if (
        settings.AVAILABILITY_CACHE_SECONDS <= 0
        or not request.headers.get("HX-Request")
        or request.GET.get("then")
        or returning_client(request) is not None
    ):
        return _book_times(request, location_slug=location_slug, service_slug=service_slug)
    location_id = _location_id_by_slug.get(location_slug)
    if location_id is None:
        location_id = _location_id(location_slug)
        if location_id is None:
            return _book_times(request, location_slug=location_slug, service_slug=service_slug)
        _location_id_by_slug[location_slug] = location_id

    def fragment() -> bytes:
        # After the generations were read (see answers): a slug that now names another
        # location is answered, not kept under this one's generation.
        if _location_id(location_slug) != location_id:
            _location_id_by_slug.pop(location_slug, None)
            raise _NotAFragment(
                _book_times(request, location_slug=location_slug, service_slug=service_slug)
            )
        response = _book_times(
            request, location_slug=location_slug, service_slug=service_slug, csrf=_CSRF_PLACEHOLDER
        )
        if response.status_code != 200 or _CSRF_PLACEHOLDER.encode() not in response.content:
            raise _NotAFragment(response)
        return response.content

    today = timezone.now().astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    try:
        body = cached_answer(
            location_id=location_id,
            question=("picker", service_slug, today, sorted(request.GET.items())),
            compute=fragment,
        )
    except _NotAFragment as other:
        return other.response
    return HttpResponse(
        body.replace(_CSRF_PLACEHOLDER.encode(), get_token(request).encode()),
        content_type="text/html; charset=utf-8",
    )


def _book_times(
    request: HttpRequest, *, location_slug: str, service_slug: str, csrf: str | None = None
) -> HttpResponse:
    location, service = _bookable_service(location_slug=location_slug, service_slug=service_slug)
    if service.requires_consultation:
        answer = request.GET.get("consulted")
        if answer == "no":
            consultation = consultation_for(treatment=service, location=location)
            return render(
                request,
                "bookings/site/consultation_first.html",
                {"location": location, "service": service, "consultation": consultation},
            )
        if answer != "yes":
            return render(
                request,
                "bookings/site/consultation_question.html",
                {"location": location, "service": service},
            )
    if request.GET.get("then"):
        # The treatment they came for: offered as a tentative hold after the consultation.
        state = _state(request)
        state["then"] = request.GET["then"]
        _save_state(request, state)
    if csrf is not None:
        return _picker_page(request, location=location, service=service, csrf_token=csrf)
    return _picker_page(request, location=location, service=service)


# --- step 4: hold the chosen time ---------------------------------------------------------


@require_POST
def book_hold(request: HttpRequest, location_slug: str, service_slug: str) -> HttpResponse:
    """Hold the chosen start for ``SLOT_HOLD_MINUTES``; a taken time shows the nearest free ones."""
    location, service = _bookable_service(location_slug=location_slug, service_slug=service_slug)
    start_at = parse_start(request.POST.get("start"))
    if start_at is None:
        return _picker_page(
            request,
            location=location,
            service=service,
            error=SlotUnavailable("Please choose one of the times shown.", field="start"),
            status=422,
        )
    practitioner = chosen_practitioner(
        request, service=service, location=location, source=request.POST
    )
    try:
        hold = appointment_hold(
            service=service,
            location=location,
            start_at=start_at,
            practitioner=practitioner,
            ip=client_ip(request),
            browser=_browser(request),
            phone_proven=returning_client(request) is not None,
        )
    except (SlotTaken, SlotUnavailable, HoldLimitReached) as error:
        return _picker_page(
            request,
            location=location,
            service=service,
            error=error,
            status=error.status,
            taken_at=start_at.astimezone(location.zone),
        )
    state = _state(request)
    previous_hold_id = state.get("hold_id")
    # What the client typed (and a code already on its way) outlive a lapsed or changed hold.
    state.pop("booked_url", None)
    state.update(hold_id=hold.pk)
    _save_state(request, state)
    if previous_hold_id and previous_hold_id != hold.pk:
        # Changing their mind should not keep a second time locked away from other clients.
        previous = Appointment.objects.filter(
            pk=previous_hold_id, status=Appointment.Status.HELD
        ).first()
        if previous is not None:
            appointment_cancel(appointment=previous, actor_label="system", reason="Hold replaced")
    return redirect("site-details")


# --- step 5: details ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def book_details(request: HttpRequest) -> HttpResponse:
    hold = _current_hold(request)
    state = _state(request)
    if hold is None:
        return redirect(state.get("booked_url") or "site-book")
    location, service = hold.location, hold.service
    if not _hold_is_live(hold):
        return _hold_expired_page(request, location=location, service=service, around=hold.start_at)
    returning = returning_client(request)
    typed = state.get("details") or {}
    initial = {}
    if typed:
        initial = {
            "first_name": typed.get("first_name", ""),
            "last_name": typed.get("last_name", ""),
            "phone": phone_display(typed.get("phone", ""), location.country),
            "email": typed.get("email", ""),
            "sms_consent": bool(typed.get("sms_consent")),
            "email_consent": bool(typed.get("email_consent")),
            "policy_accepted": bool(typed.get("policy_accepted")),
        }
    elif returning is not None:
        initial = {
            "first_name": returning.first_name,
            "last_name": returning.last_name,
            "phone": returning.phone,
            "email": returning.email,
            "sms_consent": returning.can_receive_sms,
            "email_consent": returning.can_receive_email,
        }
    form = DetailsForm(
        request.POST or None,
        initial=initial,
        clinic_name=location.name,
        country=location.country,
    )
    code_on_its_way = typed.get("phone") and verification_open(
        phone=typed["phone"], handle=state.get("verification"), requester=_browser(request)
    )
    phone = ""
    if request.method == "POST" and request.POST.get("phone", "").strip():
        # Checked even when other fields are missing, so every problem shows at once.
        try:
            phone = normalise_phone(request.POST.get("phone", ""), region=location.country)
        except ValidationFailed as error:
            form.add_error("phone", error.message)
    if request.method == "POST" and form.is_valid():
        details = {
            **form.cleaned_data,
            "consent_wording": form.consent_wording,
            "email_consent_wording": form.email_consent_wording,
            "phone": phone,
        }
        state["details"] = details
        if returning is not None and returning.phone == phone:
            _save_state(request, state)
            return _finish_booking(request, hold=hold, details=details, proven_now=False)
        # The same number again (a double tap, the back button): the code sent is still good.
        verification = verification_open(
            phone=phone, handle=state.get("verification"), requester=_browser(request)
        )
        try:
            if verification is None:
                verification = verification_start(
                    phone=phone,
                    ip=client_ip(request),
                    location=location,
                    requester=_browser(request),
                )
        except VerificationRateLimited as error:
            # A second tap racing the first: its session has no handle yet, but this browser
            # asked for a code to this phone a moment ago.
            verification = verification_open(phone=phone, requester=_browser(request))
            if verification is None:
                form.add_error("phone", error.message)
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        if verification is not None:
            state["verification"] = verification.handle
            _save_state(request, state)
            return redirect("site-verify")
    return render(
        request,
        "bookings/site/details.html",
        {
            "form": form,
            "hold": hold,
            "location": location,
            "service": service,
            "returning": returning if not typed else None,
            "code_on_its_way": bool(code_on_its_way) and request.method == "GET",
            "phone_ending": typed.get("phone", "")[-4:],
            **_countdown(hold),
        },
    )


# --- step 6: phone code -------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def book_verify(request: HttpRequest) -> HttpResponse:
    hold = _current_hold(request)
    state = _state(request)
    if hold is None and state.get("booked_url"):
        # A refresh or a second tap after the booking went through: show the booking.
        return redirect(state["booked_url"])
    if hold is None or not state.get("verification") or not state.get("details"):
        return redirect("site-book")
    if not _hold_is_live(hold):
        return _hold_expired_page(
            request, location=hold.location, service=hold.service, around=hold.start_at
        )
    details = state["details"]
    is_resend = request.POST.get("action") == "resend"
    form = CodeForm(request.POST if request.method == "POST" and not is_resend else None)
    notice, problem = "", ""
    if request.method == "POST" and is_resend:
        try:
            verification = verification_start(
                phone=details["phone"],
                ip=client_ip(request),
                location=hold.location,
                requester=_browser(request),
            )
        except ApplicationError as error:
            problem = error.message
        else:
            state["verification"] = verification.handle
            _save_state(request, state)
            notice = "We have sent you a new code. Codes from earlier texts no longer work."
    elif request.method == "POST" and form.is_valid():
        try:
            verification_check(
                handle=state["verification"],
                code=form.cleaned_data["code"],
                requester=_browser(request),
            )
        except ApplicationError as error:
            form.add_error("code" if error.field == "code" else None, error.message)
        else:
            return _finish_booking(request, hold=hold, details=details, proven_now=True)
    return render(
        request,
        "bookings/site/verify.html",
        {
            "form": form,
            "hold": hold,
            "location": hold.location,
            "service": hold.service,
            "phone_ending": details["phone"][-4:],
            "notice": notice,
            "problem": problem,
            **_countdown(hold),
        },
    )


def _finish_booking(
    request: HttpRequest, *, hold: Appointment, details: dict, proven_now: bool
) -> HttpResponse:
    """The phone is proven (just now, or by this browser in the last hour): register the client
    and turn the hold into a booking."""
    location, service = hold.location, hold.service
    try:
        client = client_register(
            first_name=details["first_name"],
            last_name=details["last_name"],
            phone=details["phone"],
            email=details.get("email") or "",
            sms_consent=bool(details.get("sms_consent")),
            consent_wording=details["consent_wording"] if details.get("sms_consent") else "",
            email_consent=bool(details.get("email_consent")),
            email_consent_wording=details.get("email_consent_wording", "")
            if details.get("email_consent")
            else "",
            location=location,
            phone_verified=True,
        )
        step = checkout.step_before_booking(hold=hold, client=client)
        if step:
            # Another step first (the deposit): it books the hold when done.
            _remember_client(request, client, proven_now=proven_now)
            return HttpResponseRedirect(step)
        appointment = appointment_book_online(
            client=client, service=service, location=location, hold=hold
        )
    except HoldExpired:
        return _hold_expired_page(request, location=location, service=service, around=hold.start_at)
    except (ConsultationAlreadyBooked, ClientBusy) as refusal:
        if _hold_is_live(hold):
            appointment_cancel(
                appointment=hold, actor_label="system", reason=f"Hold released: {refusal.code}"
            )
        _save_state(request, {})
        existing = (
            Appointment.objects.select_related("service", "location").get(
                pk=refusal.extra["appointment_id"]
            )
            if refusal.extra.get("appointment_id")
            else None
        )
        response = render(
            request,
            "bookings/site/already_booked.html",
            {
                "location": location,
                "message": refusal.message,
                "existing": existing,
                "manage_url": reverse("site-manage", args=[manage_token_for(existing)])
                if existing is not None
                else "",
            },
            status=409,
        )
        _remember_client(request, client, proven_now=proven_now)
        return response
    except NotEligible as refusal:
        # Free the held time for others: this client cannot have it as things stand.
        if _hold_is_live(hold):
            appointment_cancel(
                appointment=hold, actor_label="system", reason=f"Hold released: {refusal.code}"
            )
        _save_state(request, {})
        needs_consultation = refusal.code in policy.REFUSALS_NEEDING_A_CONSULTATION
        _remember_client(request, client, proven_now=proven_now)
        return render(
            request,
            "bookings/site/not_eligible.html",
            {
                "location": location,
                "service": service,
                "refusal": refusal,
                "needs_consultation": needs_consultation,
                "consultation": consultation_for(treatment=service, location=location)
                if needs_consultation
                else None,
            },
            status=409,
        )
    except ValidationFailed as error:
        return render(
            request,
            "bookings/site/problem.html",
            {"title": "We could not complete your booking", "message": error.message},
            status=422,
        )
    then = _state(request).get("then") if service.is_consultation else None
    url = reverse("site-confirmed", args=[manage_token_for(appointment)])
    if then:
        url += f"?then={then}"
    _save_state(request, {"booked_url": url})
    _remember_client(request, client, proven_now=proven_now)
    logger.info("online booking completed", extra={"appointment_id": appointment.pk})
    return HttpResponseRedirect(url)
