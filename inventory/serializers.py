from rest_framework import serializers

from inventory.models import Presentation, Product, Ward


class ProductSerializer(serializers.ModelSerializer):
    storage_range = serializers.CharField(source="storage_range_label", read_only=True)

    class Meta:
        model = Product
        fields = [
            "id",
            "code",
            "name",
            "active_substance",
            "pharmaceutical_form",
            "storage_min_c",
            "storage_max_c",
            "storage_range",
            "keep_dry",
            "shelf_life_months",
            "sodium_mg_per_dose",
            "protein_origin",
            "contraindications",
            "warnings",
            "leaflet_file",
            "leaflet_section",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]

    def validate(self, attrs):
        low = attrs.get("storage_min_c", getattr(self.instance, "storage_min_c", None))
        high = attrs.get("storage_max_c", getattr(self.instance, "storage_max_c", None))
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"storage_min_c": "Must not be above storage_max_c."})
        return attrs


class PresentationSerializer(serializers.ModelSerializer):
    product_code = serializers.SlugRelatedField(source="product", slug_field="code", read_only=True)

    class Meta:
        model = Presentation
        fields = [
            "id",
            "code",
            "product",
            "product_code",
            "strength",
            "strength_unit",
            "container",
            "pack_size",
            "gtin",
            "leaflet_section",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]


class WardSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ward
        fields = ["id", "code", "name", "email", "reminder_lead_minutes", "digest_time"]
