"""Query-string filters of the stock endpoints; date windows are computed per request."""

import django_filters
from django.utils import timezone

from config.dates import DateFilter, IsoDateTimeFilter
from inventory.models import (
    Excursion,
    Lot,
    LotStatus,
    MovementKind,
    StockMovement,
    TemperatureReading,
)
from inventory.selectors import expiring_within_q


class LotFilter(django_filters.FilterSet):
    product = django_filters.NumberFilter(field_name="presentation__product_id")
    product_code = django_filters.CharFilter(field_name="presentation__product__code")
    presentation = django_filters.NumberFilter(field_name="presentation_id")
    status = django_filters.MultipleChoiceFilter(choices=LotStatus.choices)
    location = django_filters.NumberFilter(method="filter_location")
    expiring_within_days = django_filters.NumberFilter(
        method="filter_expiring", min_value=0, max_value=3650
    )
    lot_number = django_filters.CharFilter()

    class Meta:
        model = Lot
        fields = ["product", "presentation", "status", "location", "lot_number"]

    def filter_location(self, queryset, name, value):
        return queryset.filter(levels__location_id=value, levels__on_hand__gt=0).distinct()

    def filter_expiring(self, queryset, name, value):
        return queryset.filter(expiring_within_q(on=timezone.localdate(), days=int(value)))


class MovementFilter(django_filters.FilterSet):
    presentation = django_filters.NumberFilter(field_name="lot__presentation_id")
    kind = django_filters.MultipleChoiceFilter(choices=MovementKind.choices)
    created_after = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    effective_from = DateFilter(field_name="effective_date", lookup_expr="gte")
    effective_to = DateFilter(field_name="effective_date", lookup_expr="lte")

    class Meta:
        model = StockMovement
        fields = ["lot", "location", "kind", "reference", "user"]


class ReadingFilter(django_filters.FilterSet):
    taken_after = IsoDateTimeFilter(field_name="taken_at", lookup_expr="gte")
    taken_before = IsoDateTimeFilter(field_name="taken_at", lookup_expr="lt")

    class Meta:
        model = TemperatureReading
        fields = ["location", "sensor_id"]


class ExcursionFilter(django_filters.FilterSet):
    unresolved = django_filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull")

    class Meta:
        model = Excursion
        fields = ["location"]
