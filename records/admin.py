"""The product catalogue (products and their lots) is configured in the admin. Treatment
records, photos and recalls are not here: they are health data, read only through the
workspace, where every read is permission-checked and audited."""

from __future__ import annotations

from django.contrib import admin

from records.models import Product, ProductLot


class ProductLotInline(admin.TabularInline):
    model = ProductLot
    extra = 1
    fields = ["lot_number", "expires_on", "received_on"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "manufacturer", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "manufacturer", "lots__lot_number"]
    inlines = [ProductLotInline]
