"""Managers change reminder wording, timing and on/off without the admin; bad input names the
field and saves nothing; the preview shows the sample text and its SMS segments."""

from __future__ import annotations

import pytest

from clinic.errors import PermissionDenied, ValidationFailed
from reminders.models import ReminderRule
from reminders.services.rules import reminder_preview, reminder_rule_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def day_before():
    return ReminderRule.objects.filter(category="day_before").first()


def test_a_manager_changes_the_wording_timing_and_switches_a_rule_off(manager, day_before):
    updated = reminder_rule_update(
        actor=manager,
        rule=day_before,
        template="Hi {{ first_name }}, see you tomorrow at {{ time }}.",
        offset_minutes="-1440",
        local_time="10:30",
        is_active=False,
    )

    assert updated.offset_minutes == -1440
    assert updated.local_time.strftime("%H:%M") == "10:30"
    assert updated.is_active is False
    assert updated.template.startswith("Hi {{ first_name }}")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"template": "Hi {% if %}"}, "template"),
        ({"template": " "}, "template"),
        ({"template": "x" * 500}, "template"),
        ({"offset_minutes": "a day"}, "offset_minutes"),
        ({"offset_minutes": str(200 * 24 * 60)}, "offset_minutes"),
        ({"local_time": "25:99"}, "local_time"),
    ],
)
def test_bad_settings_name_the_field_and_save_nothing(manager, day_before, changes, field):
    before = day_before.template
    arguments = {
        "template": "Hi {{ first_name }}",
        "offset_minutes": "0",
        "local_time": "",
        "is_active": True,
        **changes,
    }
    with pytest.raises(ValidationFailed) as refusal:
        reminder_rule_update(actor=manager, rule=day_before, **arguments)

    assert refusal.value.field == field
    day_before.refresh_from_db()
    assert day_before.template == before


def test_only_managers_change_reminders(reception, day_before):
    with pytest.raises(PermissionDenied):
        reminder_rule_update(
            actor=reception,
            rule=day_before,
            template="x",
            offset_minutes=0,
            local_time=None,
            is_active=True,
        )


def test_the_preview_counts_segments_and_an_emoji_switches_to_ucs2():
    body, summary = reminder_preview(template="Hi {{ first_name }}")
    assert body == "Hi Alexandra"
    assert summary == "12 characters · GSM-7 · 1 segment"
    _, with_emoji = reminder_preview(template="Hi {{ first_name }} 😊")
    assert "UCS-2" in with_emoji


def test_the_settings_pages_are_for_managers(as_manager, as_reception, day_before, location):
    assert as_reception.get("/staff/settings/reminders/").status_code == 403
    page = as_manager.get("/staff/settings/reminders/").content.decode()
    assert day_before.name in page
    preview = as_manager.post(
        "/staff/settings/reminders/preview/", {"template": "See you {{ date }}"}
    ).content.decode()
    assert "See you Wed 25 Mar" in preview
    response = as_manager.post(
        f"/staff/settings/reminders/{day_before.id}/",
        {"template": "Hi {% if %}", "offset_minutes": "0", "local_time": ""},
    )
    assert response.status_code == 422
    assert 'data-error-field="template"' in response.content.decode()
