from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

from config.dates import BoundedApiDateTimeField
from courses.findings import finding_text
from courses.models import (
    WEIGHT_MAX_KG,
    WEIGHT_MIN_KG,
    Course,
    CoursePhase,
    Diluent,
    Dose,
    DoseBasis,
    Patient,
    PatientWeight,
    Protocol,
    ProtocolPhase,
)
from courses.preparation import amount_text, display_unit
from courses.schedule import Pattern, ScheduleError
from courses.selectors import SuggestionStock, dose_preparation, presentations_by_id
from courses.services import PATIENT_FIELDS
from courses.services.preparation import preparation_released
from courses.services.prescribing import engine_error_text
from courses.units import Mass
from inventory.models import Product, Ward


def validate_patterns(value):
    """The scheduling engine's own reading of each pattern, so that a protocol can only offer
    what prescribing can plan."""
    if not isinstance(value, list) or not value:
        raise serializers.ValidationError(_("A non-empty list of pattern objects is required."))
    for spec in value:
        try:
            Pattern.from_dict(spec)
        except ScheduleError as error:
            raise serializers.ValidationError(engine_error_text(error)) from None
    return value


def validate_age_bands(value):
    """[{"min_months", "max_months", "dose"}, …]: whole months, max exclusive, in age order."""
    if not isinstance(value, list):
        raise serializers.ValidationError(_("A list of age bands is required."))
    previous_max = 0
    for number, band in enumerate(value, start=1):
        if not isinstance(band, dict) or not {"min_months", "max_months", "dose"} <= set(band):
            raise serializers.ValidationError(
                _("Band %(number)s needs min_months, max_months and dose.") % {"number": number}
            )
        low, high = band["min_months"], band["max_months"]
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in (low, high)):
            raise serializers.ValidationError(
                _("Band %(number)s: months are whole numbers ≥ 0.") % {"number": number}
            )
        if high <= low:
            raise serializers.ValidationError(
                _("Band %(number)s: max_months must exceed min_months.") % {"number": number}
            )
        if low < previous_max:
            raise serializers.ValidationError(
                _("Band %(number)s starts before the previous band ends: bands are in age order.")
                % {"number": number}
            )
        try:
            dose = Decimal(str(band["dose"]))
        except ArithmeticError:
            dose = None
        if dose is None or not dose.is_finite() or dose <= 0:
            raise serializers.ValidationError(
                _("Band %(number)s: dose is a positive number.") % {"number": number}
            )
        previous_max = high
    return value


class ProtocolPhaseSerializer(serializers.ModelSerializer):
    patterns = serializers.JSONField(validators=[validate_patterns])
    age_bands = serializers.JSONField(required=False, validators=[validate_age_bands])
    count_min = serializers.IntegerField(min_value=1, max_value=32767)

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
            errors["age_bands"] = _("An age-band dose rule needs its bands.")
        if basis != DoseBasis.AGE_BAND and (
            attrs.get("dose_min") is None or attrs.get("dose_max") is None
        ):
            errors["dose_min"] = _("A fixed or per-kg dose rule needs dose_min and dose_max.")
        if basis == DoseBasis.PER_KG and not attrs.get("dose_unit", "").endswith("/kg"):
            errors["dose_unit"] = _("A per-kg dose rule needs a per-kg unit.")
        if basis in {DoseBasis.FIXED, DoseBasis.AGE_BAND} and attrs.get("dose_unit", "").endswith(
            "/kg"
        ):
            errors["dose_unit"] = _("A fixed or age-band dose is an amount, not per kg.")
        low, high = attrs.get("dose_min"), attrs.get("dose_max")
        if low is not None and high is not None and low > high:
            errors["dose_max"] = _("Must not be below dose_min.")
        if attrs.get("count_max") is not None and attrs["count_max"] < attrs.get("count_min", 1):
            errors["count_max"] = _("Must not be below count_min.")
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
            "leaflet_notes",
            "sort_order",
            "phases",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]

    def validate_leaflet_notes(self, value):
        if not isinstance(value, list) or not all(
            isinstance(note, dict) and note.get("text") and note.get("leaflet_file")
            for note in value
        ):
            raise serializers.ValidationError(
                _('A list of {"code", "text", "leaflet_file", "section", "line"} objects.')
            )
        return value

    def validate_phases(self, value):
        if not value:
            raise serializers.ValidationError(_("A protocol needs at least one phase."))
        return value

    def create(self, validated_data):
        from courses.services import protocol_save

        phases = validated_data.pop("phases")
        return protocol_save(protocol=None, fields=validated_data, phases=phases)

    def update(self, instance, validated_data):
        from courses.services import protocol_save

        phases = validated_data.pop("phases", None)
        return protocol_save(protocol=instance, fields=validated_data, phases=phases)


# --- Patients, courses, doses -------------------------------------------------------------------


def _weight_field(**kwargs):
    return serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=WEIGHT_MIN_KG, max_value=WEIGHT_MAX_KG, **kwargs
    )


class PatientWeightSerializer(serializers.ModelSerializer):
    weight_kg = _weight_field()
    measured_on = serializers.DateField(required=False)

    class Meta:
        model = PatientWeight
        fields = ["id", "measured_on", "weight_kg", "recorded_at"]
        read_only_fields = ["id", "recorded_at"]


class PatientSerializer(serializers.ModelSerializer):
    ward = serializers.SlugRelatedField(slug_field="code", queryset=Ward.objects.all())
    drug_allergies = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Product.objects.all(),
        many=True,
        required=False,
        help_text="Product codes the patient is hypersensitive to (e.g. betaleukin); "
        "`protein_drug_allergy` records drugs of protein origin as a class.",
    )
    weights = PatientWeightSerializer(many=True, read_only=True)
    weight_kg = _weight_field(required=False, write_only=True)
    measured_on = serializers.DateField(required=False, write_only=True)

    class Meta:
        model = Patient
        fields = [
            "id",
            *PATIENT_FIELDS,
            "weights",
            "weight_kg",
            "measured_on",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]
        validators = []  # uniqueness and constraints are checked by the service (one place)


class PatientBriefSerializer(serializers.ModelSerializer):
    ward = serializers.CharField(source="ward.code")

    class Meta:
        model = Patient
        fields = ["id", "mrn", "name", "ward"]


def _amount(amount, unit) -> str:
    return amount_text(Mass(amount, unit)) if amount is not None else None


def _dose_unit(dose) -> str:
    """The one unit a dose's amount and its waste are both shown in (µg for 1.05 µg and its
    0.1 µg waste, never "1.05 µg … 100 ng waste")."""
    return display_unit(Mass(dose.amount, dose.amount_unit))


# Plain strings in the schema: these choice sets are shared with other models (the mass units of
# inventory presentations, several `status` fields), and one enum name per set keeps
# drf-spectacular's naming unambiguous.
def _choice_text(help_text: str):
    return serializers.CharField(read_only=True, help_text=help_text)


class RowsSerializer(serializers.ModelSerializer):
    """A ModelSerializer for long lists (500 doses a page): `to_representation` as DRF's, with
    the generic per-field lookup planned once per serializer instead of once per row and field.

    A field whose source is one of the model's own columns reads it with `getattr`, what DRF's
    `get_attribute` does for it (a column's value is never a callable or a missing relation);
    a `SerializerMethodField` calls its method on the row. Every other field (relations, nested
    serializers, dotted sources, a field with its own `get_attribute`) goes DRF's way."""

    def _row_plan(self) -> list[tuple]:
        plan = self.__dict__.get("_plan")
        if plan is None:
            columns = {
                f.attname for f in self.Meta.model._meta.concrete_fields if not f.is_relation
            }
            plan = []
            for field in self._readable_fields:
                own_lookup = type(field).get_attribute is serializers.Field.get_attribute
                if (
                    isinstance(field, serializers.SerializerMethodField)
                    and type(field).to_representation
                    is serializers.SerializerMethodField.to_representation
                    and own_lookup
                    and field.source == "*"
                ):
                    plan.append((field.field_name, "method", getattr(self, field.method_name)))
                elif (
                    own_lookup
                    and not isinstance(field, serializers.BaseSerializer | serializers.RelatedField)
                    and len(field.source_attrs) == 1
                    and field.source_attrs[0] in columns
                ):
                    plan.append((field.field_name, "column", field))
                else:
                    plan.append((field.field_name, "field", field))
            self.__dict__["_plan"] = plan
        return plan

    def to_representation(self, instance):
        if not isinstance(instance, self.Meta.model):
            return super().to_representation(instance)
        ret = {}
        for name, kind, target in self._row_plan():
            if kind == "method":
                ret[name] = target(instance)
                continue
            if kind == "column":
                attribute = getattr(instance, target.source_attrs[0])
                ret[name] = None if attribute is None else target.to_representation(attribute)
                continue
            try:
                attribute = target.get_attribute(instance)
            except SkipField:
                continue
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[name] = None if check_for_none is None else target.to_representation(attribute)
        return ret


class DoseSerializer(RowsSerializer):
    status = _choice_text("scheduled, given, held, refused, missed or cancelled")
    amount_unit = _choice_text("mg, ug or ng")
    amount_label = serializers.SerializerMethodField()
    waste_unit = serializers.CharField(
        source="amount_unit", read_only=True, help_text="Unit of waste_amount (= amount_unit)."
    )
    waste_label = serializers.SerializerMethodField()
    preparation = serializers.SerializerMethodField()
    phase = serializers.IntegerField(source="phase.order", read_only=True)
    recorded_by = serializers.StringRelatedField(allow_null=True)  # null until recorded
    prepared_by = serializers.StringRelatedField(allow_null=True)
    checked_by = serializers.StringRelatedField(allow_null=True)
    released = serializers.SerializerMethodField(
        help_text="False while a pharmacist-prepared dose awaits its required second check."
    )

    class Meta:
        model = Dose
        fields = [
            "id",
            "course",
            "phase",
            "sequence",
            "scheduled_at",
            "status",
            "amount",
            "amount_unit",
            "amount_label",
            "weight_kg",
            "vials",
            "waste_amount",
            "waste_unit",
            "waste_label",
            "preparation",
            "given_at",
            "given_amount",
            "given_drip_rate_drops_per_min",
            "given_infusion_minutes",
            "lot_id",
            "lot_number",
            "dispensed",
            "reaction",
            "reason",
            "replaced",
            "recorded_by",
            "recorded_at",
            "prepared_by",
            "prepared_at",
            "checked_by",
            "checked_at",
            "released",
        ]

    def get_released(self, dose) -> bool:
        return preparation_released(dose)

    def get_amount_label(self, dose) -> str:
        return amount_text(Mass(dose.amount, dose.amount_unit), _dose_unit(dose))

    def get_waste_label(self, dose) -> str:
        return amount_text(Mass(dose.waste_amount, dose.amount_unit), _dose_unit(dose))

    def get_preparation(self, dose) -> dict:
        # Presentations and usable stock are read once per response (the context is the
        # root serializer's), so a list of doses costs the same queries as one dose.
        context = self.context
        if "presentations" not in context:
            context["presentations"] = presentations_by_id()
        if "lot_stock" not in context:
            # The stock a page of doses can be suggested from, read once for the whole page.
            context["lot_stock"] = SuggestionStock(on=timezone.localdate())
            root = self.root.instance
            if isinstance(root, list | tuple | QuerySet):
                # A page of doses, or of courses with their doses prefetched.
                doses = []
                for item in root:
                    if isinstance(item, Dose):
                        doses.append(item)
                    elif "doses" in getattr(item, "_prefetched_objects_cache", {}):
                        doses += item.doses.all()
                context["lot_stock"].covering(doses)
        stock = context["lot_stock"].covering([dose])
        return dose_preparation(
            dose,
            presentations=context["presentations"],
            stock=stock,
            memo=context["lot_stock"].preparations,
        )


class DoseListSerializer(DoseSerializer):
    patient = PatientBriefSerializer(source="course.patient", read_only=True)
    product = serializers.CharField(source="course.protocol.product.name", read_only=True)

    class Meta(DoseSerializer.Meta):
        fields = [*DoseSerializer.Meta.fields, "patient", "product"]


class CoursePhaseSerializer(serializers.ModelSerializer):
    amount_unit = _choice_text("mg, ug or ng")
    dose_label = serializers.SerializerMethodField()

    class Meta:
        model = CoursePhase
        fields = [
            "order",
            "pattern",
            "count",
            "cycles",
            "dose_value",
            "dose_unit",
            "dose_amount",
            "prescribed_dose_amount",
            "amount_unit",
            "dose_label",
        ]

    def get_dose_label(self, phase) -> str:
        return _amount(phase.dose_amount, phase.amount_unit)


class FindingSerializer(serializers.Serializer):
    """A label check's finding as stored on its course, its message in the request's language."""

    code = serializers.CharField(read_only=True)
    message = serializers.SerializerMethodField()
    source = serializers.CharField(read_only=True, help_text="The leaflet and section it cites.")

    def get_message(self, finding: dict) -> str:
        return finding_text(finding)


class CourseSerializer(serializers.ModelSerializer):
    patient = PatientBriefSerializer(read_only=True)
    protocol = serializers.CharField(source="protocol.code", read_only=True)
    product = serializers.CharField(source="protocol.product.name", read_only=True)
    phases = CoursePhaseSerializer(many=True, read_only=True)
    doses = DoseSerializer(many=True, read_only=True)
    prescribed_by = serializers.StringRelatedField(allow_null=True)
    overridden_by = serializers.StringRelatedField(allow_null=True)  # null unless overridden
    status = _choice_text("active, on_hold, completed or cancelled")
    hard_stops = FindingSerializer(
        many=True, read_only=True, help_text="Label hard stops overridden by the prescriber."
    )
    warnings = FindingSerializer(many=True, read_only=True)
    leaflet_notes = serializers.JSONField(
        source="protocol.leaflet_notes",
        read_only=True,
        help_text="The protocol's leaflet information (co-therapy, driving, List B).",
    )

    class Meta:
        model = Course
        fields = [
            "id",
            "patient",
            "protocol",
            "product",
            "status",
            "start_date",
            "anchors",
            "administration_time",
            "time_zone",
            "diluent",
            "drip_rate_drops_per_min",
            "infusion_minutes",
            "weight_kg",
            "weight_measured_on",
            "age_months",
            "hard_stops",
            "override_reason",
            "overridden_by",
            "warnings",
            "leaflet_notes",
            "prescribed_by",
            "prescribed_at",
            "held_since",
            "status_reason",
            "notes",
            "phases",
            "doses",
        ]


class PhaseChoiceSerializer(serializers.Serializer):
    pattern = serializers.JSONField(required=False)
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), required=False
    )
    count = serializers.IntegerField(min_value=1, max_value=500, required=False)
    cycles = serializers.IntegerField(min_value=1, max_value=50, required=False)
    dose = serializers.DecimalField(
        max_digits=10, decimal_places=3, min_value=Decimal("0.001"), required=False
    )

    def validate_pattern(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError(_('A pattern object, e.g. {"kind": "daily"}.'))
        return value


class CourseCreateSerializer(serializers.Serializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    protocol = serializers.SlugRelatedField(slug_field="code", queryset=Protocol.objects.all())
    start_date = serializers.DateField(required=False)
    phases = PhaseChoiceSerializer(many=True, required=False)
    anchors = serializers.DictField(required=False)
    administration_time = serializers.TimeField(required=False)
    diluent = serializers.ChoiceField(choices=Diluent.choices, required=False)
    drip_rate_drops_per_min = serializers.IntegerField(min_value=1, max_value=200, required=False)
    infusion_minutes = serializers.IntegerField(min_value=1, max_value=1440, required=False)
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class DoseAdministerSerializer(serializers.Serializer):
    given_at = BoundedApiDateTimeField(required=False)
    amount = serializers.DecimalField(
        max_digits=16, decimal_places=6, min_value=Decimal("0.000001"), required=False
    )
    drip_rate_drops_per_min = serializers.IntegerField(min_value=1, max_value=200, required=False)
    infusion_minutes = serializers.IntegerField(min_value=1, max_value=1440, required=False)
    lot_id = serializers.IntegerField(min_value=1, required=False)
    lot_number = serializers.CharField(required=False, allow_blank=True, max_length=40)
    reaction = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    later_dose_percent = serializers.IntegerField(min_value=1, max_value=99, required=False)
    later_drip_rate_drops_per_min = serializers.IntegerField(min_value=1, required=False)


class DoseNotGivenSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    replace = serializers.BooleanField(
        required=True,
        help_text="Required: true re-adds a dose at the end, false drops it (never decided "
        "silently).",
    )


class CourseStatusSerializer(serializers.Serializer):
    on = serializers.DateField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
