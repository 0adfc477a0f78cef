from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from bookings.models import Appointment, Client
from clinic.models import Location, Practitioner, Room, Service, WorkingHours

MODELS = (
    Location,
    Room,
    Service,
    Practitioner,
    WorkingHours,
    Client,
    Appointment,
    get_user_model(),
)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.mark.django_db
def test_seed_demo_creates_the_demo_clinic():
    call_command("seed_demo")
    location = Location.objects.get()
    assert location.timezone == "Europe/London"
    assert Room.objects.filter(location=location).count() == 2
    assert Practitioner.objects.count() == 3
    consultation = Service.objects.get(name="Skin consultation")
    assert consultation.kind == "consultation"
    assert consultation.duration_minutes == 30
    assert consultation.price == 0
    face = Service.objects.get(name="Micro-needling – face")
    assert (
        face.duration_minutes,
        face.requires_consultation,
        face.course_size,
        face.min_interval_days,
    ) == (60, True, 3, 28)
    assert Service.objects.get(name="Micro-needling – face & neck").duration_minutes == 75
    User = get_user_model()
    for username, role in (
        ("reception", "reception"),
        ("practitioner", "practitioner"),
        ("manager", "manager"),
    ):
        user = User.objects.get(username=username)
        assert user.check_password("aftercare-demo")
        assert user.groups.filter(name=role).exists()
    weekly_patterns = {
        tuple(practitioner.working_hours.values_list("weekday", "start_time", "end_time"))
        for practitioner in Practitioner.objects.all()
    }
    assert len(weekly_patterns) == 3, "each practitioner should have their own hours"
    statuses = set(Appointment.objects.values_list("service__kind", "status"))
    assert ("consultation", "booked") in statuses
    assert ("treatment", "booked") in statuses, "a cleared demo client has a treatment"
    assert ("treatment", "pending_clearance") in statuses, "a tentative treatment waits"
    window_end = timezone.now() + timedelta(days=15)
    assert not Appointment.objects.filter(start_at__gt=window_end).exists()


@pytest.mark.django_db
def test_seed_demo_twice_creates_nothing_twice():
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first


@pytest.mark.django_db
@pytest.mark.parametrize("weekday_offset", range(7))
def test_seed_demo_works_whatever_the_day_of_the_week(weekday_offset):
    # Demo slots depend on "today": a weekend between consultation and treatment once made the
    # tentative treatment land less than a day after its consultation.
    moment = datetime(2026, 11, 23, 7, 30, tzinfo=UTC) + timedelta(
        days=weekday_offset, hours=5 * weekday_offset
    )
    with time_machine.travel(moment, tick=False):
        call_command("seed_demo")
    assert Appointment.objects.filter(status="pending_clearance").count() == 1


def test_demo_consultations_take_a_room_and_show_in_the_rooms_view(db):
    call_command("seed_demo", stdout=io.StringIO())

    consultations = Appointment.objects.filter(service__kind="consultation")
    assert consultations.exists()
    assert not consultations.filter(room__isnull=True).exists()
