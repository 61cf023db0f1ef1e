import datetime
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q


class MassUnit(models.TextChoices):
    """Units a strength or a fixed dose is expressed in; converted exactly by `units.py`."""

    MG = "mg", "mg"
    UG = "ug", "µg"
    NG = "ng", "ng"


class Container(models.TextChoices):
    VIAL = "vial", "Vial"
    AMPOULE = "ampoule", "Ampoule"


gtin_validator = RegexValidator(r"^\d{14}$", "A GTIN here is 14 digits (GTIN-14, zero-padded).")


class Product(models.Model):
    """A medicinal product as its leaflet describes it (one leaflet, one product)."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100, unique=True)
    active_substance = models.CharField(max_length=100)
    pharmaceutical_form = models.CharField(max_length=200, blank=True)
    storage_min_c = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Lowest storage temperature in °C; empty when the label sets only a maximum.",
    )
    storage_max_c = models.DecimalField(max_digits=4, decimal_places=1)
    keep_dry = models.BooleanField(default=False, help_text="Label asks for a dry place.")
    shelf_life_months = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    sodium_mg_per_dose = models.DecimalField(
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Sodium content per dose where the label gives it (sodium-controlled diets).",
    )
    protein_origin = models.BooleanField(
        default=True, help_text="Contraindicated in hypersensitivity to drugs of protein origin."
    )
    contraindications = models.JSONField(
        default=list,
        blank=True,
        help_text="Patient condition codes the label forbids (e.g. septic_shock, severe_fever).",
    )
    warnings = models.JSONField(default=list, blank=True, help_text="Label warnings, as text.")
    leaflet_file = models.CharField(max_length=100)
    leaflet_section = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(storage_min_c__isnull=True)
                | Q(storage_min_c__lte=models.F("storage_max_c")),
                name="product_storage_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def storage_range_label(self) -> str:
        if self.storage_min_c is None:
            return f"≤ {self.storage_max_c} °C"
        return f"{self.storage_min_c}–{self.storage_max_c} °C"


class Presentation(models.Model):
    """A sellable form of a product: strength per container and pack size."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="presentations")
    code = models.SlugField(max_length=60, unique=True)
    strength = models.DecimalField(
        max_digits=10, decimal_places=4, validators=[MinValueValidator(Decimal("0.0001"))]
    )
    strength_unit = models.CharField(max_length=4, choices=MassUnit.choices)
    container = models.CharField(max_length=10, choices=Container.choices)
    pack_size = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1)], help_text="Containers per pack."
    )
    gtin = models.CharField(
        max_length=14, blank=True, null=True, unique=True, validators=[gtin_validator]
    )
    leaflet_section = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product__name", "strength", "container"]
        constraints = [
            models.CheckConstraint(
                condition=Q(strength__gt=0), name="presentation_strength_positive"
            ),
            models.CheckConstraint(
                condition=Q(pack_size__gte=1), name="presentation_pack_size_min_1"
            ),
        ]

    def __str__(self) -> str:
        unit = MassUnit(self.strength_unit).label
        return f"{self.product.name} {self.strength.normalize():f} {unit} {self.container}"


class Ward(models.Model):
    """A hospital ward: where patients lie, where ward fridges stand, whom reminders go to."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=100)
    email = models.EmailField(blank=True, help_text="Ward mailbox for reminders and digests.")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="wards",
        blank=True,
        help_text="Staff of this ward; nurses see only their wards' patients and doses.",
    )
    reminder_lead_minutes = models.PositiveSmallIntegerField(
        default=60, help_text="How long before a scheduled dose the ward is reminded."
    )
    digest_time = models.TimeField(
        default=datetime.time(7, 0), help_text="Local time of the ward's morning digest."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
