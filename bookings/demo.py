"""Demo clients and appointments for ``seed_demo``, booked through the real services so that
every rule (no overlap, eligibility, reminders) applies to demo data too."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from bookings import services
from bookings.availability import Slot, free_slots
from bookings.models import Appointment, Client, ConsentFormVersion
from bookings.services.consultations import (
    consultation_open_for_appointment,
    consultation_record_outcome,
)
from clinic.models import Location, Service

# (first name, last name, phone in the UK drama range, story)
DEMO_CLIENTS = [
    ("Isla", "Ward", "+447700900203", "cleared"),
    ("Noah", "Bennett", "+447700900202", "tentative"),
    ("Amelia", "Hart", "+447700900201", "consultation"),
    ("Leo", "Carter", "+447700900204", "consultation"),
]


def _slot(
    service: Service,
    location: Location,
    *,
    from_days: int,
    pick: int,
    not_before: datetime | None = None,
) -> Slot | None:
    today = timezone.localdate(timezone.now(), location.zone)
    slots = [
        slot
        for slot in free_slots(
            service=service,
            location=location,
            start_date=today + timedelta(days=from_days),
            end_date=today + timedelta(days=14),
            enforce_booking_window=False,
        )
        if not_before is None or slot.start_at >= not_before
    ]
    return slots[min(pick, len(slots) - 1)] if slots else None


def _held_three_weeks_ago(
    *, client: Client, service: Service, location: Location, slot: Slot
) -> Appointment:
    """Demo history: the cleared client's consultation took place three weeks ago (same weekday
    and time as a free slot, so inside working hours). Nothing can be booked in the past through
    the services, and an outcome is recorded only from a consultation's start, so this one row
    is written as seed history: completed, with no texts planned for it."""
    start_at = slot.start_at - timedelta(days=21)
    end_at = start_at + service.duration
    consultation = Appointment.objects.create(
        client=client,
        service=service,
        location=location,
        practitioner_id=slot.practitioner_ids[0],
        room_id=slot.room_ids[0] if slot.room_ids else None,
        start_at=start_at,
        end_at=end_at,
        blocked_start_at=start_at - service.buffer_before,
        blocked_end_at=end_at + service.buffer_after,
        status=Appointment.Status.COMPLETED,
        channel=Appointment.Channel.STAFF,
    )
    consultation_open_for_appointment(appointment=consultation)
    return consultation


def seed_demo_bookings(*, location: Location) -> int:
    """Create the demo clients and their appointments; return how many appointments are new.

    A client who already has appointments is left alone, so running this twice books nothing
    twice.
    """
    manager = get_user_model().objects.get(username="manager")
    consultation_service = Service.objects.get(slug="skin-consultation")
    treatment = Service.objects.get(slug="microneedling-face")
    created = 0
    for index, (first_name, last_name, phone, story) in enumerate(DEMO_CLIENTS):
        client, _ = Client.objects.get_or_create(
            phone=phone,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "preferred_location": location,
                "sms_consent_at": timezone.now(),
                "sms_consent_method": "staff_phone",
                "sms_consent_wording": "Demo client: agreed by phone to appointment texts.",
                "phone_verified_at": timezone.now(),
            },
        )
        if Appointment.objects.filter(client=client).exists():
            continue
        slot = _slot(consultation_service, location, from_days=1 + 2 * index, pick=3 * index)
        if slot is None:
            continue
        if story == "cleared":
            consultation = _held_three_weeks_ago(
                client=client, service=consultation_service, location=location, slot=slot
            )
        else:
            consultation = services.appointment_book(
                client=client,
                service=consultation_service,
                location=location,
                start_at=slot.start_at,
                actor=manager,
                channel=Appointment.Channel.STAFF,
                enforce_booking_window=False,
            )
        created += 1
        if story == "cleared":
            consultation_record_outcome(
                consultation=consultation.consultation,
                actor=manager,
                outcome="cleared",
                services=[treatment, Service.objects.get(slug="microneedling-face-neck")],
                consent_version=ConsentFormVersion.objects.filter(is_current=True).first(),
                screened_in_person=True,
                notes="Demo: Fitzpatrick II, mild acne scarring; no contraindications.",
            )
        if story in {"cleared", "tentative"}:
            # A first treatment comes at least a day after the consultation (a weekend in
            # between can make the consultation later than its nominal day).
            treatment_slot = _slot(
                treatment,
                location,
                from_days=3 + 2 * index,
                pick=2,
                not_before=consultation.end_at + timedelta(days=1),
            )
            if treatment_slot is not None:
                services.appointment_book(
                    client=client,
                    service=treatment,
                    location=location,
                    start_at=treatment_slot.start_at,
                    actor=manager,
                    channel=Appointment.Channel.STAFF,
                    awaiting_consultation=consultation if story == "tentative" else None,
                    enforce_booking_window=False,
                )
                created += 1
    return created
