from __future__ import annotations

from django.contrib import admin

from clinic.models import Location, Practitioner, Room, Service, TimeOff, WorkingHours


class RoomInline(admin.TabularInline):
    model = Room
    extra = 0


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0
    fields = ["location", "weekday", "start_time", "end_time", "valid_from", "valid_until"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "phone", "is_active"]
    list_filter = ["is_active", "timezone"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [RoomInline]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "is_active"]
    list_filter = ["location", "is_active"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
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
        ("Price", {"fields": ["price", "deposit"]}),
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
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ["display_name", "title", "user", "is_active"]
    list_filter = ["is_active", "locations", "services"]
    search_fields = ["display_name", "user__username"]
    filter_horizontal = ["locations", "services"]
    inlines = [WorkingHoursInline]


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
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
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["__str__", "practitioner", "room", "location", "start_at", "end_at", "reason"]
    list_filter = ["location", "practitioner", "room"]
    date_hierarchy = "start_at"
