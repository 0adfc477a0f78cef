"""Bookings reacting to its own domain events: a booked consultation gets its record, a
cancelled or missed consultation releases the tentative treatments waiting for it, and a
consultation moved too close to (or past) them releases those; and a web worker warming up
compiles the phone patterns of the clinic's countries.

Connected in ``BookingsConfig.ready``; domain-event receivers run inside the sender's
transaction.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from bookings import signals
from bookings.models import Appointment
from bookings.services.clients import phone_patterns_compile_for_locations
from bookings.services.consultations import (
    consultation_open_for_appointment,
    tentative_treatments_release_for_consultation,
)
from clinic.warmup import worker_warming


@receiver(signals.appointment_booked, dispatch_uid="bookings.consultation_open")
def open_consultation_record(sender: Any, *, appointment: Appointment, **kwargs: Any) -> None:
    consultation_open_for_appointment(appointment=appointment)


@receiver(signals.appointment_cancelled, dispatch_uid="bookings.consultation_cancelled")
@receiver(signals.appointment_no_show, dispatch_uid="bookings.consultation_missed")
def release_tentative_treatments(
    sender: Any, *, appointment: Appointment, actor_label: str = "system", **kwargs: Any
) -> None:
    if appointment.service.is_consultation:
        tentative_treatments_release_for_consultation(
            consultation_appointment=appointment, actor_label=actor_label
        )


@receiver(signals.appointment_rescheduled, dispatch_uid="bookings.consultation_moved")
def release_tentative_treatments_now_too_early(
    sender: Any, *, appointment: Appointment, actor_label: str = "system", **kwargs: Any
) -> None:
    # A tentative first treatment must stay at least a day after its consultation.
    if appointment.service.is_consultation:
        tentative_treatments_release_for_consultation(
            consultation_appointment=appointment, actor_label=actor_label, only_too_early=True
        )


@receiver(worker_warming, dispatch_uid="bookings.phone_patterns")
def warm_phone_patterns(sender: Any, **kwargs: Any) -> None:
    phone_patterns_compile_for_locations()
