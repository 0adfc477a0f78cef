"""Waitlist errors (``clinic.errors`` shape: a stable code, an HTTP status)."""

from __future__ import annotations

from clinic.errors import ApplicationError


class OfferTaken(ApplicationError):
    """The offer cannot be claimed any more: it expired, or the time went to someone else.
    Carries ``alternatives`` (the nearest free starts) so the page can offer others."""

    code = "offer_taken"
    status = 410


class PaymentRequired(ApplicationError):
    """The claimed time's service takes a deposit: the client pays first (``payment_url``,
    the pay page) and the payment books the held time. Not a failure: the claim page
    redirects, the API answers 202."""

    code = "payment_required"
    status = 402
