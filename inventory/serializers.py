import datetime

from django.utils.translation import gettext as _
from rest_framework import serializers

from config.dates import BoundedApiDateTimeField
from inventory.models import (
    Excursion,
    ExcursionResolution,
    Lot,
    Presentation,
    Product,
    StockMovement,
    StorageLocation,
    TemperatureReading,
    Ward,
)

# Bounds that keep bad input a 400 instead of a database overflow (a pack is a few dozen vials).
MAX_VIALS = 100_000


def plausible_date(value: datetime.date) -> datetime.date:
    if not 2000 <= value.year <= 2200:
        raise serializers.ValidationError(_("Date out of the plausible range (years 2000–2200)."))
    return value


class ProductSerializer(serializers.ModelSerializer):
    storage_range = serializers.CharField(source="storage_range_plain", read_only=True)

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
            raise serializers.ValidationError(
                {"storage_min_c": _("Must not be above storage_max_c.")}
            )
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


# --- Stock -----------------------------------------------------------------------------------------
class StorageLocationSerializer(serializers.ModelSerializer):
    ward_code = serializers.SlugRelatedField(
        source="ward", slug_field="code", read_only=True, allow_null=True
    )  # null for the pharmacy's own fridges
    range = serializers.CharField(source="range_plain", read_only=True)

    class Meta:
        model = StorageLocation
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "ward",
            "ward_code",
            "min_c",
            "max_c",
            "range",
            "active",
        ]

    def validate(self, attrs):
        low = attrs.get("min_c", getattr(self.instance, "min_c", None))
        high = attrs.get("max_c", getattr(self.instance, "max_c", None))
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"min_c": _("Must not be above max_c.")})
        return attrs


class LotSerializer(serializers.ModelSerializer):
    presentation_code = serializers.CharField(source="presentation.code", read_only=True)
    product = serializers.IntegerField(source="presentation.product_id", read_only=True)
    on_hand = serializers.IntegerField(read_only=True)
    reserved = serializers.IntegerField(read_only=True)

    class Meta:
        model = Lot
        fields = [
            "id",
            "presentation",
            "presentation_code",
            "product",
            "lot_number",
            "expiry_date",
            "manufacture_date",
            "gtin",
            "status",
            "status_reason",
            "on_hand",
            "reserved",
            "created_at",
        ]
        read_only_fields = fields


class MovementSerializer(serializers.ModelSerializer):
    lot_number = serializers.CharField(source="lot.lot_number", read_only=True)
    presentation = serializers.IntegerField(source="lot.presentation_id", read_only=True)
    location_code = serializers.CharField(source="location.code", read_only=True, default="")
    other_location_code = serializers.CharField(
        source="other_location.code", read_only=True, default=""
    )
    username = serializers.CharField(source="user.username", read_only=True, default="")

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "kind",
            "lot",
            "lot_number",
            "presentation",
            "location",
            "location_code",
            "other_location",
            "other_location_code",
            "quantity",
            "on_hand_delta",
            "reserved_delta",
            "effective_date",
            "reference",
            "recipient",
            "reason",
            "user",
            "username",
            "created_at",
        ]
        read_only_fields = fields


MovementSerializer.Meta.schema_optional_fields = ["recipient"]  # nurses never receive it


class MovementWithoutRecipientSerializer(MovementSerializer):
    class Meta(MovementSerializer.Meta):
        fields = [name for name in MovementSerializer.Meta.fields if name != "recipient"]
        read_only_fields = fields


class ReadingSerializer(serializers.ModelSerializer):
    location = serializers.PrimaryKeyRelatedField(queryset=StorageLocation.objects.all())
    taken_at = BoundedApiDateTimeField()
    temperature_c = serializers.DecimalField(max_digits=5, decimal_places=2)

    class Meta:
        model = TemperatureReading
        fields = ["id", "location", "sensor_id", "taken_at", "temperature_c", "received_at"]
        read_only_fields = ["id", "received_at"]
        validators = []  # duplicates are skipped by the service, not refused


class ExcursionSerializer(serializers.ModelSerializer):
    location_code = serializers.CharField(source="location.code", read_only=True)
    status = serializers.CharField(read_only=True)
    minutes_out_of_range = serializers.IntegerField(read_only=True)
    lots = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    resolution = serializers.ChoiceField(
        choices=ExcursionResolution.choices,
        read_only=True,
        allow_blank=True,
        help_text="Empty until a pharmacist resolves the excursion.",
    )

    class Meta:
        model = Excursion
        fields = [
            "id",
            "location",
            "location_code",
            "status",
            "started_at",
            "ended_at",
            "last_reading_at",
            "limit_min_c",
            "limit_max_c",
            "min_c",
            "max_c",
            "minutes_out_of_range",
            "lots",
            "resolution",
            "resolution_reason",
            "resolved_at",
            "resolved_by",
        ]
        read_only_fields = fields


# Input shapes of the stock actions: types and presence only; the services decide the rest.


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class LotDestroySerializer(ReasonSerializer):
    location_id = serializers.IntegerField(required=False)


class ExcursionResolveSerializer(ReasonSerializer):
    resolution = serializers.ChoiceField(choices=ExcursionResolution.choices)


class ReceiveSerializer(serializers.Serializer):
    gs1 = serializers.CharField(required=False, allow_blank=True, max_length=200)
    presentation_id = serializers.IntegerField(required=False)
    gtin = serializers.CharField(required=False, allow_blank=True, max_length=14)
    lot_number = serializers.CharField(required=False, allow_blank=True, max_length=20)
    expiry_date = serializers.DateField(required=False, validators=[plausible_date])
    manufacture_date = serializers.DateField(required=False, validators=[plausible_date])
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_VIALS)
    location_id = serializers.IntegerField()
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class DispenseSerializer(serializers.Serializer):
    presentation_id = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_VIALS)
    location_id = serializers.IntegerField(required=False)
    lot_id = serializers.IntegerField(required=False)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100)
    recipient = serializers.CharField(required=False, allow_blank=True, max_length=200)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class ReserveSerializer(serializers.Serializer):
    presentation_id = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_VIALS)
    on = serializers.DateField(validators=[plausible_date])
    reference = serializers.CharField(max_length=100)
    location_id = serializers.IntegerField(required=False)


class ReservationReleaseSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=100)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class TransferSerializer(serializers.Serializer):
    lot_id = serializers.IntegerField()
    from_location_id = serializers.IntegerField()
    to_location_id = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_VIALS)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class ReturnSerializer(serializers.Serializer):
    lot_id = serializers.IntegerField()
    location_id = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_VIALS)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class WasteSerializer(ReturnSerializer):
    reason = serializers.CharField(max_length=500)


class AdjustSerializer(serializers.Serializer):
    lot_id = serializers.IntegerField()
    location_id = serializers.IntegerField()
    quantity_delta = serializers.IntegerField(min_value=-MAX_VIALS, max_value=MAX_VIALS)
    reason = serializers.CharField(max_length=500)


class ForecastQuerySerializer(serializers.Serializer):
    start = serializers.DateField(required=False, validators=[plausible_date])
    days = serializers.IntegerField(min_value=1, max_value=366, default=28)


class StockQuerySerializer(serializers.Serializer):
    on = serializers.DateField(required=False, validators=[plausible_date])
    presentation = serializers.IntegerField(required=False)
    location = serializers.IntegerField(required=False)


# Shapes of answers that are not model rows (documentation: the selectors build the dicts).


class StockLevelSerializer(serializers.Serializer):
    presentation = serializers.IntegerField()
    presentation_code = serializers.CharField()
    location = serializers.IntegerField()
    location_code = serializers.CharField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    usable = serializers.IntegerField(help_text="Unreserved vials usable on the day asked for.")


class ForecastDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    needed = serializers.IntegerField()
    usable = serializers.IntegerField()
    short = serializers.IntegerField()


class ForecastShortageSerializer(serializers.Serializer):
    date = serializers.DateField()
    needed = serializers.IntegerField()
    short = serializers.IntegerField()


class ForecastExpiringSerializer(serializers.Serializer):
    lot = serializers.IntegerField()
    lot_number = serializers.CharField()
    expiry_date = serializers.DateField()
    unused = serializers.IntegerField()


class ForecastPresentationSerializer(serializers.Serializer):
    presentation = serializers.IntegerField()
    presentation_code = serializers.CharField()
    needed = serializers.IntegerField()
    usable_at_start = serializers.IntegerField()
    days = ForecastDaySerializer(many=True, help_text="Days with demand or a shortage.")
    shortages = ForecastShortageSerializer(many=True)
    expiring_unused = ForecastExpiringSerializer(many=True)


class ForecastSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    presentations = ForecastPresentationSerializer(many=True)


class LotRecipientSerializer(serializers.Serializer):
    movement = serializers.IntegerField()
    reference = serializers.CharField()
    recipient = serializers.CharField()
    quantity = serializers.IntegerField()
    returned = serializers.IntegerField()
    dispensed_on = serializers.DateField()
    dispensed_at = serializers.DateTimeField()
    location_code = serializers.CharField()


class ReadingsIngestedSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField(help_text="Readings already stored, skipped.")
    excursions = ExcursionSerializer(many=True, help_text="Excursions opened or updated.")


class ReservationReleasedSerializer(serializers.Serializer):
    released = serializers.IntegerField(help_text="Vials no longer held.")
