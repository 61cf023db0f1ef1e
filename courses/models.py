from django.db import models
from django.db.models import F, Q

from inventory.models import Product


class Population(models.TextChoices):
    ADULT = "adult", "Adults"
    CHILD = "child", "Children"
    PREGNANCY = "pregnancy", "Pregnancy"


class Route(models.TextChoices):
    IV_DRIP = "iv_drip", "Intravenous drip"
    IV_INFUSION = "iv_infusion", "Intravenous infusion"
    SC = "sc", "Subcutaneous injection"


class Diluent(models.TextChoices):
    GLUCOSE_5 = "glucose_5", "5% glucose"
    NACL_0_9 = "nacl_0_9", "0.9% sodium chloride"
    WATER = "water", "Water for injection"


class DoseBasis(models.TextChoices):
    FIXED = "fixed", "Fixed amount"
    PER_KG = "per_kg", "Per kg body weight"
    AGE_BAND = "age_band", "By age band"


class DoseUnit(models.TextChoices):
    MG = "mg", "mg"
    MG_PER_KG = "mg/kg", "mg/kg"
    UG_PER_KG = "ug/kg", "µg/kg"
    NG_PER_KG = "ng/kg", "ng/kg"


class Protocol(models.Model):
    """One regimen of one leaflet: an indication with its phases, limits and preparation."""

    code = models.SlugField(max_length=60, unique=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="protocols")
    indication = models.CharField(max_length=300)
    population = models.CharField(max_length=12, choices=Population.choices)
    leaflet_file = models.CharField(max_length=100)
    leaflet_section = models.CharField(max_length=200)
    leaflet_quote = models.TextField(help_text="The leaflet's own words for this regimen.")
    reading_note = models.TextField(
        blank=True, help_text="How garbled or ambiguous wording was read, and why."
    )
    route = models.CharField(max_length=12, choices=Route.choices)
    diluent_options = models.JSONField(default=list, blank=True)
    diluent_volume_ml = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    preparation_note = models.TextField(blank=True)
    drip_rate_drops_per_min = models.PositiveSmallIntegerField(null=True, blank=True)
    infusion_minutes_min = models.PositiveSmallIntegerField(null=True, blank=True)
    infusion_minutes_max = models.PositiveSmallIntegerField(null=True, blank=True)
    min_age_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Youngest age allowed, in completed months."
    )
    max_age_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Age (completed months) from which it no longer applies."
    )
    requires_pregnancy = models.BooleanField(default=False)
    pregnancy_trimesters_allowed = models.JSONField(
        default=list, blank=True, help_text="Trimesters in which it may be given; [] = none."
    )
    lactation_allowed = models.BooleanField(default=False)
    min_wbc_10e9_per_l = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Lowest white-cell count (×10⁹/L) for which the indication applies.",
    )
    course_total_min = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    course_total_max = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    course_total_unit = models.CharField(max_length=8, choices=DoseUnit.choices, blank=True)
    anchors = models.JSONField(
        default=list,
        blank=True,
        help_text="Anchor dates the prescriber must give (surgery, radiotherapy, chemotherapy).",
    )
    sort_order = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product__name", "sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(course_total_min__isnull=True)
                | Q(course_total_max__isnull=True)
                | Q(course_total_min__lte=F("course_total_max")),
                name="protocol_course_total_ordered",
            ),
            models.CheckConstraint(
                condition=Q(min_age_months__isnull=True)
                | Q(max_age_months__isnull=True)
                | Q(min_age_months__lt=F("max_age_months")),
                name="protocol_age_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(infusion_minutes_min__isnull=True)
                | Q(infusion_minutes_max__isnull=True)
                | Q(infusion_minutes_min__lte=F("infusion_minutes_max")),
                name="protocol_infusion_time_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name}: {self.indication} ({self.get_route_display()})"


class ProtocolPhase(models.Model):
    """A phase: its dose rule (with the allowed range), allowed patterns and injection count."""

    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="phases")
    order = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=60, blank=True)
    dose_basis = models.CharField(max_length=10, choices=DoseBasis.choices)
    dose_min = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    dose_max = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    dose_unit = models.CharField(max_length=8, choices=DoseUnit.choices)
    age_bands = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"min_months": 6, "max_months": 12, "dose": "50"}, …]; max is exclusive.',
    )
    patterns = models.JSONField(
        help_text='Allowed schedule patterns, e.g. [{"kind": "daily"}, {"kind": "every_n_days", '
        '"n": 2}]; the prescriber picks one.'
    )
    count_min = models.PositiveSmallIntegerField(help_text="Fewest injections in this phase.")
    count_max = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Most injections; empty when set by an anchor period."
    )
    cycles_min = models.PositiveSmallIntegerField(null=True, blank=True)
    cycles_max = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["protocol", "order"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "order"], name="phase_order_unique"),
            models.CheckConstraint(
                condition=Q(dose_min__isnull=True)
                | Q(dose_max__isnull=True)
                | Q(dose_min__lte=F("dose_max")),
                name="phase_dose_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(count_max__isnull=True) | Q(count_min__lte=F("count_max")),
                name="phase_count_range_ordered",
            ),
            models.CheckConstraint(condition=Q(count_min__gte=1), name="phase_count_min_1"),
        ]

    def __str__(self) -> str:
        return f"{self.protocol.code} phase {self.order}"
