"""The pay page (online deposit after the hold, or a texted link), its return page, and the
Stripe webhook. Views parse, call one service, render."""

from __future__ import annotations

import json
import logging

import stripe
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from bookings.models import Appointment
from bookings.tokens import manage_token_for
from clinic.errors import ApplicationError
from payments import gateway, rules
from payments.models import Payment, PaymentTerms, StripeEvent
from payments.services.deposits import deposit_pay_with_card, payment_sync
from payments.tokens import payment_id_from_token

logger = logging.getLogger(__name__)

# The booking site's session key for the booking in progress (bookings.views.site): once the
# deposit books the hold, a refresh of any step shows the booking.
BOOKING_SESSION_KEY = "booking"


def _payment_or_none(token: str) -> Payment | None:
    if not gateway.is_configured():
        return None
    try:
        payment_id = payment_id_from_token(token)
    except signing.BadSignature:
        return None
    return (
        Payment.objects.select_related("appointment__service", "appointment__location", "client")
        .filter(pk=payment_id)
        .first()
    )


def _link_problem(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "bookings/site/problem.html",
        {"title": "This payment link does not work", "message": "Ask the clinic for a new link."},
        status=404,
    )


def _booked_url(request: HttpRequest, payment: Payment) -> str:
    url = reverse("site-confirmed", args=[manage_token_for(payment.appointment)])
    request.session[BOOKING_SESSION_KEY] = {"booked_url": url}
    return url


def _countdown(appointment: Appointment) -> dict[str, object]:
    """The booking site's hold countdown (``_countdown.html``) while the time is held."""
    expires_at = appointment.hold_expires_at
    if appointment.status != Appointment.Status.HELD or expires_at is None:
        return {}
    seconds_left = max(int((expires_at - timezone.now()).total_seconds()), 0)
    return {
        "hold_expires_epoch": int(expires_at.timestamp()),
        "hold_time_left": f"{seconds_left // 60}:{seconds_left % 60:02d}",
    }


@require_GET
def pay(request: HttpRequest, token: str) -> HttpResponse:
    payment = _payment_or_none(token)
    if payment is None or not payment.stripe_payment_intent_id:
        return _link_problem(request)
    appointment = payment.appointment
    if payment.status == Payment.Status.SUCCEEDED:
        if payment.kind == Payment.Kind.DEPOSIT and appointment.status != Appointment.Status.HELD:
            return HttpResponseRedirect(_booked_url(request, payment))
        return render(
            request, "payments/paid.html", {"payment": payment, "appointment": appointment}
        )
    if payment.status in (Payment.Status.CANCELED, Payment.Status.WAIVED):
        return _link_problem(request)
    terms = PaymentTerms.objects.filter(appointment=appointment).first()
    intent = gateway.intent_retrieve(payment.stripe_payment_intent_id)
    response = render(
        request,
        "payments/pay.html",
        {
            "payment": payment,
            "appointment": appointment,
            "location": appointment.location,
            "service": appointment.service,
            "terms": terms,
            "amount": rules.format_money(payment.amount, payment.currency),
            "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            "stripe_js_url": settings.STRIPE_JS_URL,
            "card_url": reverse("payments-pay-card", args=[token]),
            "return_url": reverse("payments-pay-done", args=[token]),
            "client_secret": intent.client_secret,
            "is_hold": appointment.status == Appointment.Status.HELD,
            "hold": appointment,
            **_countdown(appointment),
            "needs_authentication": intent.status == "requires_action",
        },
    )
    # Stripe.js (or localstripe's stand-in) is allowed on this page only.
    origin = settings.STRIPE_JS_ORIGIN
    response._csp_update = {  # type: ignore[attr-defined]
        "script-src": [origin],
        "connect-src": [origin, settings.STRIPE_API_ORIGIN],
        "frame-src": [origin],
    }
    return response


@require_POST
def pay_card(request: HttpRequest, token: str) -> HttpResponse:
    """Stripe.js tokenised the card: pay with it. Answers JSON for the page's script."""
    payment = _payment_or_none(token)
    if payment is None:
        return JsonResponse({"error": "not_found"}, status=404)
    try:
        state = deposit_pay_with_card(
            payment=payment, card_token=request.POST.get("card_token", "")
        )
    except ApplicationError as error:
        return JsonResponse(error.as_dict(), status=error.status)
    return JsonResponse(
        {
            "status": state.status,
            "client_secret": state.client_secret,
            "return_url": reverse("payments-pay-done", args=[token]),
        }
    )


@require_GET
def pay_done(request: HttpRequest, token: str) -> HttpResponse:
    """The client is back from paying (and 3-D Secure): ask Stripe, whatever the webhook did."""
    payment = _payment_or_none(token)
    if payment is None or not payment.stripe_payment_intent_id:
        return _link_problem(request)
    payment = payment_sync(intent_id=payment.stripe_payment_intent_id) or payment
    payment.refresh_from_db()
    if payment.status == Payment.Status.SUCCEEDED:
        if payment.kind == Payment.Kind.DEPOSIT and payment.appointment.status not in (
            Appointment.Status.HELD,
            Appointment.Status.CANCELLED,
        ):
            return HttpResponseRedirect(_booked_url(request, payment))
        return render(
            request, "payments/paid.html", {"payment": payment, "appointment": payment.appointment}
        )
    return HttpResponseRedirect(reverse("payments-pay", args=[token]) + "?failed=1")


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's events, signature verified. Each event id is handled once; handling reads the
    intent's current state from Stripe, so a late or repeated event changes nothing."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        # Payments are off: there is no endpoint to deliver to.
        return HttpResponse(status=404)
    try:
        gateway.event_from_webhook(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
        event = json.loads(request.body)
        event_id, event_type = str(event["id"]), str(event["type"])
        obj = event["data"]["object"]
        if not isinstance(obj, dict):
            raise ValueError("object")
    except (ValueError, KeyError, TypeError, stripe.SignatureVerificationError):
        return HttpResponse(status=400)
    if StripeEvent.objects.filter(event_id=event_id).exists():
        return HttpResponse(status=200)
    if event_type.startswith("payment_intent.") and obj.get("id"):
        try:
            payment_sync(intent_id=str(obj["id"]))
        except gateway.PaymentGatewayError:
            logger.warning("webhook could not read the intent", extra={"event_type": event_type})
            return HttpResponse(status=503)  # Stripe retries later
    elif not event_type.startswith("charge."):
        logger.info("stripe event ignored", extra={"event_type": event_type})
    try:
        with transaction.atomic():
            StripeEvent.objects.create(event_id=event_id[:255], type=event_type[:100])
    except IntegrityError:
        pass
    return HttpResponse(status=200)
