"""Ship the default micro-needling protocol (DOMAIN.md) as editable ReminderRule rows."""

from __future__ import annotations

from django.db import migrations


def add_default_protocol(apps, schema_editor):
    from reminders.protocol import DEFAULT_RULES

    rule_model = apps.get_model("reminders", "ReminderRule")
    for definition in DEFAULT_RULES:
        fields = dict(definition)
        rule_model.objects.update_or_create(name=fields.pop("name"), defaults=fields)


def remove_default_protocol(apps, schema_editor):
    from reminders.protocol import DEFAULT_RULES

    rule_model = apps.get_model("reminders", "ReminderRule")
    rule_model.objects.filter(name__in=[rule["name"] for rule in DEFAULT_RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("reminders", "0001_outbox_rules_inbound")]

    operations = [migrations.RunPython(add_default_protocol, remove_default_protocol)]
