from rest_framework import viewsets

from inventory.models import Presentation, Product, Ward
from inventory.serializers import PresentationSerializer, ProductSerializer, WardSerializer


class ProductViewSet(viewsets.ModelViewSet):
    """Products from the leaflets. Any role reads; pharmacists write."""

    queryset = Product.objects.order_by("name")
    serializer_class = ProductSerializer
    filterset_fields = ["code", "keep_dry"]
    ordering_fields = ["name", "code"]


class PresentationViewSet(viewsets.ModelViewSet):
    """Presentations (strength, container, pack, GTIN). Any role reads; pharmacists write."""

    queryset = Presentation.objects.select_related("product").order_by("product__name", "strength")
    serializer_class = PresentationSerializer
    filterset_fields = ["product", "product__code", "container", "strength_unit", "gtin"]
    ordering_fields = ["strength", "code"]


class WardViewSet(viewsets.ModelViewSet):
    """Wards. Any role reads; pharmacists write."""

    queryset = Ward.objects.order_by("name")
    serializer_class = WardSerializer
    filterset_fields = ["code"]
