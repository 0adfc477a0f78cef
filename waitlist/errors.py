"""Waitlist errors (``clinic.errors`` shape: a stable code, an HTTP status)."""

from __future__ import annotations

from clinic.errors import ApplicationError


class OfferTaken(ApplicationError):
    """The offer cannot be claimed any more: it expired, or the time went to someone else.
    Carries ``alternatives`` (the nearest free starts) so the page can offer others."""

    code = "offer_taken"
    status = 410
