"""Bookings announce a time became free; the waitlist records a freed time (inside the booking
transaction) and looks for a client after commit. No rules here: each receiver calls one
service."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from bookings import signals
from bookings.models import Appointment, Client
from bookings.services.consultations import RELEASED_REASON
from clinic.models import Location, Practitioner, WorkingHours
from waitlist.models import FreedTime, WaitlistOffer
from waitlist.services import (
    freed_time_record,
    live_entries_for_client,
    offer_hold_booked,
    waitlist_offer_freed_window,
    waitlist_offer_new_hours,
)
from waitlist.services.entries import MAX_DAYS_AHEAD


def _is_waitlist_hold(appointment: Appointment) -> bool:
    # The waitlist's own holds come and go with its offers; their end is not news to it.
    return (
        FreedTime.objects.filter(hold=appointment).exists()
        or WaitlistOffer.objects.filter(hold=appointment).exists()
    )


def _record(appointment: Appointment, *, source: str, start_at: datetime, key: str) -> None:
    freed_time_record(
        location=appointment.location,
        practitioner=appointment.practitioner,
        start_at=start_at,
        source=source,
        source_key=f"appointment:{appointment.pk}:{key}",
        source_appointment=appointment,
    )


def on_cancelled(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    if appointment.client_id is None:
        if _is_waitlist_hold(appointment):
            return
        source = FreedTime.Source.HOLD_LAPSED
    elif kwargs.get("reason") == RELEASED_REASON:
        source = FreedTime.Source.RELEASED
    else:
        source = FreedTime.Source.CANCELLED
    _record(
        appointment,
        source=source,
        start_at=appointment.start_at,
        key=f"cancelled:{appointment.start_at.isoformat()}",
    )


def on_rescheduled(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    previous_start_at = kwargs.get("previous_start_at")
    if previous_start_at is None:
        return
    practitioner_id = kwargs.get("previous_practitioner_id") or appointment.practitioner_id
    practitioner = (
        appointment.practitioner
        if practitioner_id == appointment.practitioner_id
        else Practitioner.objects.get(pk=practitioner_id)
    )
    freed_time_record(
        location=appointment.location,
        practitioner=practitioner,
        start_at=previous_start_at,
        source=FreedTime.Source.RESCHEDULED,
        source_key=f"appointment:{appointment.pk}:moved:v{kwargs.get('previous_version')}",
        source_appointment=appointment,
    )


def on_booked(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    # An offer's hold booked by another step (the deposit paid): the offer is claimed. A row
    # the booking has just inserted is nobody's hold: no query for it.
    if kwargs.get("created", False):
        return
    offer_hold_booked(appointment=appointment)


def on_no_show(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    # Recorded for the reports; a no-show is noticed after the start, so it is never offered.
    _record(
        appointment,
        source=FreedTime.Source.NO_SHOW,
        start_at=appointment.start_at,
        key=f"no_show:{appointment.start_at.isoformat()}",
    )


def manage_panels(sender: Any, *, client: Client, **kwargs: Any) -> list[tuple[str, dict]]:
    entries = list(live_entries_for_client(client=client))
    if not entries:
        return []
    return [("waitlist/_manage_panel.html", {"entries": entries})]


def on_working_hours_saved(
    sender: Any, *, instance: WorkingHours, created: bool, **kwargs: Any
) -> None:
    # New weekly hours (the admin, the settings pages) are a practitioner's hours added.
    if created and not kwargs.get("raw"):
        # Read back: the saved instance may still hold the values as given ("17:00").
        waitlist_offer_new_hours(
            hours=WorkingHours.objects.select_related("location").get(pk=instance.pk)
        )


def on_bookable_time_opened(
    sender: Any,
    *,
    practitioner: Practitioner,
    location: Location,
    windows: list[tuple[datetime, datetime]],
    **kwargs: Any,
) -> None:
    # The settings pages widened hours or removed time off: once that is committed, offer the
    # newly open time to those waiting then (no further ahead than anyone can wait).
    def offer() -> None:
        now = timezone.now()
        horizon = now + timedelta(days=MAX_DAYS_AHEAD)
        for start_at, end_at in windows:
            end_at = min(end_at, horizon)  # past starts are skipped when recorded
            if start_at < end_at:
                waitlist_offer_freed_window(
                    location=location,
                    practitioner=practitioner,
                    start_at=start_at,
                    end_at=end_at,
                    now=now,
                )

    transaction.on_commit(offer)


def connect() -> None:
    post_save.connect(
        on_working_hours_saved, sender=WorkingHours, dispatch_uid="waitlist.working_hours"
    )
    signals.client_manage_panels.connect(manage_panels, dispatch_uid="waitlist.manage_panels")
    signals.appointment_cancelled.connect(on_cancelled, dispatch_uid="waitlist.cancelled")
    signals.appointment_rescheduled.connect(on_rescheduled, dispatch_uid="waitlist.rescheduled")
    signals.appointment_no_show.connect(on_no_show, dispatch_uid="waitlist.no_show")
    signals.appointment_booked.connect(on_booked, dispatch_uid="waitlist.booked")
    signals.appointment_pending_clearance.connect(on_booked, dispatch_uid="waitlist.pending")
    signals.bookable_time_opened.connect(
        on_bookable_time_opened, dispatch_uid="waitlist.bookable_time_opened"
    )
