"""Every write in the waitlist goes through these functions (see each module's docstring)."""

from __future__ import annotations

from waitlist.services.entries import (
    LIVE_ENTRY_STATUSES,
    entries_expire,
    entry_from_token,
    entry_needs_clearance,
    live_entries_for_client,
    waitlist_join,
    waitlist_leave,
)
from waitlist.services.offers import (
    freed_time_process,
    freed_time_record,
    offer_claim,
    offer_decline,
    offer_from_token,
    offer_hold_booked,
    offer_is_claimable,
    offer_taken_error,
    offers_sweep,
    settings_for,
    waitlist_offer_freed_window,
    waitlist_offer_new_hours,
)

__all__ = [
    "LIVE_ENTRY_STATUSES",
    "entries_expire",
    "entry_from_token",
    "entry_needs_clearance",
    "freed_time_process",
    "live_entries_for_client",
    "freed_time_record",
    "offer_claim",
    "offer_decline",
    "offer_hold_booked",
    "offer_from_token",
    "offer_is_claimable",
    "offer_taken_error",
    "offers_sweep",
    "settings_for",
    "waitlist_join",
    "waitlist_leave",
    "waitlist_offer_freed_window",
    "waitlist_offer_new_hours",
]
