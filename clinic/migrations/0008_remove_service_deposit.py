"""The deposit is the service's payment policy now (copied there by payments 0002)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0007_location_opening_hours_per_weekday"),
        ("payments", "0002_policies_from_service_deposit"),
    ]

    operations = [migrations.RemoveField(model_name="service", name="deposit")]
