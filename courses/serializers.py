from rest_framework import serializers

from courses.models import DoseBasis, Protocol, ProtocolPhase

# Schedule pattern kinds and the integer parameters each requires (see courses/formulary.py).
PATTERN_PARAMS = {
    "daily": (),
    "every_n_days": ("n",),
    "per_week": ("k",),
    "weekly": (),
    "cycles": ("on_days", "rest_days"),
    "dates": (),
    "anchor_offsets": ("offsets",),
}


def validate_patterns(value):
    if not isinstance(value, list) or not value:
        raise serializers.ValidationError("A non-empty list of pattern objects is required.")
    for spec in value:
        if not isinstance(spec, dict) or spec.get("kind") not in PATTERN_PARAMS:
            raise serializers.ValidationError(
                f"Each pattern needs a 'kind' among {sorted(PATTERN_PARAMS)}."
            )
        for param in PATTERN_PARAMS[spec["kind"]]:
            if param not in spec:
                raise serializers.ValidationError(f"Pattern '{spec['kind']}' needs '{param}'.")
    return value


class ProtocolPhaseSerializer(serializers.ModelSerializer):
    patterns = serializers.JSONField(validators=[validate_patterns])

    class Meta:
        model = ProtocolPhase
        fields = [
            "order",
            "name",
            "dose_basis",
            "dose_min",
            "dose_max",
            "dose_unit",
            "age_bands",
            "patterns",
            "count_min",
            "count_max",
            "cycles_min",
            "cycles_max",
        ]
        read_only_fields = ["order"]

    def validate(self, attrs):
        errors = {}
        basis = attrs.get("dose_basis")
        if basis == DoseBasis.AGE_BAND and not attrs.get("age_bands"):
            errors["age_bands"] = "An age-band dose rule needs its bands."
        if basis != DoseBasis.AGE_BAND and (
            attrs.get("dose_min") is None or attrs.get("dose_max") is None
        ):
            errors["dose_min"] = "A fixed or per-kg dose rule needs dose_min and dose_max."
        if basis == DoseBasis.PER_KG and not attrs.get("dose_unit", "").endswith("/kg"):
            errors["dose_unit"] = "A per-kg dose rule needs a per-kg unit."
        if basis in {DoseBasis.FIXED, DoseBasis.AGE_BAND} and attrs.get("dose_unit", "").endswith(
            "/kg"
        ):
            errors["dose_unit"] = "A fixed or age-band dose is an amount, not per kg."
        low, high = attrs.get("dose_min"), attrs.get("dose_max")
        if low is not None and high is not None and low > high:
            errors["dose_max"] = "Must not be below dose_min."
        if attrs.get("count_max") is not None and attrs["count_max"] < attrs.get("count_min", 1):
            errors["count_max"] = "Must not be below count_min."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ProtocolSerializer(serializers.ModelSerializer):
    phases = ProtocolPhaseSerializer(many=True)
    product_code = serializers.SlugRelatedField(source="product", slug_field="code", read_only=True)

    class Meta:
        model = Protocol
        fields = [
            "id",
            "code",
            "product",
            "product_code",
            "indication",
            "population",
            "leaflet_file",
            "leaflet_section",
            "leaflet_quote",
            "reading_note",
            "route",
            "diluent_options",
            "diluent_volume_ml",
            "preparation_note",
            "drip_rate_drops_per_min",
            "infusion_minutes_min",
            "infusion_minutes_max",
            "min_age_months",
            "max_age_months",
            "requires_pregnancy",
            "pregnancy_trimesters_allowed",
            "lactation_allowed",
            "min_wbc_10e9_per_l",
            "course_total_min",
            "course_total_max",
            "course_total_unit",
            "anchors",
            "sort_order",
            "phases",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]

    def validate_phases(self, value):
        if not value:
            raise serializers.ValidationError("A protocol needs at least one phase.")
        return value

    def create(self, validated_data):
        from courses.services import protocol_save

        phases = validated_data.pop("phases")
        return protocol_save(protocol=None, fields=validated_data, phases=phases)

    def update(self, instance, validated_data):
        from courses.services import protocol_save

        phases = validated_data.pop("phases", None)
        return protocol_save(protocol=instance, fields=validated_data, phases=phases)
