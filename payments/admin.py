from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from payments.models import (
    Payment,
    PaymentAuditEntry,
    PaymentPolicy,
    PaymentTerms,
    ReconciliationMismatch,
    Refund,
    StripeCustomer,
    StripeEvent,
)


@admin.register(PaymentPolicy)
class PaymentPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "service",
        "location",
        "currency",
        "deposit_amount",
        "deposit_percent",
        "keeps_card_on_file",
        "late_cancel_window_hours",
        "late_cancel_fee",
        "no_show_fee",
        "is_active",
    )
    list_filter = ("location", "is_active")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money rows change only through the services (row before call, audited)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("pk", "kind", "amount", "currency", "status", "appointment", "created_at")
    list_filter = ("kind", "status")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("pk", "payment", "amount", "status", "created_at")


for model in (PaymentTerms, StripeCustomer, StripeEvent, PaymentAuditEntry, ReconciliationMismatch):
    admin.site.register(model, ReadOnlyAdmin)
