"""Admin: a location's waitlist settings, and the waitlist's rows to look at (writes go through
the services: offers are made and claimed only there)."""

from __future__ import annotations

from django.contrib import admin

from waitlist.models import FreedTime, WaitlistEntry, WaitlistOffer, WaitlistSettings


@admin.register(WaitlistSettings)
class WaitlistSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "location",
        "is_enabled",
        "hold_minutes",
        "max_offers_per_freed_time",
        "min_notice_minutes",
        "max_offers_per_day",
        "course_sessions_first",
    )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "service", "location", "status", "joined_at", "expires_on")
    list_filter = ("status", "location", "service")
    exclude = ("token",)


@admin.register(FreedTime)
class FreedTimeAdmin(ReadOnlyAdmin):
    list_display = ("id", "start_at", "practitioner", "location", "source", "status")
    list_filter = ("status", "source", "location")


@admin.register(WaitlistOffer)
class WaitlistOfferAdmin(ReadOnlyAdmin):
    list_display = ("id", "freed_time", "sequence", "status", "offered_at", "expires_at")
    list_filter = ("status",)
