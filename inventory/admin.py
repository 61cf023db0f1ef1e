from django.contrib import admin

from inventory.models import Presentation, Product, Ward


class PresentationInline(admin.TabularInline):
    model = Presentation
    extra = 0
    fields = ["code", "strength", "strength_unit", "container", "pack_size", "gtin"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "active_substance",
        "storage_range_label",
        "keep_dry",
        "shelf_life_months",
        "sodium_mg_per_dose",
        "leaflet_file",
    ]
    search_fields = ["name", "code", "active_substance"]
    inlines = [PresentationInline]


@admin.register(Presentation)
class PresentationAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "code",
        "strength",
        "strength_unit",
        "container",
        "pack_size",
        "gtin",
    ]
    list_filter = ["product", "container"]
    search_fields = ["code", "gtin", "product__name"]
    list_select_related = ["product"]


@admin.register(Ward)
class WardAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "email", "reminder_lead_minutes", "digest_time"]
    search_fields = ["name", "code"]
    filter_horizontal = ["members"]
