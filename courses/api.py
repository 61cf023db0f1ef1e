from django.db.models import Prefetch
from rest_framework import viewsets

from courses.models import Protocol, ProtocolPhase
from courses.serializers import ProtocolSerializer


class ProtocolViewSet(viewsets.ModelViewSet):
    """Regimens from the leaflets, phases nested. Any role reads; pharmacists write."""

    queryset = (
        Protocol.objects.select_related("product")
        .prefetch_related(Prefetch("phases", queryset=ProtocolPhase.objects.order_by("order")))
        .order_by("product__name", "sort_order")
    )
    serializer_class = ProtocolSerializer
    filterset_fields = ["product", "product__code", "population", "route", "code"]
    ordering_fields = ["code", "sort_order"]
