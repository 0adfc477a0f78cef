"""Demo product catalogue for ``make run``: a glide serum and a numbing cream with lots in date,
and one expired lot (which the record form does not offer). Idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from records.models import Product, ProductLot

DEMO_PRODUCTS = [
    ("Hyaluronic glide serum", Product.Kind.SERUM, "Dermalab", [("HG-24A", 300), ("HG-24B", 420)]),
    (
        "Lidocaine 5% numbing cream",
        Product.Kind.ANAESTHETIC,
        "Numbit",
        [("NC-118", 200), ("NC-097", -10)],
    ),
    ("Peptide recovery serum", Product.Kind.SERUM, "Dermalab", [("PR-31", 365)]),
]


class Command(BaseCommand):
    help = "Add the demo product catalogue (products and lots)."

    def handle(self, *args, **options) -> None:
        today = timezone.localdate()
        created = 0
        for name, kind, manufacturer, lots in DEMO_PRODUCTS:
            product, _ = Product.objects.get_or_create(
                name=name, manufacturer=manufacturer, defaults={"kind": kind}
            )
            for lot_number, days_left in lots:
                _, is_new = ProductLot.objects.get_or_create(
                    product=product,
                    lot_number=lot_number,
                    defaults={"expires_on": today + timedelta(days=days_left)},
                )
                created += is_new
        self.stdout.write(f"Demo products ready ({created} new lots).")
