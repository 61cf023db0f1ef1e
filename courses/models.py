from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from courses.schedule import local_date
from history.tracking import track
from inventory.models import MassUnit, Product, Ward


def not_in_future(value) -> None:
    """A birth or a weighing has happened: its date is today or earlier, in the hospital's zone.

    A field validator, so model forms (the admin), `full_clean` in the services and the API's
    model serializers all apply it; PostgreSQL also refuses a date more than a day ahead (a CHECK
    cannot know the hospital's zone, so it allows the one day by which any zone leads UTC).
    """
    if value is not None and value > timezone.localdate():
        raise ValidationError(gettext("Cannot be in the future."), code="future")


class Population(models.TextChoices):
    ADULT = "adult", _("Adults")
    CHILD = "child", _("Children")
    PREGNANCY = "pregnancy", _("Pregnancy")


class Route(models.TextChoices):
    IV_DRIP = "iv_drip", _("Intravenous drip")
    IV_INFUSION = "iv_infusion", _("Intravenous infusion")
    SC = "sc", _("Subcutaneous injection")


class Diluent(models.TextChoices):
    # "% g" and "% s" read like format directives to xgettext; these labels are never formatted.
    # xgettext:no-python-format
    GLUCOSE_5 = "glucose_5", _("5% glucose")
    # xgettext:no-python-format
    NACL_0_9 = "nacl_0_9", _("0.9% sodium chloride")
    WATER = "water", _("Water for injection")


class DoseBasis(models.TextChoices):
    FIXED = "fixed", _("Fixed amount")
    PER_KG = "per_kg", _("Per kg body weight")
    AGE_BAND = "age_band", _("By age band")


class DoseUnit(models.TextChoices):
    MG = "mg", _("mg")
    MG_PER_KG = "mg/kg", _("mg/kg")
    UG_PER_KG = "ug/kg", _("µg/kg")
    NG_PER_KG = "ng/kg", _("ng/kg")


@track()
class Protocol(models.Model):
    """One regimen of one leaflet: an indication with its phases, limits and preparation."""

    code = models.SlugField(max_length=60, unique=True, verbose_name=_("code"))
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="protocols", verbose_name=_("product")
    )
    indication = models.CharField(max_length=300, verbose_name=_("indication"))
    population = models.CharField(
        max_length=12, choices=Population.choices, verbose_name=_("population")
    )
    leaflet_file = models.CharField(max_length=100, verbose_name=_("leaflet file"))
    leaflet_section = models.CharField(max_length=200, verbose_name=_("leaflet section"))
    leaflet_quote = models.TextField(
        help_text=_("The leaflet's own words for this regimen."), verbose_name=_("leaflet quote")
    )
    reading_note = models.TextField(
        blank=True,
        help_text=_("How garbled or ambiguous wording was read, and why."),
        verbose_name=_("reading note"),
    )
    route = models.CharField(max_length=12, choices=Route.choices, verbose_name=_("route"))
    diluent_options = models.JSONField(default=list, blank=True, verbose_name=_("diluent options"))
    diluent_volume_ml = models.DecimalField(
        max_digits=7, decimal_places=1, null=True, blank=True, verbose_name=_("diluent volume (ml)")
    )
    preparation_note = models.TextField(blank=True, verbose_name=_("preparation note"))
    drip_rate_drops_per_min = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("drip rate (drops/min)")
    )
    infusion_minutes_min = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("shortest infusion (minutes)")
    )
    infusion_minutes_max = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("longest infusion (minutes)")
    )
    min_age_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("Youngest age allowed, in completed months."),
        verbose_name=_("minimum age (months)"),
    )
    max_age_months = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("Age (completed months) from which it no longer applies."),
        verbose_name=_("maximum age (months)"),
    )
    requires_pregnancy = models.BooleanField(default=False, verbose_name=_("requires pregnancy"))
    pregnancy_trimesters_allowed = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Trimesters in which it may be given; [] = none."),
        verbose_name=_("pregnancy trimesters allowed"),
    )
    lactation_allowed = models.BooleanField(default=False, verbose_name=_("lactation allowed"))
    min_wbc_10e9_per_l = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Lowest white-cell count (×10⁹/L) for which the indication applies."),
        verbose_name=_("minimum WBC (×10⁹/L)"),
    )
    course_total_min = models.DecimalField(
        max_digits=10,
        decimal_places=3,
        null=True,
        blank=True,
        verbose_name=_("lowest course total"),
    )
    course_total_max = models.DecimalField(
        max_digits=10,
        decimal_places=3,
        null=True,
        blank=True,
        verbose_name=_("highest course total"),
    )
    course_total_unit = models.CharField(
        max_length=8, choices=DoseUnit.choices, blank=True, verbose_name=_("course total unit")
    )
    anchors = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Anchor dates the prescriber must give (surgery, radiotherapy, chemotherapy)."),
        verbose_name=_("anchors"),
    )
    leaflet_notes = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            'Leaflet information shown with the protocol and its courses: [{"code", "text", '
            '"leaflet_file", "section", "line"}, …] (co-therapy, driving, List B).'
        ),
        verbose_name=_("leaflet notes"),
    )
    sort_order = models.PositiveSmallIntegerField(default=0, verbose_name=_("sort order"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("protocol")
        verbose_name_plural = _("protocols")
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


@track()
class ProtocolPhase(models.Model):
    """A phase: its dose rule (with the allowed range), allowed patterns and injection count."""

    protocol = models.ForeignKey(
        Protocol, on_delete=models.CASCADE, related_name="phases", verbose_name=_("protocol")
    )
    order = models.PositiveSmallIntegerField(verbose_name=_("order"))
    name = models.CharField(max_length=60, blank=True, verbose_name=_("name"))
    dose_basis = models.CharField(
        max_length=10, choices=DoseBasis.choices, verbose_name=_("dose basis")
    )
    dose_min = models.DecimalField(
        max_digits=10, decimal_places=3, null=True, blank=True, verbose_name=_("lowest dose")
    )
    dose_max = models.DecimalField(
        max_digits=10, decimal_places=3, null=True, blank=True, verbose_name=_("highest dose")
    )
    dose_unit = models.CharField(
        max_length=8, choices=DoseUnit.choices, verbose_name=_("dose unit")
    )
    age_bands = models.JSONField(
        default=list,
        blank=True,
        help_text=_('[{"min_months": 6, "max_months": 12, "dose": "50"}, …]; max is exclusive.'),
        verbose_name=_("age bands"),
    )
    patterns = models.JSONField(
        help_text=_(
            'Allowed schedule patterns, e.g. [{"kind": "daily"}, {"kind": "every_n_days", '
            '"n": 2}]; the prescriber picks one.'
        ),
        verbose_name=_("patterns"),
    )
    count_min = models.PositiveSmallIntegerField(
        help_text=_("Fewest injections in this phase."), verbose_name=_("fewest injections")
    )
    count_max = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("Most injections; empty when set by an anchor period."),
        verbose_name=_("most injections"),
    )
    cycles_min = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("fewest cycles")
    )
    cycles_max = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("most cycles")
    )

    class Meta:
        verbose_name = _("protocol phase")
        verbose_name_plural = _("protocol phases")
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
            # The dose rule's basis decides what the phase needs: planning reads dose_min/max
            # for fixed and per-kg doses and the bands for age-band doses, in these units.
            models.CheckConstraint(
                condition=Q(dose_basis=DoseBasis.AGE_BAND)
                | Q(dose_min__isnull=False, dose_max__isnull=False),
                name="phase_dose_bounds_for_basis",
                violation_error_message=_(
                    "A fixed or per-kg dose rule needs dose_min and dose_max."
                ),
            ),
            models.CheckConstraint(
                condition=Q(
                    dose_basis=DoseBasis.PER_KG,
                    dose_unit__in=[DoseUnit.MG_PER_KG, DoseUnit.UG_PER_KG, DoseUnit.NG_PER_KG],
                )
                | Q(dose_basis__in=[DoseBasis.FIXED, DoseBasis.AGE_BAND], dose_unit=DoseUnit.MG),
                name="phase_dose_unit_for_basis",
                violation_error_message=_(
                    "A per-kg dose rule needs a per-kg unit; a fixed or age-band dose is in mg."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(dose_basis=DoseBasis.AGE_BAND) | ~Q(age_bands=[]),
                name="phase_age_band_has_bands",
                violation_error_message=_("An age-band dose rule needs its bands."),
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(protocol)s phase %(order)s") % {
            "protocol": self.protocol.code,
            "order": self.order,
        }


# --- Patients -------------------------------------------------------------------------------

# Bounds for a recorded body weight: anything outside is a typing error, not a patient.
WEIGHT_MIN_KG = Decimal("0.5")
WEIGHT_MAX_KG = Decimal("400")


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


@track()
class Patient(models.Model):
    """A patient as far as the labels' checks and the ward's work need them."""

    mrn = models.CharField(_("MRN"), max_length=32, unique=True)
    name = models.CharField(max_length=200, verbose_name=_("name"))
    birth_date = models.DateField(validators=[not_in_future], verbose_name=_("birth date"))
    sex = models.CharField(
        max_length=8, choices=Sex.choices, default=Sex.UNKNOWN, verbose_name=_("sex")
    )
    ward = models.ForeignKey(
        Ward, on_delete=models.PROTECT, related_name="patients", verbose_name=_("ward")
    )
    pregnant = models.BooleanField(default=False, verbose_name=_("pregnant"))
    pregnancy_trimester = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("1, 2 or 3 while pregnant."),
        verbose_name=_("pregnancy trimester"),
    )
    lactating = models.BooleanField(default=False, verbose_name=_("lactating"))
    protein_drug_allergy = models.BooleanField(
        default=False,
        help_text=_("Hypersensitivity to drugs of protein origin."),
        verbose_name=_("protein drug allergy"),
    )
    septic_shock = models.BooleanField(default=False, verbose_name=_("septic shock"))
    severe_fever = models.BooleanField(default=False, verbose_name=_("severe fever"))
    high_dose_corticosteroids = models.BooleanField(
        default=False, verbose_name=_("high dose corticosteroids")
    )
    sodium_controlled_diet = models.BooleanField(
        default=False, verbose_name=_("sodium controlled diet")
    )
    drug_allergies = models.ManyToManyField(
        Product,
        blank=True,
        related_name="+",
        help_text=_(
            "Products the patient is hypersensitive to; each leaflet says which matter "
            "(Betaleukin: the drug itself; the ceruloplasmins: any drug of protein origin)."
        ),
        verbose_name=_("drug allergies"),
    )
    wbc_10e9_per_l = models.DecimalField(
        _("WBC (×10⁹/L)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    wbc_measured_on = models.DateField(
        _("WBC taken on"),
        null=True,
        blank=True,
        help_text=_("Date of the white-cell count; an undated or old count counts as unknown."),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("patient")
        verbose_name_plural = _("patients")
        ordering = ["name", "mrn"]
        constraints = [
            models.CheckConstraint(
                condition=Q(pregnant=False, pregnancy_trimester__isnull=True)
                # IS NOT NULL: a CHECK lets NULL through, and a pregnancy needs its trimester.
                | Q(
                    pregnant=True,
                    pregnancy_trimester__isnull=False,
                    pregnancy_trimester__in=[1, 2, 3],
                ),
                name="patient_pregnancy_has_trimester",
            ),
            models.CheckConstraint(
                condition=Q(wbc_10e9_per_l__isnull=True) | Q(wbc_10e9_per_l__gte=0),
                name="patient_wbc_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(name)s (MRN %(mrn)s)") % {"name": self.name, "mrn": self.mrn}

    def clean(self):
        # A count without its date cannot be judged fresh (WBC_VALID_DAYS); one home for the
        # rule, reached by the services' full_clean and the admin's form alike.
        if self.wbc_10e9_per_l is not None and self.wbc_measured_on is None:
            raise ValidationError(
                {"wbc_measured_on": gettext("Give the date the count was taken.")}
            )
        if self.wbc_measured_on is not None and self.wbc_measured_on > timezone.localdate():
            raise ValidationError(
                {"wbc_measured_on": gettext("A count cannot be taken in the future.")}
            )


@track()
class PatientWeight(models.Model):
    """A dated body weight; per-kg doses use the latest one on or before the course start."""

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="weights", verbose_name=_("patient")
    )
    measured_on = models.DateField(validators=[not_in_future], verbose_name=_("measured on"))
    weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(WEIGHT_MIN_KG), MaxValueValidator(WEIGHT_MAX_KG)],
        verbose_name=_("weight (kg)"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("recorded at"))

    class Meta:
        verbose_name = _("patient weight")
        verbose_name_plural = _("patient weights")
        ordering = ["patient", "-measured_on"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "measured_on"], name="weight_once_a_day"),
            models.CheckConstraint(
                condition=Q(weight_kg__gte=WEIGHT_MIN_KG, weight_kg__lte=WEIGHT_MAX_KG),
                name="weight_in_human_range",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(weight)s kg on %(day)s") % {
            "weight": self.weight_kg,
            "day": self.measured_on,
        }


# --- Courses ----------------------------------------------------------------------------------


class CourseStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ON_HOLD = "on_hold", _("On hold")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


@track()
class Course(models.Model):
    """A prescribed course: a protocol for a patient, with its checks and every planned dose."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="courses", verbose_name=_("patient")
    )
    protocol = models.ForeignKey(
        Protocol, on_delete=models.PROTECT, related_name="courses", verbose_name=_("protocol")
    )
    status = models.CharField(
        max_length=10,
        choices=CourseStatus.choices,
        default=CourseStatus.ACTIVE,
        verbose_name=_("status"),
    )
    start_date = models.DateField(verbose_name=_("start date"))
    anchors = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("Anchor dates as ISO strings (lists for date sets)."),
        verbose_name=_("anchors"),
    )
    administration_time = models.TimeField(
        help_text=_("Wall-clock time of each dose."), verbose_name=_("administration time")
    )
    time_zone = models.CharField(
        max_length=64,
        help_text=_("The hospital's zone at prescribing."),
        verbose_name=_("time zone"),
    )
    diluent = models.CharField(
        max_length=12, choices=Diluent.choices, blank=True, verbose_name=_("diluent")
    )
    drip_rate_drops_per_min = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("drip rate (drops/min)")
    )
    infusion_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("infusion time (minutes)")
    )
    weight_kg = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Weight dosed on."),
        verbose_name=_("weight (kg)"),
    )
    weight_measured_on = models.DateField(
        null=True, blank=True, verbose_name=_("weight measured on")
    )
    age_months = models.PositiveSmallIntegerField(
        help_text=_("Completed months at the start."), verbose_name=_("age (months)")
    )
    hard_stops = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Label hard stops overridden by the prescriber."),
        verbose_name=_("hard stops"),
    )
    override_reason = models.TextField(blank=True, verbose_name=_("override reason"))
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("overridden by"),
    )
    warnings = models.JSONField(default=list, blank=True, verbose_name=_("warnings"))
    prescribed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="courses_prescribed",
        verbose_name=_("prescribed by"),
    )
    prescribed_at = models.DateTimeField(auto_now_add=True, verbose_name=_("prescribed at"))
    held_since = models.DateField(null=True, blank=True, verbose_name=_("held since"))
    status_reason = models.TextField(
        blank=True, help_text=_("Why it was held, cancelled …"), verbose_name=_("status reason")
    )
    notes = models.TextField(blank=True, verbose_name=_("notes"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hard_stops=[]) | ~Q(override_reason=""),
                name="course_override_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="on_hold") | Q(held_since__isnull=False),
                name="course_hold_has_date",
            ),
        ]
        indexes = [models.Index(fields=["status", "start_date"])]

    def __str__(self) -> str:
        return gettext("Course %(number)s: %(protocol)s for %(mrn)s") % {
            "number": self.pk,
            "protocol": self.protocol.code,
            "mrn": self.patient.mrn,
        }


@track()
class CoursePhase(models.Model):
    """One phase as prescribed: the chosen pattern, count and dose within the protocol's range."""

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="phases", verbose_name=_("course")
    )
    protocol_phase = models.ForeignKey(
        ProtocolPhase, on_delete=models.PROTECT, related_name="+", verbose_name=_("protocol phase")
    )
    order = models.PositiveSmallIntegerField(verbose_name=_("order"))
    pattern = models.JSONField(
        help_text=_("The chosen pattern (weekdays fixed at prescribing)."),
        verbose_name=_("pattern"),
    )
    count = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_("Prescribed doses; empty when anchors decide."),
        verbose_name=_("count"),
    )
    cycles = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("cycles"))
    dose_value = models.DecimalField(
        max_digits=10,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("As prescribed."),
        verbose_name=_("dose value"),
    )
    dose_unit = models.CharField(
        max_length=8, choices=DoseUnit.choices, verbose_name=_("dose unit")
    )
    dose_amount = models.DecimalField(
        max_digits=16,
        decimal_places=6,
        help_text=_("Amount of one dose, in amount_unit."),
        verbose_name=_("dose amount"),
    )
    prescribed_dose_amount = models.DecimalField(
        max_digits=16, decimal_places=6, verbose_name=_("prescribed dose amount")
    )
    amount_unit = models.CharField(
        max_length=4, choices=MassUnit.choices, verbose_name=_("amount unit")
    )

    class Meta:
        verbose_name = _("course phase")
        verbose_name_plural = _("course phases")
        ordering = ["course", "order"]
        constraints = [
            models.UniqueConstraint(fields=["course", "order"], name="course_phase_order_unique"),
            models.CheckConstraint(condition=Q(dose_amount__gt=0), name="phase_dose_positive"),
        ]

    def __str__(self) -> str:
        return gettext("%(course)s phase %(order)s") % {"course": self.course, "order": self.order}


class DoseStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    GIVEN = "given", _("Given")
    HELD = "held", _("Held")
    REFUSED = "refused", _("Refused")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")


RECORDED_STATUSES = (DoseStatus.GIVEN, DoseStatus.HELD, DoseStatus.REFUSED, DoseStatus.MISSED)
NOT_GIVEN_STATUSES = (DoseStatus.HELD, DoseStatus.REFUSED, DoseStatus.MISSED)


@track()
class Dose(models.Model):
    """One planned dose and, once recorded, what really happened. Recorded rows never change."""

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="doses", verbose_name=_("course")
    )
    phase = models.ForeignKey(
        CoursePhase, on_delete=models.CASCADE, related_name="doses", verbose_name=_("phase")
    )
    sequence = models.PositiveSmallIntegerField(
        help_text=_("Dose number within the course."), verbose_name=_("sequence")
    )
    scheduled_at = models.DateTimeField(verbose_name=_("scheduled at"))
    status = models.CharField(
        max_length=10,
        choices=DoseStatus.choices,
        default=DoseStatus.SCHEDULED,
        verbose_name=_("status"),
    )
    amount = models.DecimalField(max_digits=16, decimal_places=6, verbose_name=_("amount"))
    amount_unit = models.CharField(
        max_length=4, choices=MassUnit.choices, verbose_name=_("amount unit")
    )
    weight_kg = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, verbose_name=_("weight (kg)")
    )
    vials = models.JSONField(
        default=list,
        help_text=_("Containers drawn: presentation and count."),
        verbose_name=_("vials"),
    )
    waste_amount = models.DecimalField(
        max_digits=16, decimal_places=6, default=0, verbose_name=_("waste amount")
    )
    drip_rate_drops_per_min = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("drip rate (drops/min)")
    )
    infusion_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("infusion time (minutes)")
    )
    # What happened (filled once, by dose_record / dose_administer).
    given_at = models.DateTimeField(null=True, blank=True, verbose_name=_("given at"))
    given_amount = models.DecimalField(
        max_digits=16, decimal_places=6, null=True, blank=True, verbose_name=_("given amount")
    )
    given_drip_rate_drops_per_min = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("given drip rate (drops/min)")
    )
    given_infusion_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("given infusion time (minutes)")
    )
    lot_id = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text=_("inventory lot id (plain id: the lot app may differ)."),
        verbose_name=_("lot ID"),
    )
    lot_number = models.CharField(max_length=40, blank=True, verbose_name=_("lot number"))
    dispensed = models.BooleanField(
        default=False,
        help_text=_("Stock was taken out of inventory for this dose."),
        verbose_name=_("dispensed"),
    )
    reaction = models.TextField(blank=True, verbose_name=_("reaction"))
    reason = models.TextField(
        blank=True,
        help_text=_("Why held/refused/missed, or given off time."),
        verbose_name=_("reason"),
    )
    replaced = models.BooleanField(
        default=False,
        help_text=_("Not given, and a dose was re-added at the end in its place."),
        verbose_name=_("replaced"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("recorded at"))
    # Calendar clients keep a copy of each dose: SEQUENCE (revision) and LAST-MODIFIED tell them
    # it changed. Services bump both on every write (bulk updates bypass auto_now).
    revision = models.PositiveIntegerField(
        default=0, help_text=_("Changes since planning."), verbose_name=_("revision")
    )
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))
    # Preparation and its second check (the printed label's "prepared by / checked by").
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("prepared by"),
    )
    prepared_at = models.DateTimeField(null=True, blank=True, verbose_name=_("prepared at"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked by"),
    )
    checked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("checked at"))

    class Meta:
        verbose_name = _("dose")
        verbose_name_plural = _("doses")
        ordering = ["scheduled_at", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["course", "sequence"], name="dose_sequence_unique"),
            models.CheckConstraint(
                condition=~Q(status="given")
                | Q(given_at__isnull=False, given_amount__isnull=False),
                name="dose_given_has_time_and_amount",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "cancelled"]) | Q(recorded_at__isnull=False),
                name="dose_recorded_has_time",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="dose_amount_positive"),
            models.CheckConstraint(
                condition=Q(checked_by__isnull=True)
                | (Q(prepared_by__isnull=False) & ~Q(checked_by=F("prepared_by"))),
                name="dose_check_by_a_second_person",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "scheduled_at"]),
            # Date-filtered lists (Today, the doses API by date) filter on the time alone.
            models.Index(fields=["scheduled_at"], name="dose_scheduled_at_idx"),
        ]

    def __str__(self) -> str:
        return gettext("Dose %(sequence)s of course %(course)s") % {
            "sequence": self.sequence,
            "course": self.course_id,
        }

    @property
    def held_by_course(self) -> bool:
        """Its course is on hold from a date on or before this dose's (local) date; a dose before
        the hold date is still due (design.md: "a hold from a date leaves every dose before that
        date where it is")."""
        course = self.course
        if course.status != CourseStatus.ON_HOLD or course.held_since is None:
            return False
        return local_date(self.scheduled_at, course.time_zone) >= course.held_since


class CalendarFeed(models.Model):
    """A secret feed URL for one user's dose calendar. Calendar apps send no headers, so the URL
    is the credential: only its SHA-256 is stored (the URL is shown once, at creation), and
    revoking it ends every subscription made with it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
        verbose_name=_("user"),
    )
    label = models.CharField(max_length=100, blank=True, verbose_name=_("label"))
    ward = models.ForeignKey(
        Ward,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Only this ward's doses (else every dose the user may see)."),
        verbose_name=_("ward"),
    )
    token_hash = models.CharField(
        max_length=64, unique=True, editable=False, verbose_name=_("token hash")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        ordering = ["user", "-created_at"]

    def __str__(self) -> str:
        return gettext("Calendar feed %(feed)s of %(user)s") % {
            "feed": self.label or self.pk,
            "user": self.user,
        }
