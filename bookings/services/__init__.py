"""Every write in bookings goes through these functions (see each module's docstring)."""

from __future__ import annotations

from bookings.services.appointments import (
    appointment_book,
    appointment_hold,
    appointment_reschedule,
    refusals_completed_after_rollback,
)
from bookings.services.clients import client_register, normalise_phone
from bookings.services.consultations import (
    consultation_open_for_appointment,
    consultation_read,
    consultation_record_consent,
    consultation_record_outcome,
    consultation_submit_screening,
    health_recheck_answer,
    health_recheck_request,
    tentative_holds_release_due,
)
from bookings.services.transitions import (
    appointment_cancel,
    appointment_complete,
    appointment_confirm,
    appointment_mark_arrived,
    appointment_mark_no_show,
    appointment_revert_no_show,
    appointment_transition,
    holds_release_expired,
)

__all__ = [
    "appointment_book",
    "appointment_cancel",
    "appointment_complete",
    "appointment_confirm",
    "appointment_hold",
    "appointment_mark_arrived",
    "appointment_mark_no_show",
    "appointment_reschedule",
    "appointment_revert_no_show",
    "appointment_transition",
    "client_register",
    "consultation_open_for_appointment",
    "consultation_read",
    "consultation_record_consent",
    "consultation_record_outcome",
    "consultation_submit_screening",
    "health_recheck_answer",
    "health_recheck_request",
    "holds_release_expired",
    "normalise_phone",
    "refusals_completed_after_rollback",
    "tentative_holds_release_due",
]
