"""Seed a realistic demo clinic. Idempotent: running it again creates nothing twice."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from bookings.demo import seed_demo_bookings
from clinic import roles
from clinic.models import Location, Practitioner, Room, Service, WorkingHours

DEMO_PASSWORD = "aftercare-demo"  # noqa: S105 - printed on purpose: demo accounts only

MICRONEEDLING_DESCRIPTION = (
    "Micro-needling (collagen induction therapy) makes tiny, controlled channels in the skin so it "
    "renews itself with fresh collagen and elastin. It softens fine lines, acne scars and enlarged "
    "pores and evens out texture and tone. Numbing cream keeps it comfortable. Expect redness like "
    "mild sunburn for 1–3 days, then some dryness or flaking. Best results come from a course of "
    "3 sessions about 4–6 weeks apart."
)

# (username, full name, role, practitioner title, weekly hours {weekday: (start, end)})
STAFF = [
    ("reception", "Rosa Quinn", roles.RECEPTION, None, {}),
    ("manager", "Maya Stone", roles.MANAGER, None, {}),
    (
        "practitioner",
        "Priya Shah",
        roles.PRACTITIONER,
        "Aesthetic nurse practitioner",
        {
            0: (time(9), time(17)),
            1: (time(9), time(17)),
            3: (time(11), time(19)),
            4: (time(9), time(15)),
        },
    ),
    (
        "daniel",
        "Daniel Moreno",
        roles.PRACTITIONER,
        "Skin therapist",
        {
            1: (time(12), time(20)),
            2: (time(9), time(17)),
            3: (time(9), time(17)),
            5: (time(9), time(14)),
        },
    ),
    (
        "grace",
        "Grace Okafor",
        roles.PRACTITIONER,
        "Dermal clinician",
        {0: (time(10), time(18)), 2: (time(10), time(18)), 4: (time(10), time(18))},
    ),
]


class Command(BaseCommand):
    help = "Create the demo clinic (location, rooms, services, staff, clients, appointments)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--no-appointments", action="store_true", help="Catalogue and staff only"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off (creates staff with a published password)",
        )

    def handle(self, *args, no_appointments: bool = False, force: bool = False, **options) -> None:
        # The demo staff share a password printed in the README: never in production by accident.
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates staff accounts with a published password; it only runs with "
                "DEBUG=1 (or --force)"
            )
        self._seed(no_appointments=no_appointments)

    @transaction.atomic
    def _seed(self, *, no_appointments: bool) -> None:
        location, _ = Location.objects.get_or_create(
            slug="soho",
            defaults={
                "name": "Lumen Skin Clinic",
                "address": "12 Greek Street, London W1D 4DH",
                "maps_url": "https://maps.google.com/?q=12+Greek+Street+London",
                "timezone": "Europe/London",
                "country": "GB",
                "phone": "+442079460000",
                "urgent_phone": "+447700900111",
                "email": "hello@lumen.example",
                "sms_sender_name": "LumenSkin",
            },
        )
        rooms = [
            Room.objects.get_or_create(location=location, name=name)[0]
            for name in ("Room 1", "Room 2")
        ]
        consultation, consultation_created = Service.objects.get_or_create(
            slug="skin-consultation",
            defaults={
                "name": "Skin consultation",
                "kind": Service.Kind.CONSULTATION,
                "summary": "An assessment before your first treatment.",
                "description": (
                    "We talk through your skin goals and medical history, check that micro-needling "
                    "is right for you, and plan your course. Required before your first treatment."
                ),
                "duration_minutes": 30,
                "price": Decimal("0"),
                "consultation_validity_days": 180,
                "min_lead_minutes": 120,
                "horizon_days": 60,
                "display_order": 0,
            },
        )
        if consultation_created:
            # Consultations happen in a treatment room too, so they show in the rooms view.
            consultation.rooms.set(rooms)
        treatments = []
        for slug, name, minutes, price, order in (
            ("microneedling-face", "Micro-needling – face", 60, Decimal("180"), 1),
            ("microneedling-face-neck", "Micro-needling – face & neck", 75, Decimal("230"), 2),
        ):
            service, created = Service.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "kind": Service.Kind.TREATMENT,
                    "summary": "Collagen induction for texture, scarring and fine lines.",
                    "description": MICRONEEDLING_DESCRIPTION,
                    "duration_minutes": minutes,
                    "buffer_after_minutes": 15,
                    "price": price,
                    "requires_consultation": True,
                    "course_size": 3,
                    "min_interval_days": 28,
                    "min_lead_minutes": 24 * 60,
                    "horizon_days": 120,
                    "display_order": order,
                },
            )
            if created:
                service.rooms.set(rooms)
            treatments.append(service)

        User = get_user_model()
        for username, full_name, role, title, hours in STAFF:
            first_name, last_name = full_name.split(" ", 1)
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first_name,
                    "last_name": last_name,
                    "email": f"{username}@lumen.example",
                    "is_staff": role == roles.MANAGER,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(Group.objects.get_or_create(name=role)[0])
            if title is None:
                continue
            practitioner, created = Practitioner.objects.get_or_create(
                user=user, defaults={"display_name": full_name, "title": title}
            )
            if created:
                practitioner.locations.add(location)
                practitioner.services.add(consultation, *treatments)
            for weekday, (start, end) in hours.items():
                WorkingHours.objects.get_or_create(
                    practitioner=practitioner,
                    location=location,
                    weekday=weekday,
                    start_time=start,
                    end_time=end,
                )
        manager = User.objects.get(username="manager")
        if not manager.is_superuser:
            manager.is_superuser = True
            manager.is_staff = True
            manager.save(update_fields=["is_superuser", "is_staff"])

        created_appointments = 0 if no_appointments else seed_demo_bookings(location=location)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo clinic ready: {location.name}; staff users reception, practitioner, daniel, grace, "
                f"manager (password: {DEMO_PASSWORD}); {created_appointments} new demo appointments."
            )
        )
