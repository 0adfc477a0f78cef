from __future__ import annotations

from datetime import time, timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from bookings.models import Appointment, Client
from clinic.models import Location, Practitioner, Room, Service, TimeOff, WorkingHours


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@clinic.test")
    password = factory.django.Password("correct horse battery staple")
    is_staff = False


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Clinic {n}")
    slug = factory.Sequence(lambda n: f"clinic-{n}")
    timezone = "Europe/London"
    country = "GB"
    phone = "+442071234567"
    urgent_phone = "+447700900999"
    address = "1 High Street, London"


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    location = factory.SubFactory(LocationFactory)
    name = factory.Sequence(lambda n: f"Room {n}")


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Service {n}")
    slug = factory.Sequence(lambda n: f"service-{n}")
    kind = Service.Kind.TREATMENT
    duration_minutes = 60
    price = 150
    min_lead_minutes = 0
    horizon_days = 120
    slot_step_minutes = 15


class PractitionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practitioner

    display_name = factory.Sequence(lambda n: f"Practitioner {n}")


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingHours

    practitioner = factory.SubFactory(PractitionerFactory)
    location = factory.SubFactory(LocationFactory)
    weekday = 0
    start_time = time(9)
    end_time = time(17)


class TimeOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeOff

    start_at = factory.LazyFunction(timezone.now)
    end_at = factory.LazyAttribute(lambda block: block.start_at + timedelta(hours=8))


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    phone = factory.Sequence(lambda n: f"+4477009{n:05d}")
    email = factory.LazyAttribute(lambda client: f"{client.first_name.lower()}@example.test")
    sms_consent_at = factory.LazyFunction(timezone.now)
    sms_consent_method = "online_form"
    sms_consent_wording = "Text me about my appointments. Reply STOP to opt out."
    phone_verified_at = factory.LazyFunction(timezone.now)


class AppointmentFactory(factory.django.DjangoModelFactory):
    """Writes a row directly (no rules, no signals): for arranging a calendar in tests.
    Use ``bookings.services`` to test booking behaviour."""

    class Meta:
        model = Appointment

    client = factory.SubFactory(ClientFactory)
    service = factory.SubFactory(ServiceFactory)
    practitioner = factory.SubFactory(PractitionerFactory)
    location = factory.SubFactory(LocationFactory)
    room = None
    start_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    end_at = factory.LazyAttribute(
        lambda appt: appt.start_at + timedelta(minutes=appt.service.duration_minutes)
    )
    blocked_start_at = factory.LazyAttribute(
        lambda appt: appt.start_at - timedelta(minutes=appt.service.buffer_before_minutes)
    )
    blocked_end_at = factory.LazyAttribute(
        lambda appt: appt.end_at + timedelta(minutes=appt.service.buffer_after_minutes)
    )
    status = Appointment.Status.BOOKED


def verification_token_for(phone: str) -> str:
    """A phone-verification token for ``phone`` (E.164), as ``POST /verifications/{id}/check``
    returns after the right code: what an anonymous ``POST /api/v1/bookings`` must send."""
    from bookings.models import PhoneVerification
    from bookings.services.verification import verification_token_for as token_for

    now = timezone.now()
    verification = PhoneVerification.objects.create(
        phone=phone,
        code_hash="-",
        expires_at=now + timedelta(minutes=10),
        verified_at=now,
        attempts=1,
    )
    return token_for(verification=verification)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.Product"

    name = factory.Sequence(lambda n: f"Glide serum {n}")
    kind = "serum"
    manufacturer = "Dermalab"


class ProductLotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "records.ProductLot"

    product = factory.SubFactory(ProductFactory)
    lot_number = factory.Sequence(lambda n: f"LOT{n:04d}")
    expires_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))


def complete_record_content(**changes) -> dict:
    """A record's content with everything a signature needs."""
    content = {
        "device": "Dermapen 4",
        "cartridge": "16-pin",
        "depths": [{"area": "forehead", "depth_mm": "0.5"}, {"area": "cheeks", "depth_mm": "1.0"}],
        "passes": 3,
        "anaesthetic_minutes": 30,
        "erythema_grade": 2,
        "pinpoint_bleeding": True,
        "reactions": "",
        "aftercare_given": "Aftercare leaflet and SPF 30 explained",
        "notes": "",
        "lot_ids": [],
    }
    content.update(changes)
    return content


def sign_treatment_record(appointment: Appointment, *, signer=None, **changes):
    """Sign a complete record for ``appointment`` (a manager signs unless ``signer`` is given),
    which a treatment needs before it can be completed."""
    from django.contrib.auth.models import Group

    from clinic import roles
    from records.services.treatment_records import treatment_record_save

    if signer is None:
        signer = UserFactory(username="record_signer")
        signer.groups.add(Group.objects.get_or_create(name=roles.MANAGER)[0])
    return treatment_record_save(
        actor=signer, appointment=appointment, content=complete_record_content(**changes), sign=True
    )
