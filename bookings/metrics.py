"""Booking outcomes for /metrics (counted as they happen; see clinic.metrics)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from prometheus_client import Counter

import clinic.metrics  # noqa: F401 - names multiprocess files before any metric exists
from clinic.errors import ApplicationError, NotEligible, SlotTaken

BOOKINGS = Counter(
    "aftercare_bookings",
    "Booking attempts by channel (online, staff, api) and outcome: booked, slot_taken (409), "
    "refused (by eligibility) or invalid (any other refusal)",
    ["channel", "outcome"],
)

P = ParamSpec("P")
R = TypeVar("R")


def counts_booking_outcomes(book: Callable[P, R]) -> Callable[P, R]:
    """Count each call of the booking service by its ``channel`` and how it ended."""

    @functools.wraps(book)
    def counted(*args: P.args, **kwargs: P.kwargs) -> R:
        channel = str(kwargs.get("channel") or "online")
        try:
            booked = book(*args, **kwargs)
        except SlotTaken:
            BOOKINGS.labels(channel=channel, outcome="slot_taken").inc()
            raise
        except NotEligible:
            BOOKINGS.labels(channel=channel, outcome="refused").inc()
            raise
        except ApplicationError:
            BOOKINGS.labels(channel=channel, outcome="invalid").inc()
            raise
        BOOKINGS.labels(channel=channel, outcome="booked").inc()
        return booked

    return counted
