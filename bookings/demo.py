from __future__ import annotations

from bookings.models import Client
from clinic.models import Location

DEMO_CLIENTS = [
    ("Amelia", "Hart", "+447700900201"),
    ("Noah", "Bennett", "+447700900202"),
    ("Isla", "Ward", "+447700900203"),
    ("Leo", "Carter", "+447700900204"),
]


def seed_demo_bookings(*, location: Location) -> int:
    for first_name, last_name, phone in DEMO_CLIENTS:
        Client.objects.get_or_create(
            phone=phone,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "preferred_location": location,
                "sms_consent_method": "staff_phone",
                "sms_consent_wording": "Demo client",
            },
        )
    return 0
