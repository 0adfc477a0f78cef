"""Deposits: taken online while the slot is held, or by a texted link for a phone booking.

Online: the proven client reaches the payment step (``checkout_step``, registered with
``bookings.checkout``). ``deposit_start`` writes the terms and the payment row, extends the
hold once (``PAYMENT_HOLD_MINUTES``), then creates the Stripe customer and PaymentIntent. The
client's card goes to Stripe.js, which returns a token; ``deposit_pay_with_card`` saves it on
the customer and confirms (3-D Secure, when asked for, happens in the browser). Whichever comes
first, the webhook or the client's return, calls ``payment_sync``: it reads the intent from
Stripe (so events that come twice or out of order change nothing) and, on success, turns the
hold into the booking. A payment abandoned or failed leaves the hold to expire;
``deposits_abandon_expired`` then cancels its intent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from bookings import eligibility
from bookings.models import Appointment, Client
from bookings.services.appointments import appointment_book
from bookings.services.online import appointment_book_online
from bookings.services.transitions import appointment_cancel
from clinic import roles
from clinic.errors import ApplicationError, PolicyViolation, ValidationFailed
from clinic.models import Location, Service
from clinic.roles import Actor
from payments import access, gateway, rules, signals
from payments.models import Payment, PaymentAuditEntry, PaymentPolicy, PaymentTerms, StripeCustomer
from payments.tokens import pay_token_for

logger = logging.getLogger(__name__)

Status = Payment.Status
LIVE_STATUSES = (Status.PENDING, Status.REQUIRES_ACTION, Status.PROCESSING, Status.SUCCEEDED)
UNPAID_STATUSES = (Status.PENDING, Status.REQUIRES_ACTION, Status.FAILED)
STRIPE_STATUS = {
    "requires_payment_method": Status.PENDING,
    "requires_confirmation": Status.PENDING,
    "requires_action": Status.REQUIRES_ACTION,
    "processing": Status.PROCESSING,
    "requires_capture": Status.PROCESSING,
    "succeeded": Status.SUCCEEDED,
    "canceled": Status.CANCELED,
}


def policy_for(*, service: Service, location: Location) -> PaymentPolicy | None:
    """The active policy of ``service`` at ``location``, else its every-location policy."""
    policies = PaymentPolicy.objects.filter(service=service, is_active=True).select_related(
        "location"
    )
    found = {
        policy.location_id: policy
        for policy in policies
        if policy.location_id in (None, location.pk)
    }
    return found.get(location.pk) or found.get(None)


def deposit_for(*, service: Service, location: Location) -> tuple[PaymentPolicy, int] | None:
    """The policy and deposit (minor units) an online booking pays first, or None."""
    policy = policy_for(service=service, location=location)
    if policy is None:
        return None
    amount = rules.deposit_for(policy, price=service.price)
    return (policy, amount) if amount > 0 else None


def checkout_step(*, hold: Appointment, client: Client) -> str | None:
    """``bookings.checkout`` step: the pay page's URL when the held service takes a deposit
    (and payments are configured, and the client may have it now), else None. Raises
    ValidationFailed when the hold is gone or Stripe cannot be reached."""
    if (
        not gateway.is_configured()
        or deposit_for(service=hold.service, location=hold.location) is None
        # A client who may not have the treatment now is not asked to pay: the booking step
        # refuses them (or holds it pending clearance; staff can text a deposit link later).
        or not eligibility.check(
            client=client, service=hold.service, start_at=hold.start_at
        ).allowed
    ):
        return None
    try:
        payment = deposit_start(hold=hold, client=client)
    except gateway.PaymentGatewayError as error:
        # Stripe unreachable or refusing: the booking site shows this as a problem page (the
        # hold stays; trying again reuses the same row and idempotency key).
        raise ValidationFailed(
            "We could not start the payment just now. Please try again in a moment.",
            field="payment",
        ) from error
    return reverse("payments-pay", args=[pay_token_for(payment.pk)])


def _terms_for(appointment: Appointment, *, now: datetime) -> PaymentTerms:
    existing = PaymentTerms.objects.filter(appointment=appointment).first()
    if existing is not None:
        return existing
    found = deposit_for(service=appointment.service, location=appointment.location)
    if found is None:
        raise PolicyViolation("This service takes no deposit.")
    policy, amount = found
    terms = rules.terms_from(policy, deposit=amount, accepted_at=now)
    terms.appointment = appointment
    terms.save()
    return terms


def customer_for(client: Client) -> StripeCustomer:
    """The client's Stripe customer, created once (the key is the client's id, so a retry or a
    race makes one customer at Stripe, and the unique row makes one here)."""
    existing = StripeCustomer.objects.filter(client=client).first()
    if existing is not None:
        return existing
    customer_id = gateway.customer_create(
        client_id=client.pk, idempotency_key=f"aftercare-customer-{client.pk}"
    )
    try:
        with transaction.atomic():
            return StripeCustomer.objects.create(client=client, stripe_customer_id=customer_id)
    except IntegrityError:
        return StripeCustomer.objects.get(client=client)


def _create_intent(payment: Payment, *, customer: StripeCustomer) -> Payment:
    if payment.stripe_payment_intent_id:
        return payment
    state = gateway.intent_create(
        amount=payment.amount,
        currency=payment.currency,
        customer_id=customer.stripe_customer_id,
        metadata={
            "payment_id": str(payment.pk),
            "appointment_id": str(payment.appointment_id),
            "kind": payment.kind,
        },
        idempotency_key=payment.idempotency_key,
    )
    Payment.objects.filter(pk=payment.pk, stripe_payment_intent_id__isnull=True).update(
        stripe_payment_intent_id=state.id
    )
    payment.refresh_from_db()
    return payment


def deposit_start(*, hold: Appointment, client: Client, now: datetime | None = None) -> Payment:
    """The deposit row of ``hold`` (created once), its terms, and its PaymentIntent. The hold
    is extended to ``PAYMENT_HOLD_MINUTES`` from now when the row is created, never again, so
    paying cannot keep a slot for ever.

    Raises HoldExpired-like ValidationFailed when the hold is gone, PaymentGatewayError."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Appointment.objects.select_for_update().get(pk=hold.pk)
        if locked.status != Appointment.Status.HELD or (
            locked.hold_expires_at is not None and locked.hold_expires_at <= now
        ):
            raise ValidationFailed("Your hold on this time has ended.", field="hold")
        terms = _terms_for(locked, now=now)
        payment = Payment.objects.filter(
            appointment=locked, kind=Payment.Kind.DEPOSIT, status__in=LIVE_STATUSES
        ).first()
        if payment is None:
            payment = Payment.objects.create(
                appointment=locked,
                client=client,
                kind=Payment.Kind.DEPOSIT,
                amount=terms.deposit_amount,
                currency=terms.currency,
            )
            until = now + timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)
            if locked.hold_expires_at is None or locked.hold_expires_at < until:
                Appointment.objects.filter(pk=locked.pk).update(hold_expires_at=until)
    return _create_intent(payment, customer=customer_for(client))


def deposit_request_by_link(*, appointment: Appointment, actor: Actor, link_base: str) -> Payment:
    """Staff take a deposit for a booking made by phone: the row, the intent, and a text with
    the pay link (``link_base`` + the pay page path). Raises PermissionDenied, PolicyViolation
    (no deposit for this service, already paid, no client)."""
    access.require(actor, access.SEND_PAYMENT_LINK)
    if appointment.client_id is None:
        raise PolicyViolation("This appointment has no client yet.")
    with transaction.atomic():
        terms = _terms_for(appointment, now=timezone.now())
        payment = Payment.objects.filter(
            appointment=appointment, kind=Payment.Kind.DEPOSIT, status__in=LIVE_STATUSES
        ).first()
        if payment is not None and payment.status == Status.SUCCEEDED:
            raise PolicyViolation("The deposit is already paid.")
        if payment is None:
            payment = Payment.objects.create(
                appointment=appointment,
                client=appointment.client,
                kind=Payment.Kind.DEPOSIT,
                amount=terms.deposit_amount,
                currency=terms.currency,
                created_by=roles.user_of(actor),
            )
    assert appointment.client is not None
    payment = _create_intent(payment, customer=customer_for(appointment.client))
    payment_link_send(payment=payment, actor=actor, link_base=link_base)
    return payment


def payment_link_send(*, payment: Payment, actor: Actor, link_base: str) -> None:
    """Text the client the pay page of ``payment`` (through the outbox)."""
    link = link_base + reverse("payments-pay", args=[pay_token_for(payment.pk)])
    with transaction.atomic():
        PaymentAuditEntry.objects.create(
            payment=payment,
            action="link_sent",
            actor=roles.user_of(actor),
            actor_label=roles.actor_label(actor) if actor is not None else "system",
            amount=payment.amount,
        )
        signals.payment_link_requested.send(sender=Payment, payment=payment, link=link)


def deposit_pay_with_card(*, payment: Payment, card_token: str) -> gateway.IntentState:
    """Pay ``payment`` with the card Stripe.js tokenised; keeps the card on file when the
    booking's terms say so (the client accepted the wording on the pay page). Returns the
    intent's state: ``requires_action`` means the browser must run 3-D Secure next."""
    if not card_token or len(card_token) > 255:
        raise ValidationFailed("Enter your card details.", field="card_token")
    if payment.status not in UNPAID_STATUSES or not payment.stripe_payment_intent_id:
        return gateway.intent_retrieve(payment.stripe_payment_intent_id or "")
    assert payment.client is not None
    customer = customer_for(payment.client)
    state, card_id, card = gateway.intent_pay_with_card(
        intent_id=payment.stripe_payment_intent_id,
        customer_id=customer.stripe_customer_id,
        card_token=card_token,
        idempotency_key=f"{payment.idempotency_key}-{card_token}",
    )
    terms = PaymentTerms.objects.filter(appointment_id=payment.appointment_id).first()
    if terms is not None and terms.keeps_card_on_file:
        StripeCustomer.objects.filter(pk=customer.pk).update(
            payment_method_id=card_id,
            card_brand=card["brand"][:20],
            card_last4=card["last4"][:4],
            card_consent_wording=terms.wording,
            card_saved_at=timezone.now(),
        )
    Payment.objects.filter(pk=payment.pk).update(stripe_payment_method_id=card_id)
    payment_apply_state(payment_id=payment.pk, state=state)
    return state


def payment_sync(*, intent_id: str) -> Payment | None:
    """Bring our row for ``intent_id`` up to what Stripe says now (webhook, return page,
    reconciliation). Idempotent: a second call finds nothing to do."""
    payment = Payment.objects.filter(stripe_payment_intent_id=intent_id).first()
    if payment is None:
        return None
    state = gateway.intent_retrieve(intent_id)
    return payment_apply_state(payment_id=payment.pk, state=state)


def payment_apply_state(*, payment_id: int, state: gateway.IntentState) -> Payment:
    """Record the intent's ``state`` on the row (statuses move forward only: a late
    ``requires_action`` never undoes ``succeeded``); a deposit that succeeded books its hold."""
    refund_needed = ""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update().select_related("appointment").get(pk=payment_id)
        )
        new_status = STRIPE_STATUS.get(state.status, payment.status)
        was = payment.status
        if payment.status in (Status.SUCCEEDED, Status.WAIVED, Status.CANCELED):
            return payment
        if state.status == "requires_payment_method" and state.error_code:
            new_status = Status.FAILED
        payment.status = new_status
        payment.error_code = state.error_code[:60]
        if new_status == Status.SUCCEEDED:
            payment.succeeded_at = timezone.now()
        payment.save(update_fields=["status", "error_code", "succeeded_at", "updated_at"])
        if new_status == Status.SUCCEEDED and payment.kind == Payment.Kind.DEPOSIT:
            # Paying is accepting the terms shown on the pay page.
            PaymentTerms.objects.filter(appointment_id=payment.appointment_id).update(
                accepted_at=payment.succeeded_at
            )
            refund_needed = _book_paid_hold(payment)
        if new_status == Status.REQUIRES_ACTION and was != new_status and payment.off_session:
            # A saved card that needs the client (Strong Customer Authentication): text a link.
            payment_link_send(payment=payment, actor=None, link_base=settings.PUBLIC_BASE_URL)
    if new_status == Status.SUCCEEDED and was != new_status:
        _forget_card_unless_kept(payment)
    if refund_needed:
        from payments.services.refunds import refund_issue

        refund_issue(payment=payment, amount=payment.amount, reason=refund_needed, actor=None)
    logger.info(
        "payment state applied",
        extra={"payment_id": payment.pk, "status": payment.status, "stripe_status": state.status},
    )
    return payment


def _forget_card_unless_kept(payment: Payment) -> None:
    """The card Stripe.js gave us is saved on the Stripe customer to pay; unless the booking's
    terms keep it on file (the client agreed on the pay page), it comes off once paid."""
    if payment.kind != Payment.Kind.DEPOSIT or not payment.stripe_payment_method_id:
        return
    terms = PaymentTerms.objects.filter(appointment_id=payment.appointment_id).first()
    if terms is not None and terms.keeps_card_on_file:
        return
    customer = StripeCustomer.objects.filter(client=payment.client).first()
    if customer is None or customer.payment_method_id == payment.stripe_payment_method_id:
        return
    try:
        gateway.card_remove(
            customer_id=customer.stripe_customer_id, card_id=payment.stripe_payment_method_id
        )
    except gateway.PaymentGatewayError:
        logger.warning("card not removed after payment", extra={"payment_id": payment.pk})


def _book_paid_hold(payment: Payment) -> str:
    """Turn the paid-for hold into the booking; returns why it must be refunded instead, or
    "" when booked (or already booked)."""
    appointment = payment.appointment
    if appointment.status != Appointment.Status.HELD:
        if appointment.status in (Appointment.Status.CANCELLED,) and payment.client_id:
            return _book_again(payment)
        return ""
    assert payment.client is not None
    try:
        with transaction.atomic():
            appointment_book_online(
                client=payment.client,
                service=appointment.service,
                location=appointment.location,
                hold=appointment,
            )
    except ApplicationError as error:
        if appointment.hold_expires_at and appointment.hold_expires_at <= timezone.now():
            return _book_again(payment)
        logger.warning(
            "paid hold could not be booked", extra={"payment_id": payment.pk, "code": error.code}
        )
        # Free the time for others: this client cannot have it as things stand. Cancelling
        # refunds the deposit in full (payments.receivers: not the client's cancellation).
        appointment_cancel(
            appointment=appointment, actor_label="system", reason=f"Hold released: {error.code}"
        )
        return ""
    return ""


def _book_again(payment: Payment) -> str:
    """The hold ran out before the money arrived: book the same time if it is still free."""
    appointment = payment.appointment
    assert payment.client is not None
    try:
        with transaction.atomic():
            booked = appointment_book(
                client=payment.client,
                service=appointment.service,
                location=appointment.location,
                start_at=appointment.start_at,
                channel=Appointment.Channel.ONLINE,
            )
            Payment.objects.filter(pk=payment.pk).update(appointment=booked)
            PaymentTerms.objects.filter(appointment=appointment).update(appointment=booked)
    except ApplicationError as error:
        return (
            "Refunded automatically: the time was no longer free when the payment arrived "
            f"({error.code})."
        )
    payment.appointment = booked
    return ""


def deposits_abandon_expired(*, now: datetime | None = None) -> int:
    """Periodic: cancel the intents of unpaid deposits whose hold is over (abandoned or
    failed), so a late confirmation cannot take money for a released slot. An intent that
    succeeded meanwhile is applied instead (booked if the time is free, else refunded)."""
    now = now or timezone.now()
    stale = Payment.objects.filter(
        kind=Payment.Kind.DEPOSIT,
        status__in=UNPAID_STATUSES,
        stripe_payment_intent_id__isnull=False,
        appointment__status=Appointment.Status.CANCELLED,
    ) | Payment.objects.filter(
        kind=Payment.Kind.DEPOSIT,
        status__in=UNPAID_STATUSES,
        stripe_payment_intent_id__isnull=False,
        appointment__status=Appointment.Status.HELD,
        appointment__hold_expires_at__lte=now,
    )
    abandoned = 0
    for payment in stale.distinct():
        assert payment.stripe_payment_intent_id
        state = gateway.intent_cancel(payment.stripe_payment_intent_id)
        if state.status == "canceled":
            Payment.objects.filter(pk=payment.pk, status__in=UNPAID_STATUSES).update(
                status=Status.CANCELED, updated_at=now
            )
            abandoned += 1
        else:
            payment_apply_state(payment_id=payment.pk, state=state)
    if abandoned:
        logger.info("abandoned deposits cancelled", extra={"count": abandoned})
    return abandoned
