"""free_slots reads the window per practitioner and room through the (practitioner,
blocked_start_at) and (room, blocked_start_at) indexes. The index on blocked_start_at alone
(0007) let PostgreSQL's generic plan of the prepared statement read every practitioner's visits
in the window to keep one practitioner's, and nothing else queries blocked_start_at alone."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0016_client_alert_is_clinical"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="appointment",
            name="appointment_blocked_start_idx",
        ),
    ]
