"""Bookings announce what happened; reminders plans the outbox. These receivers run inside the
booking service's transaction, so the plan commits with the change (invariant 3). No rules
here: each receiver calls one service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse

from bookings import signals
from bookings.models import Appointment, Client
from clinic.models import Location
from payments import signals as payment_signals
from payments.models import Payment
from reminders import services
from reminders.models import ReminderRule
from reminders.rendering import public_url
from reminders.services import retention, staff_alerts


def on_booked(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    services.messages_plan_for_appointment(
        appointment=appointment, appointment_is_new=kwargs.get("created", False)
    )


def on_pending_clearance(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    services.messages_plan_for_appointment(
        appointment=appointment,
        trigger=ReminderRule.Trigger.PENDING_CLEARANCE,
        appointment_is_new=kwargs.get("created", False),
    )


def on_rescheduled(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    services.messages_replan_after_reschedule(
        appointment=appointment, previous_start_at=kwargs.get("previous_start_at")
    )


def on_cancelled(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    services.messages_plan_after_cancellation(
        appointment=appointment, reason=kwargs.get("reason", "")
    )


def on_screening_submitted(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    services.messages_follow_screening_submitted(appointment=appointment)


def on_consultation_outcome(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    services.messages_follow_consultation_outcome(
        appointment=appointment,
        outcome=kwargs["outcome"],
        service_names=kwargs.get("service_names", ()),
    )


def on_no_show(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    services.messages_cancel_after_no_show(appointment=appointment)


def on_no_show_reverted(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    services.messages_restore_after_no_show_reverted(appointment=appointment)


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


def on_verification_budget_exhausted(
    sender: Any,
    *,
    budget: int,
    window_started_at: datetime,
    **kwargs: Any,
) -> None:
    staff_alerts.staff_alert_verification_budget(budget=budget, window_started_at=window_started_at)


def on_client_data_collect(sender: Any, *, client: Client, **kwargs: Any) -> dict[str, Any]:
    return retention.client_messages_export(client=client)


def on_client_erasing(sender: Any, *, client: Client, phone: str, **kwargs: Any) -> None:
    retention.client_messages_erase(client=client, phone=phone)


def on_client_data_requested(
    sender: Any,
    *,
    client: Client,
    request_id: int,
    link_token: str,
    **kwargs: Any,
) -> None:
    staff_alerts.staff_alert_data_request(client_id=client.pk, request_id=request_id)
    services.message_plan_data_export_link(
        client=client, link=public_url(reverse("site-data-export", args=[link_token]))
    )


def on_health_recheck_changed(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    staff_alerts.staff_alert_health_changed(appointment=appointment)


def on_clients_merged(sender: Any, *, keep: Client, duplicate: Client, **kwargs: Any) -> None:
    services.messages_move_to_client(keep=keep, duplicate=duplicate)


def on_payment_link_requested(sender: Any, *, payment: Payment, link: str, **kwargs: Any) -> None:
    services.message_plan_payment_link(payment=payment, link=link)


def connect() -> None:
    uid = "reminders.receivers"
    payment_signals.payment_link_requested.connect(
        on_payment_link_requested, dispatch_uid=f"{uid}.payment_link"
    )
    signals.appointment_booked.connect(on_booked, dispatch_uid=f"{uid}.booked")
    signals.appointment_pending_clearance.connect(
        on_pending_clearance, dispatch_uid=f"{uid}.pending_clearance"
    )
    signals.appointment_rescheduled.connect(on_rescheduled, dispatch_uid=f"{uid}.rescheduled")
    signals.appointment_cancelled.connect(on_cancelled, dispatch_uid=f"{uid}.cancelled")
    signals.appointment_no_show.connect(on_no_show, dispatch_uid=f"{uid}.no_show")
    signals.appointment_no_show_reverted.connect(
        on_no_show_reverted, dispatch_uid=f"{uid}.no_show_reverted"
    )
    signals.appointment_completed.connect(on_completed, dispatch_uid=f"{uid}.completed")
    signals.clients_merged.connect(on_clients_merged, dispatch_uid=f"{uid}.clients_merged")
    signals.phone_verification_requested.connect(
        on_phone_verification_requested, dispatch_uid=f"{uid}.phone_verification"
    )
    signals.consultation_screening_submitted.connect(
        on_screening_submitted, dispatch_uid=f"{uid}.screening_submitted"
    )
    signals.consultation_outcome_recorded.connect(
        on_consultation_outcome, dispatch_uid=f"{uid}.consultation_outcome"
    )
    signals.verification_budget_exhausted.connect(
        on_verification_budget_exhausted, dispatch_uid=f"{uid}.verification_budget"
    )
    signals.client_data_collect.connect(on_client_data_collect, dispatch_uid=f"{uid}.collect")
    signals.client_erasing.connect(on_client_erasing, dispatch_uid=f"{uid}.erasing")
    signals.client_data_requested.connect(
        on_client_data_requested, dispatch_uid=f"{uid}.data_requested"
    )
    signals.health_recheck_changed.connect(
        on_health_recheck_changed, dispatch_uid=f"{uid}.health_recheck_changed"
    )
