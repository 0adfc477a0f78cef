"""Texts that follow the record (issue 13): a moved visit says it moved, a client cleared at
their consultation is told so, a tentative booking released after the consultation gets a kind
text that invites a call, and the booking confirmation no longer offers online changes once
they have closed.

Written out here rather than imported, so this migration keeps meaning what it meant. A
template a clinic has already edited is left alone.
"""

from __future__ import annotations

from django.db import migrations

DAY = 24 * 60
CHANGE_OR_CALL = (
    "{% if can_change_online %}Change or cancel: {{ manage_url }}"
    "{% else %}To change it, please call {{ clinic_phone }}.{% endif %}"
)
OLD_CONFIRMATION = (
    "Hi {{ first_name }}, you're booked at {{ clinic_name }} on {{ date }} at {{ time }}. "
    "Reply C to confirm. Change or cancel: {{ manage_url }}"
)
NEW_CONFIRMATION = (
    "Hi {{ first_name }}, you're booked at {{ clinic_name }} on {{ date }} at {{ time }}. "
    "Reply C to confirm. " + CHANGE_OR_CALL
)
NEW_RULES = {
    "Appointment moved": {
        "category": "confirmation",
        "trigger": "rescheduled",
        "service_kinds": [],
        "anchor": "booked",
        "offset_minutes": 0,
        "priority": 100,
        "stale_after_minutes": DAY,
        "template": (
            "Hi {{ first_name }}, your appointment at {{ clinic_name }} has moved: now "
            "{{ date }} at {{ time }}, was {{ previous_when }}. " + CHANGE_OR_CALL
        ),
    },
    "Cleared after consultation": {
        "category": "clearance",
        "trigger": "cleared",
        "service_kinds": ["consultation"],
        "anchor": "booked",
        "offset_minutes": 0,
        "priority": 100,
        "stale_after_minutes": DAY,
        "template": (
            "Hi {{ first_name }}, good news from {{ clinic_name }}: you're cleared for "
            "{% if treatment_names %}{{ treatment_names }}{% else %}treatment{% endif %}. "
            "Book a time that suits you: {{ book_url }}"
        ),
    },
    "Tentative booking released": {
        "category": "cancellation",
        "trigger": "released",
        "service_kinds": [],
        "anchor": "booked",
        "offset_minutes": 0,
        "priority": 100,
        "stale_after_minutes": DAY,
        "template": (
            "Hi {{ first_name }}, we've released the time we were holding for you at "
            "{{ clinic_name }} on {{ date }}. We're sorry it didn't work out this time. Please "
            "call us on {{ clinic_phone }} if you'd like to talk it through."
        ),
    },
}


def forwards(apps, schema_editor):
    rule_model = apps.get_model("reminders", "ReminderRule")
    rule_model.objects.filter(name="Booking confirmation", template=OLD_CONFIRMATION).update(
        template=NEW_CONFIRMATION
    )
    for name, fields in NEW_RULES.items():
        rule_model.objects.get_or_create(name=name, defaults=fields)


def backwards(apps, schema_editor):
    rule_model = apps.get_model("reminders", "ReminderRule")
    rule_model.objects.filter(name__in=list(NEW_RULES)).delete()
    rule_model.objects.filter(name="Booking confirmation", template=NEW_CONFIRMATION).update(
        template=OLD_CONFIRMATION
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0010_alter_message_category_alter_reminderrule_category_and_more")
    ]

    operations = [migrations.RunPython(forwards, backwards)]
