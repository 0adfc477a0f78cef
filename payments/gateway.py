"""The one module that talks to Stripe (the official library). Every call carries the row's
idempotency key, a timeout, and is made outside any database transaction; Stripe's errors come
back as ``PaymentGatewayError`` saying whether Stripe may have acted (``maybe_done``) so the
caller never retries blindly.

``STRIPE_API_BASE`` points the library at another server (localstripe in tests and
``make run``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import stripe
from django.conf import settings

from clinic.errors import ApplicationError

logger = logging.getLogger(__name__)


class PaymentGatewayError(ApplicationError):
    code = "payment_failed"
    status = 402

    def __init__(
        self, message: str, *, stripe_code: str = "", maybe_done: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.stripe_code = stripe_code
        self.maybe_done = maybe_done


class PaymentsDisabled(ApplicationError):
    code = "payments_disabled"
    status = 503


@dataclass(frozen=True)
class IntentState:
    id: str
    status: str
    amount: int
    currency: str
    client_secret: str
    payment_method: str
    error_code: str
    metadata: dict[str, str]


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _client() -> stripe.StripeClient:
    if not is_configured():
        raise PaymentsDisabled("Payments are switched off: STRIPE_SECRET_KEY is not set.")
    http_client = stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS)
    base = settings.STRIPE_API_BASE or stripe.DEFAULT_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": base},
        http_client=http_client,
        max_network_retries=0,
    )


def _error(error: stripe.StripeError) -> PaymentGatewayError:
    code = getattr(error, "code", None) or ""
    # A card error or a bad request was refused by Stripe: nothing happened. A connection error
    # or a 5xx may have been acted on; the idempotency key makes a retry safe, reconciliation
    # finds the truth.
    maybe_done = isinstance(error, stripe.APIConnectionError) or (
        isinstance(error, stripe.APIError) and not isinstance(error, stripe.CardError)
    )
    message = getattr(error, "user_message", None) or "The payment could not be completed."
    return PaymentGatewayError(str(message), stripe_code=str(code), maybe_done=maybe_done)


def _state(intent: Any) -> IntentState:
    if hasattr(intent, "to_dict"):
        intent = intent.to_dict()
    error = intent.get("last_payment_error") or {}
    payment_method = intent.get("payment_method") or ""
    if not isinstance(payment_method, str):
        payment_method = payment_method.get("id", "")
    return IntentState(
        id=intent["id"],
        status=intent["status"],
        amount=int(intent["amount"]),
        currency=intent["currency"],
        client_secret=intent.get("client_secret") or "",
        payment_method=payment_method,
        error_code=(error.get("code") or "") if isinstance(error, dict) else "",
        metadata=dict(intent.get("metadata") or {}),
    )


def customer_create(*, client_id: int, idempotency_key: str) -> str:
    """A Stripe customer for our client (no name or phone: the id is enough)."""
    try:
        customer = _client().v1.customers.create(
            params={"metadata": {"client_id": str(client_id)}},
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise _error(error) from error
    return str(customer.id)


def intent_create(
    *,
    amount: int,
    currency: str,
    customer_id: str,
    metadata: dict[str, str],
    idempotency_key: str,
    payment_method: str = "",
    off_session: bool = False,
) -> IntentState:
    """A PaymentIntent; with ``off_session`` it is confirmed at once against the saved card.
    An off-session charge that needs the client to authenticate comes back ``requires_action``
    (Stripe raises ``authentication_required``; both are answered the same way)."""
    params: dict[str, Any] = {
        "amount": amount,
        "currency": currency,
        "customer": customer_id,
        "metadata": metadata,
    }
    if off_session:
        params.update(payment_method=payment_method, off_session=True, confirm=True)
    try:
        intent = _client().v1.payment_intents.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": idempotency_key},
        )
    except stripe.CardError as error:
        if error.code == "authentication_required" and error.error and error.error.payment_intent:
            return _state(error.error.payment_intent)
        raise _error(error) from error
    except stripe.StripeError as error:
        raise _error(error) from error
    return _state(intent)


def intent_retrieve(intent_id: str) -> IntentState:
    try:
        return _state(_client().v1.payment_intents.retrieve(intent_id))
    except stripe.StripeError as error:
        raise _error(error) from error


def intent_pay_with_card(
    *, intent_id: str, customer_id: str, card_token: str, idempotency_key: str
) -> tuple[IntentState, str, dict[str, str]]:
    """Save the card from Stripe.js (a token) on the customer, put it on the intent and confirm.
    Returns the intent (``succeeded``, or ``requires_action`` for 3-D Secure), the card's id and
    its brand and last four digits."""
    client = _client()
    try:
        card = client.v1.customers.payment_sources.create(
            customer_id,
            params={"source": card_token},
            options={"idempotency_key": f"{idempotency_key}-card"},
        )
        card_id = str(card.id)
        client.v1.payment_intents.update(intent_id, params={"payment_method": card_id})
        intent = client.v1.payment_intents.confirm(intent_id)
    except stripe.StripeError as error:
        raise _error(error) from error
    details = {
        "brand": str(getattr(card, "brand", "") or ""),
        "last4": str(getattr(card, "last4", "") or ""),
    }
    return _state(intent), card_id, details


def card_remove(*, customer_id: str, card_id: str) -> None:
    """Take a card off the customer (a deposit paid without keeping the card on file)."""
    try:
        _client().v1.customers.payment_sources.delete(customer_id, card_id)
    except stripe.InvalidRequestError:
        return  # already gone
    except stripe.StripeError as error:
        raise _error(error) from error


def customer_delete(customer_id: str) -> None:
    """Delete the customer at Stripe (its saved cards go with it): an erased client."""
    try:
        _client().v1.customers.delete(customer_id)
    except stripe.InvalidRequestError:
        return  # already gone
    except stripe.StripeError as error:
        raise _error(error) from error


def intent_cancel(intent_id: str) -> IntentState:
    client = _client()
    try:
        return _state(client.v1.payment_intents.cancel(intent_id))
    except stripe.InvalidRequestError:
        # Already cancelled or succeeded: the state is what it is.
        return intent_retrieve(intent_id)
    except stripe.StripeError as error:
        raise _error(error) from error


def refund_create(
    *, intent_id: str, amount: int, idempotency_key: str, metadata: dict[str, str]
) -> tuple[str, str]:
    """Refund ``amount`` of the intent; returns (refund id, status)."""
    try:
        refund = _client().v1.refunds.create(
            params={"payment_intent": intent_id, "amount": amount, "metadata": metadata},
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise _error(error) from error
    return str(refund.id), str(refund.status)


def intents_list(*, limit: int = 100) -> list[IntentState]:
    """Recent PaymentIntents, newest first (the daily reconciliation's view of Stripe)."""
    try:
        page = _client().v1.payment_intents.list(params={"limit": limit})
        return [_state(intent) for intent in page.auto_paging_iter()]
    except stripe.StripeError as error:
        raise _error(error) from error


def refunds_list(*, limit: int = 100) -> list[dict[str, Any]]:
    try:
        page = _client().v1.refunds.list(params={"limit": limit})
        return [
            {"id": r.id, "status": r.status, "amount": int(r.amount)}
            for r in page.auto_paging_iter()
        ]
    except stripe.StripeError as error:
        raise _error(error) from error


def event_from_webhook(*, payload: bytes, signature: str) -> Any:
    """The event, if ``signature`` is Stripe's for ``payload`` within the tolerance; raises
    ``stripe.SignatureVerificationError`` or ``ValueError`` otherwise."""
    return stripe.Webhook.construct_event(
        payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=300
    )
