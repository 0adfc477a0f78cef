"""Short-notice bookings (DOMAIN.md, "Short-notice bookings"): pre-care and day-before steps
whose time has passed at booking are replaced by one catch-up message each, not dropped.

Written out here rather than imported, so this migration keeps meaning what it meant.
"""

from __future__ import annotations

from django.db import migrations

DAY = 24 * 60
CATCH_UPS = {
    "Pre-care: catch-up": {
        "replaces": ["Pre-care: 14 days before", "Pre-care: 5 days before"],
        "category": "pre_care",
        "trigger": "booked",
        "service_kinds": ["treatment"],
        "anchor": "booked",
        "offset_minutes": 5,
        "priority": 85,
        "stale_after_minutes": DAY // 2,
        "template": (
            "Hi {{ first_name }}, before {{ date }}: from now no sun, sunbeds or self-tan; pause "
            "retinoids, acids and scrubs. Isotretinoin in 6 months or a tan? Call "
            "{{ clinic_phone }} {{ care_url }}"
        ),
    },
    "Day-before reminder: catch-up": {
        "replaces": ["Day-before reminder"],
        "category": "day_before",
        "trigger": "booked",
        "service_kinds": [],
        "anchor": "booked",
        "offset_minutes": 10,
        "priority": 90,
        "stale_after_minutes": DAY // 2,
        "template": (
            "Hi {{ first_name }}, see you on {{ date }} at {{ time }} at {{ clinic_name }}. "
            "Please arrive with clean skin and no make-up. {{ manage_url }}"
        ),
    },
}


def add_catch_up_rules(apps, schema_editor):
    rule_model = apps.get_model("reminders", "ReminderRule")
    for name, definition in CATCH_UPS.items():
        fields = dict(definition)
        replaces = fields.pop("replaces")
        catch_up, _ = rule_model.objects.get_or_create(
            name=name, defaults={**fields, "is_catch_up": True}
        )
        rule_model.objects.filter(name__in=replaces, catch_up__isnull=True).update(
            catch_up=catch_up
        )


def remove_catch_up_rules(apps, schema_editor):
    apps.get_model("reminders", "ReminderRule").objects.filter(name__in=list(CATCH_UPS)).delete()


class Migration(migrations.Migration):
    dependencies = [("reminders", "0008_reminderrule_catch_up")]

    operations = [migrations.RunPython(add_catch_up_rules, remove_catch_up_rules)]
