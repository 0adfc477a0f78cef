"""Bookings announce what happened; reminders plans the outbox. These receivers run inside the
booking service's transaction, so the plan commits with the change (invariant 3). No rules
here: each receiver calls one service."""

from __future__ import annotations

from typing import Any

from bookings import signals
from bookings.models import Appointment
from clinic.models import Location
from reminders import services
from reminders.models import ReminderRule
from reminders.services import staff_alerts


def on_booked(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    services.messages_plan_for_appointment(appointment=appointment)


def on_pending_clearance(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    services.messages_plan_for_appointment(
        appointment=appointment, trigger=ReminderRule.Trigger.PENDING_CLEARANCE
    )


def on_rescheduled(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    services.messages_replan_after_reschedule(appointment=appointment)


def on_cancelled(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    services.messages_plan_after_cancellation(appointment=appointment)


def on_no_show(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    services.messages_cancel_after_no_show(appointment=appointment)


def on_completed(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    services.messages_plan_after_completion(appointment=appointment)


def on_phone_verification_requested(
    sender: Any,
    *,
    phone: str,
    code: str,
    location: Location | None = None,
    **kwargs: Any,
) -> None:
    services.message_plan_verification(phone=phone, code=code, location=location)


def on_health_recheck_changed(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    staff_alerts.staff_alert_health_changed(appointment=appointment)


def connect() -> None:
    uid = "reminders.receivers"
    signals.appointment_booked.connect(on_booked, dispatch_uid=f"{uid}.booked")
    signals.appointment_pending_clearance.connect(
        on_pending_clearance, dispatch_uid=f"{uid}.pending_clearance"
    )
    signals.appointment_rescheduled.connect(on_rescheduled, dispatch_uid=f"{uid}.rescheduled")
    signals.appointment_cancelled.connect(on_cancelled, dispatch_uid=f"{uid}.cancelled")
    signals.appointment_no_show.connect(on_no_show, dispatch_uid=f"{uid}.no_show")
    signals.appointment_completed.connect(on_completed, dispatch_uid=f"{uid}.completed")
    signals.phone_verification_requested.connect(
        on_phone_verification_requested, dispatch_uid=f"{uid}.phone_verification"
    )
    signals.health_recheck_changed.connect(
        on_health_recheck_changed, dispatch_uid=f"{uid}.health_recheck_changed"
    )
