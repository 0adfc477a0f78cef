"""The service's deposit moves to its payment policy (the one source of truth): each service
with a deposit and no every-location policy gets one taking that deposit, with the default
terms (48 h window, kept when late or missed, refunded when cancelled in good time)."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations


def copy_deposits(apps, schema_editor):
    Service = apps.get_model("clinic", "Service")
    PaymentPolicy = apps.get_model("payments", "PaymentPolicy")
    for service in Service.objects.filter(deposit__gt=0):
        if PaymentPolicy.objects.filter(service=service, location__isnull=True).exists():
            continue
        amount = int((Decimal(service.deposit) * 100).quantize(Decimal("1"), ROUND_HALF_UP))
        PaymentPolicy.objects.create(service=service, location=None, deposit_amount=amount)


def copy_back(apps, schema_editor):
    Service = apps.get_model("clinic", "Service")
    PaymentPolicy = apps.get_model("payments", "PaymentPolicy")
    for policy in PaymentPolicy.objects.filter(location__isnull=True, deposit_percent__isnull=True):
        Service.objects.filter(pk=policy.service_id).update(
            deposit=Decimal(policy.deposit_amount) / 100
        )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_policies_payments_refunds"),
        ("clinic", "0007_location_opening_hours_per_weekday"),
    ]

    operations = [migrations.RunPython(copy_deposits, copy_back)]
