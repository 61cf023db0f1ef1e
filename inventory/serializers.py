import datetime
from decimal import Decimal, InvalidOperation
from functools import partial

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.fields import empty

from config.dates import BoundedApiDateTimeField, datetime_error
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


# --- A gateway's batch of readings, parsed in plain Python -------------------------------------

_SLOW = object()  # "not the usual form": let ReadingSerializer's own field decide
_CENTS = Decimal("0.01")
_MAX_PK = 2**63 - 1  # a BigAutoField; anything larger goes to DRF's field (a 400, never a 500)


def _location_fast(value):
    if type(value) is int and 0 < value <= _MAX_PK:
        return value
    if type(value) is str and value.isascii() and value.isdigit() and 0 < int(value) <= _MAX_PK:
        return int(value)
    return _SLOW


def _sensor_fast(value, max_length: int):
    if type(value) is str:
        text = value.strip()
        if text and len(text) <= max_length and text.isascii():  # NUL: refused by the parser
            return text
    return _SLOW


def _taken_at_fast(value, zone):
    if type(value) is str:
        try:
            parsed = datetime.datetime.fromisoformat(value)  # what DRF's parse_datetime tries first
        except ValueError:
            return _SLOW
        if parsed.tzinfo is not None and datetime_error(parsed) is None:
            return parsed.astimezone(zone)
    return _SLOW


def _celsius_fast(value):
    if type(value) is str:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return _SLOW
        # Within DecimalField(max_digits=5, decimal_places=2) as written: whole digits ≤ 3,
        # decimals ≤ 2 ("5.000" is refused there, so it is left to the field).
        if number.is_finite() and -2 <= number.as_tuple().exponent <= 0 and -1000 < number < 1000:
            return number.quantize(_CENTS)
    return _SLOW


def readings_parse(data) -> list[dict]:
    """One reading or a list of them, as the dicts `readings_ingest` takes; 400 on any bad one.

    ReadingSerializer(many=True) ran a dozen DRF calls and one location query per reading: a
    gateway's batch of 10,000 took 15 s (issue 14). Here each value takes a fast path for its
    usual form (an integer location id, a short ASCII sensor id, an ISO 8601 time with its
    offset, a decimal string) and falls back to ReadingSerializer's own field for anything else,
    so what is accepted, and the wording of every refusal, stay DRF's; the locations are checked
    in one query. Errors name the item's index for a list (`3.temperature_c`), as the service's
    own checks do, and the bare field for one object.
    """
    many = isinstance(data, list)
    items = data if many else [data]
    fields = ReadingSerializer().fields
    location_field, sensor_field = fields["location"], fields["sensor_id"]
    taken_at_field, celsius_field = fields["taken_at"], fields["temperature_c"]
    zone = timezone.get_current_timezone()
    max_length = sensor_field.max_length
    sensor_fast = partial(_sensor_fast, max_length=max_length)
    taken_at_fast = partial(_taken_at_fast, zone=zone)
    candidates = {
        _location_fast(item.get("location")) for item in items if isinstance(item, dict)
    } - {_SLOW}
    known = set(StorageLocation.objects.filter(pk__in=candidates).values_list("pk", flat=True))
    errors, rows = {}, []

    def parsed(item, name, field, fast, prefix):
        value = item.get(name, empty)
        result = fast(value)
        if result is not _SLOW:
            return result
        try:
            return field.run_validation(value)
        except serializers.ValidationError as exc:
            errors[prefix + name] = exc.detail
            return None

    for index, item in enumerate(items):
        prefix = f"{index}." if many else ""
        if not isinstance(item, dict):
            message = serializers.Serializer.default_error_messages["invalid"].format(
                datatype=type(item).__name__
            )
            errors[str(index) if many else "non_field_errors"] = [ErrorDetail(message, "invalid")]
            continue
        location = parsed(item, "location", location_field, _location_fast, prefix)
        if isinstance(location, StorageLocation):
            location = location.pk
        elif location is not None and location not in known:
            errors[prefix + "location"] = [
                ErrorDetail(
                    location_field.error_messages["does_not_exist"].format(
                        pk_value=item["location"]
                    ),
                    "does_not_exist",
                )
            ]
        rows.append(
            {
                "location_id": location,
                "sensor_id": parsed(item, "sensor_id", sensor_field, sensor_fast, prefix),
                "taken_at": parsed(item, "taken_at", taken_at_field, taken_at_fast, prefix),
                "temperature_c": parsed(
                    item, "temperature_c", celsius_field, _celsius_fast, prefix
                ),
            }
        )
    if errors:
        raise serializers.ValidationError(errors)
    return rows


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
