from django.contrib import admin

from courses.models import Protocol, ProtocolPhase


class ProtocolPhaseInline(admin.StackedInline):
    model = ProtocolPhase
    extra = 0


@admin.register(Protocol)
class ProtocolAdmin(admin.ModelAdmin):
    list_display = ["code", "product", "indication", "population", "route", "leaflet_section"]
    list_filter = ["product", "population", "route"]
    search_fields = ["code", "indication", "leaflet_quote"]
    list_select_related = ["product"]
    inlines = [ProtocolPhaseInline]
