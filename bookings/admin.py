"""Django admin for bookings. Sections are owned by different parts of the app; add new ones
below the existing ones.

Consultations: the screening questionnaire and its answer rules are data staff can
edit; consultations are health data, visible only to practitioners and managers, read-only here
(outcomes are recorded through ``consultation_record_outcome`` so tentative treatments are
settled) and every opening of one is audited; API tokens are shown once when created and can be
revoked.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from bookings.models import (
    ApiToken,
    Appointment,
    AppointmentEvent,
    Client,
    ConsentFormVersion,
    Consultation,
    HealthDataAccess,
    HealthRecheck,
    ScreeningAnswerRule,
    ScreeningQuestion,
)
from bookings.services import appointment_cancel, normalise_phone
from bookings.services.api_tokens import api_token_create, api_token_revoke
from bookings.services.consultations import consultation_read, screening_question_record_change
from clinic import roles
from clinic.errors import ApplicationError


def _is_clinical(request: HttpRequest) -> bool:
    return roles.has_role(request.user, *roles.CLINICAL_ROLES)


class ScreeningAnswerRuleInline(admin.TabularInline):
    model = ScreeningAnswerRule
    extra = 0
    fields = ["answer", "flag", "wait_days", "services", "note"]
    filter_horizontal = ["services"]


@admin.register(ScreeningQuestion)
class ScreeningQuestionAdmin(admin.ModelAdmin):
    list_display = [
        "order",
        "key",
        "text",
        "answer_type",
        "is_required",
        "shown_when_question",
        "shown_when_answer",
        "is_active",
        "version",
    ]
    list_select_related = ["shown_when_question"]
    list_display_links = ["key"]
    list_editable = ["order", "is_active"]
    list_filter = ["is_active", "answer_type"]
    search_fields = ["key", "text"]
    readonly_fields = ["version", "updated_at"]
    inlines = [ScreeningAnswerRuleInline]

    def save_model(
        self, request: HttpRequest, obj: ScreeningQuestion, form: Any, change: bool
    ) -> None:
        if change:
            screening_question_record_change(question=obj, changed_fields=form.changed_data)
        super().save_model(request, obj, form, change)


@admin.register(ConsentFormVersion)
class ConsentFormVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "is_current", "created_at"]
    list_filter = ["is_current"]


class ClinicalOnlyAdmin(admin.ModelAdmin):
    """Health data: practitioners and managers may look, nobody edits or deletes here."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_clinical(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_clinical(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Consultation)
class ConsultationAdmin(ClinicalOnlyAdmin):
    list_display = ["id", "client", "appointment", "outcome", "valid_until", "assessed_at"]
    list_filter = ["outcome"]
    search_fields = ["client__first_name", "client__last_name", "client__phone"]
    list_select_related = ["client", "appointment__service"]
    fields = (
        "appointment",
        "client",
        "submitted_at",
        "answers",
        "screening_flags",
        "screening_not_before",
        "outcome",
        "services_cleared",
        "valid_until",
        "not_before",
        "contraindications",
        "notes",
        "consent_version",
        "consent_signed_at",
        "assessed_by",
        "assessed_at",
    )
    readonly_fields = fields

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        consultation = self.get_object(request, object_id)
        if consultation is not None and _is_clinical(request):
            consultation_read(consultation=consultation, actor=request.user, via="admin")
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(HealthDataAccess)
class HealthDataAccessAdmin(ClinicalOnlyAdmin):
    list_display = ["created_at", "actor_label", "action", "record", "via", "fields"]
    list_filter = ["action", "via"]
    search_fields = ["actor_label", "record"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return roles.has_role(request.user, roles.MANAGER)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return roles.has_role(request.user, roles.MANAGER)


@admin.register(HealthRecheck)
class HealthRecheckAdmin(ClinicalOnlyAdmin):
    list_display = ["appointment", "asked_at", "answered_at", "changed", "via", "needs_review"]
    list_filter = ["needs_review", "via"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "user",
        "name",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "name", "prefix"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("user", "name")
        return (
            "user",
            "name",
            "prefix",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:
            return []
        return ["user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw_token = api_token_create(user=obj.user, name=obj.name)
        obj.pk = token.pk
        obj.prefix, obj.token_hash, obj.created_at = (
            token.prefix,
            token.token_hash,
            token.created_at,
        )
        messages.warning(
            request,
            f"New API token for {obj.user}: {raw_token} — copy it now, it will not be shown again.",
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            api_token_revoke(token=token)
        messages.success(request, f"Revoked {queryset.count()} token(s).")


# --- Clients and appointments (scheduling core) ------------------------------------------------
# Appointments are read-only here: booking, moving and status changes must pass the same rules
# as every other interface (bookings.services), so the admin offers only a cancel action that
# calls the service. Client contact details are editable; phones are normalised to E.164.


class ClientAdminForm(forms.ModelForm):
    class Meta:
        model = Client
        fields = [
            "first_name",
            "last_name",
            "phone",
            "email",
            "preferred_location",
            "sms_opted_out_at",
        ]

    def clean_phone(self) -> str:
        location = self.cleaned_data.get("preferred_location")
        region = location.country if location else "GB"
        try:
            return normalise_phone(self.cleaned_data["phone"], region=region)
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from None


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    form = ClientAdminForm
    list_display = [
        "full_name",
        "phone",
        "email",
        "sms_consent_at",
        "sms_opted_out_at",
        "created_at",
    ]
    list_filter = ["preferred_location", ("sms_opted_out_at", admin.EmptyFieldListFilter)]
    search_fields = ["first_name", "last_name", "phone", "email"]
    readonly_fields = [
        "phone_verified_at",
        "sms_consent_at",
        "sms_consent_method",
        "sms_consent_wording",
        "created_at",
        "updated_at",
    ]


class AppointmentEventInline(admin.TabularInline):
    model = AppointmentEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "from_status", "to_status", "actor_label", "reason")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = [
        "start_at",
        "client",
        "service",
        "practitioner",
        "room",
        "location",
        "status",
        "version",
        "channel",
    ]
    list_filter = ["status", "location", "practitioner", "service", "channel"]
    search_fields = ["client__first_name", "client__last_name", "client__phone"]
    date_hierarchy = "start_at"
    list_select_related = ["client", "service", "practitioner", "room", "location"]
    inlines = [AppointmentEventInline]
    actions = ["cancel_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Cancel selected appointments (through the booking rules)")
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        cancelled = 0
        for appointment in queryset:
            try:
                appointment_cancel(
                    appointment=appointment, actor=request.user, reason="Cancelled in the admin"
                )
                cancelled += 1
            except ApplicationError as error:
                self.message_user(request, f"{appointment}: {error.message}", messages.ERROR)
        if cancelled:
            self.message_user(request, f"Cancelled {cancelled} appointment(s).", messages.SUCCESS)
