"""Demo payment policies for ``make run``: the demo treatments (micro-needling, £180 and £230)
take a £50 deposit online, keeps the card on file, 48-hour window, deposit kept
on a late cancellation or a no-show, and a £30 no-show fee on top. Idempotent."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from clinic.models import Service
from payments.models import PaymentPolicy


class Command(BaseCommand):
    help = "Add the demo payment policies (the micro-needling treatments)."

    def handle(self, *args, **options) -> None:
        created = 0
        for service in Service.objects.filter(slug__startswith="microneedling"):
            _, is_new = PaymentPolicy.objects.get_or_create(
                service=service,
                location=None,
                defaults={
                    "deposit_amount": 5000,
                    "keeps_card_on_file": True,
                    "no_show_fee": 3000,
                },
            )
            created += is_new
        self.stdout.write(f"demo payment policies: {created} added")
