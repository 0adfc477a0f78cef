from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from clinic import roles
from clinic.models import (
    Location,
    OpeningHours,
    Practitioner,
    Room,
    Service,
    SettingsChange,
    TimeOff,
    WorkingHours,
)


def _shown(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "all"):  # a many-to-many's queryset
        return sorted(str(item) for item in value.all())
    if isinstance(value, list | tuple | set) or hasattr(value, "__iter__"):
        return sorted(str(item) for item in value)
    return str(value)


def _stored(obj: Model, name: str, cleaned: object) -> object:
    field = obj._meta.get_field(name)
    return cleaned if field.many_to_many else getattr(obj, name, cleaned)


class AuditedAdmin(admin.ModelAdmin):
    """Changes made in the admin land in the same ``SettingsChange`` trail as the settings
    pages' (the model's ``clean`` already holds both to the same rules)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # After: what was stored (clean() normalises, e.g. phone numbers to E.164).
        changes = {
            name: [
                _shown(form.initial.get(name)) if change else None,
                _shown(_stored(obj, name, form.cleaned_data.get(name))),
            ]
            for name in form.changed_data
        }
        if changes or not change:
            _record_admin_change(
                request, obj, f"{'Changed' if change else 'Added'} {obj} (admin)", changes
            )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        for inline in formset.forms:
            if inline.instance.pk is None or not inline.has_changed():
                continue
            changes = {
                name: [_shown(inline.initial.get(name)), _shown(inline.cleaned_data.get(name))]
                for name in inline.changed_data
                if name not in {"id", "DELETE"}
            }
            _record_admin_change(
                request, inline.instance, f"Saved {inline.instance} (admin)", changes
            )
        for deleted in getattr(formset, "deleted_objects", []):
            _record_admin_change(request, deleted, f"Deleted {deleted} (admin)", {})

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        label = str(obj)
        object_id = obj.pk
        super().delete_model(request, obj)
        SettingsChange.objects.create(
            entity=obj._meta.model_name,
            object_id=object_id,
            summary=f"Deleted {label} (admin)"[:200],
            actor=roles.user_of(request.user),
            actor_label=roles.actor_label(request.user),
            changes={},
        )


def _record_admin_change(
    request: HttpRequest, obj: Model, summary: str, changes: dict[str, list[object]]
) -> None:
    SettingsChange.objects.create(
        entity=obj._meta.model_name or "",
        object_id=obj.pk,
        summary=summary[:200],
        actor=roles.user_of(request.user),
        actor_label=roles.actor_label(request.user),
        changes=changes,
    )


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0
    max_num = 7


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0
    fields = ["location", "weekday", "start_time", "end_time", "valid_from", "valid_until"]


@admin.register(Location)
class LocationAdmin(AuditedAdmin):
    list_display = ["name", "timezone", "phone", "is_active"]
    list_filter = ["is_active", "timezone"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OpeningHoursInline, RoomInline]


@admin.register(Room)
class RoomAdmin(AuditedAdmin):
    list_display = ["name", "location", "is_active"]
    list_filter = ["location", "is_active"]


@admin.register(Service)
class ServiceAdmin(AuditedAdmin):
    list_display = [
        "name",
        "kind",
        "duration_minutes",
        "price",
        "requires_consultation",
        "course_size",
        "min_interval_days",
        "is_online_bookable",
        "is_active",
    ]
    list_filter = ["kind", "requires_consultation", "is_online_bookable", "is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["rooms"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "slug",
                    "kind",
                    "summary",
                    "description",
                    "display_order",
                    "is_active",
                ]
            },
        ),
        (
            "Time",
            {
                "fields": [
                    "duration_minutes",
                    "buffer_before_minutes",
                    "buffer_after_minutes",
                    "slot_step_minutes",
                ]
            },
        ),
        ("Price", {"fields": ["price"]}),
        (
            "Rules",
            {
                "fields": [
                    "requires_consultation",
                    "consultation_validity_days",
                    "course_size",
                    "min_interval_days",
                    "rooms",
                    "is_online_bookable",
                    "min_lead_minutes",
                    "horizon_days",
                ]
            },
        ),
    ]


@admin.register(Practitioner)
class PractitionerAdmin(AuditedAdmin):
    list_display = ["display_name", "title", "user", "is_active"]
    list_filter = ["is_active", "locations", "services"]
    search_fields = ["display_name", "user__username"]
    filter_horizontal = ["locations", "services"]
    inlines = [WorkingHoursInline]


@admin.register(WorkingHours)
class WorkingHoursAdmin(AuditedAdmin):
    list_display = [
        "practitioner",
        "location",
        "weekday",
        "start_time",
        "end_time",
        "valid_from",
        "valid_until",
    ]
    list_filter = ["location", "weekday", "practitioner"]


@admin.register(TimeOff)
class TimeOffAdmin(AuditedAdmin):
    list_display = [
        "__str__",
        "practitioner",
        "room",
        "location",
        "start_at",
        "end_at",
        "repeats",
        "repeat_until",
        "reason",
    ]
    list_filter = ["location", "practitioner", "room"]
    date_hierarchy = "start_at"
