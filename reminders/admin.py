from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from reminders.models import InboundMessage, Message, RedFlag, ReminderRule, StaffAlert
from reminders.rendering import sample_summary


@admin.register(ReminderRule)
class ReminderRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "category",
        "trigger",
        "anchor",
        "offset_minutes",
        "local_time",
        "priority",
        "is_active",
        "sample_length",
    ]
    list_filter = ["category", "trigger", "is_active"]
    filter_horizontal = ["services"]
    readonly_fields = ["sample_length"]

    @admin.display(description="Rendered sample")
    def sample_length(self, rule: ReminderRule) -> str:
        return sample_summary(rule.template) if rule.template else "-"


@admin.register(RedFlag)
class RedFlagAdmin(admin.ModelAdmin):
    list_display = ["category", "pattern", "needs_recent_treatment", "is_active"]
    list_filter = ["category", "needs_recent_treatment", "is_active"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "category", "to", "due_at", "status", "attempts", "error_code"]
    list_filter = ["status", "category"]
    search_fields = ["to", "provider_sid"]
    raw_id_fields = ["appointment", "client", "rule", "retry_of"]
    # The raw body is left out: for a verification text it is the client's live code.
    exclude = ["body"]
    readonly_fields = [
        "text",
        "provider_sid",
        "provider_status",
        "lease_expires_at",
        "attempts",
    ]

    @admin.display(description="Text")
    def text(self, message: Message) -> str:
        return message.body_for_staff


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "from_number", "kind", "is_urgent", "created_at", "handled_at"]
    readonly_fields = ["red_flags"]
    list_filter = ["kind", "is_urgent"]
    raw_id_fields = ["client", "appointment"]


@admin.register(StaffAlert)
class StaffAlertAdmin(admin.ModelAdmin):
    """Read-only: alerts are planned and sent by the services; the admin shows what happened."""

    list_display = ["id", "kind", "recipient", "created_at", "sent_at", "attempts", "last_error"]
    list_filter = ["kind", ("sent_at", admin.EmptyFieldListFilter)]
    readonly_fields = [field.name for field in StaffAlert._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
