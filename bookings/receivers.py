"""Bookings reacting to its own domain events: a booked consultation gets its record, a
cancelled or missed consultation releases the tentative treatments waiting for it, and a
consultation moved too close to (or past) them releases those.

Connected in ``BookingsConfig.ready``; receivers run inside the sender's transaction.
"""

from __future__ import annotations

import contextlib
from typing import Any

import phonenumbers
from django.dispatch import receiver

from bookings import signals
from bookings.models import Appointment
from bookings.services.clients import normalise_phone
from bookings.services.consultations import (
    consultation_open_for_appointment,
    tentative_treatments_release_for_consultation,
)
from clinic.errors import ValidationFailed
from clinic.models import Location
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
def phone_countries_warmed(sender: Any, **kwargs: Any) -> list[str]:
    """Compile the phone patterns of every active location's country, as validating a
    client's number there would (its example mobile number); phonenumbers compiles them on
    first use, tens of milliseconds in a worker's first booking. Returns the countries."""
    countries = sorted(
        set(Location.objects.filter(is_active=True).values_list("country", flat=True))
    )
    for country in countries:
        example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
        if example is None:
            continue
        # An example the rules refuse has still compiled them.
        with contextlib.suppress(ValidationFailed):
            normalise_phone(
                phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164),
                region=country,
            )
    return countries
