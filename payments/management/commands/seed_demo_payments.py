"""Demo payment policies for ``make run``: every service with a catalogue deposit (the demo
treatment: £50 of £180) takes it online, keeps the card on file, 48-hour window, deposit kept
on a late cancellation or a no-show, and a £30 no-show fee on top. Idempotent."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from clinic.models import Service
from payments.models import PaymentPolicy
from payments.rules import to_minor_units


class Command(BaseCommand):
    help = "Add demo payment policies for the services that show a deposit."

    def handle(self, *args, **options) -> None:
        created = 0
        for service in Service.objects.filter(deposit__gt=0):
            _, is_new = PaymentPolicy.objects.get_or_create(
                service=service,
                location=None,
                defaults={
                    "deposit_amount": to_minor_units(service.deposit),
                    "keeps_card_on_file": True,
                    "no_show_fee": 3000,
                },
            )
            created += is_new
        self.stdout.write(f"demo payment policies: {created} added")
