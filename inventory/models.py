import datetime
from decimal import Decimal

import pghistory
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from history.tracking import track
from inventory.gs1 import validate_gtin


class MassUnit(models.TextChoices):
    """Units a strength or a fixed dose is expressed in; converted exactly by `units.py`."""

    MG = "mg", _("mg")
    UG = "ug", _("µg")
    NG = "ng", _("ng")


class Container(models.TextChoices):
    VIAL = "vial", _("Vial")
    AMPOULE = "ampoule", _("Ampoule")


# A GTIN with a wrong check digit can never match a scan: refuse it where it is typed.
gtin_validator = validate_gtin
# A presentation's code names its strength, which may have decimals ("betaleukin-0.05mg-ampoule"):
# a slug plus dots, never spaces or slashes (codes appear in URLs' query strings and exports).
presentation_code_validator = RegexValidator(
    r"^[-a-zA-Z0-9_.]+$", "Letters, digits, dots, hyphens and underscores only."
)

# Sensors outside this band are broken or unplugged, not reporting a fridge; a storage range set
# outside it is a typing error (−500 for −5.0), and could never be read by a sensor anyway.
PLAUSIBLE_MIN_C = Decimal("-50")
PLAUSIBLE_MAX_C = Decimal("60")
plausible_c = [MinValueValidator(PLAUSIBLE_MIN_C), MaxValueValidator(PLAUSIBLE_MAX_C)]


def plausible_c_constraint(*fields: str, name: str) -> models.CheckConstraint:
    """Each of `fields` (°C) empty or within the plausible band, in the database too."""
    condition = Q()
    for field in fields:
        condition &= Q(**{f"{field}__isnull": True}) | Q(
            **{f"{field}__gte": PLAUSIBLE_MIN_C, f"{field}__lte": PLAUSIBLE_MAX_C}
        )
    return models.CheckConstraint(condition=condition, name=name)


@track()
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
        validators=plausible_c,
        help_text="Lowest storage temperature in °C; empty when the label sets only a maximum.",
    )
    storage_max_c = models.DecimalField(max_digits=4, decimal_places=1, validators=plausible_c)
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
            plausible_c_constraint(
                "storage_min_c", "storage_max_c", name="product_storage_range_plausible"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def storage_range_label(self) -> str:
        if self.storage_min_c is None:
            return f"≤ {self.storage_max_c} °C"
        return f"{self.storage_min_c}–{self.storage_max_c} °C"


@track()
class Presentation(models.Model):
    """A sellable form of a product: strength per container and pack size."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="presentations")
    code = models.CharField(max_length=60, unique=True, validators=[presentation_code_validator])
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


@track()
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
    mailbox_digests = models.BooleanField(
        default=True, help_text="The ward mailbox receives the morning digest."
    )
    language = models.CharField(
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text="Language of the e-mails to the ward mailbox (blank: the site's LANGUAGE_CODE).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# Ward membership decides which patients a nurse sees: who was added or removed is history too.
pghistory.track(
    pghistory.InsertEvent("member.add"),
    pghistory.DeleteEvent("member.remove"),
    context_field=pghistory.ContextJSONField(),
    app_label="inventory",
    model_name="WardMemberEvent",
)(Ward.members.through)


# --- Stock: locations, lots, the ledger ------------------------------------------------------

# GS1 General Specifications, AI (10) batch/lot: up to 20 characters of the "encodable character
# set 82" (figure 7.11-1). A lot number outside it cannot be printed in the pack's DataMatrix.
LOT_NUMBER_PATTERN = r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$"
lot_number_validator = RegexValidator(
    LOT_NUMBER_PATTERN,
    "A lot number is 1–20 characters of the GS1 AI (10) set: letters, digits and "
    # %% because Django %-formats validator messages with the value.
    "!\"%%&'()*+,-./:;<=>?_ (no spaces).",
)


class LocationKind(models.TextChoices):
    FRIDGE = "fridge", _("Pharmacy fridge")
    COLD_ROOM = "cold_room", _("Cold room")
    WARD_FRIDGE = "ward_fridge", _("Ward fridge")
    ROOM = "room", _("Room")


@track()
class StorageLocation(models.Model):
    """A fridge, cold room or room, kept within its own temperature range."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=LocationKind.choices)
    ward = models.ForeignKey(
        Ward, on_delete=models.PROTECT, null=True, blank=True, related_name="locations"
    )
    min_c = models.DecimalField(
        max_digits=4, decimal_places=1, validators=plausible_c, help_text="Lowest °C kept."
    )
    max_c = models.DecimalField(
        max_digits=4, decimal_places=1, validators=plausible_c, help_text="Highest °C kept."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_c__lte=models.F("max_c")), name="location_range_ordered"
            ),
            plausible_c_constraint("min_c", "max_c", name="location_range_plausible"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def range_label(self) -> str:
        return f"{self.min_c}–{self.max_c} °C"

    def keeps(self, product: Product) -> bool:
        """True when this location's whole range lies inside the product's storage range."""
        if self.max_c > product.storage_max_c:
            return False
        return product.storage_min_c is None or self.min_c >= product.storage_min_c


class LotStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    QUARANTINED = "quarantined", _("Quarantined")
    RECALLED = "recalled", _("Recalled")
    EXPIRED = "expired", _("Expired")
    DESTROYED = "destroyed", _("Destroyed")


@track()
class Lot(models.Model):
    """One manufacturer's batch of one presentation. Stock of it lives in StockLevel rows."""

    presentation = models.ForeignKey(Presentation, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=20, validators=[lot_number_validator])
    expiry_date = models.DateField(help_text="Last day the lot may be used.")
    manufacture_date = models.DateField(null=True, blank=True)
    gtin = models.CharField(max_length=14, blank=True, validators=[gtin_validator])
    status = models.CharField(max_length=12, choices=LotStatus.choices, default=LotStatus.AVAILABLE)
    status_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expiry_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["presentation", "lot_number"], name="lot_number_unique_per_presentation"
            ),
            models.CheckConstraint(
                condition=Q(manufacture_date__isnull=True)
                | Q(manufacture_date__lte=models.F("expiry_date")),
                name="lot_manufactured_before_expiry",
            ),
        ]
        indexes = [
            # "Expiring within N days" scans available lots by date range.
            models.Index(fields=["status", "expiry_date"], name="lot_status_expiry_idx"),
            models.Index(fields=["expiry_date"], name="lot_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.lot_number} (exp {self.expiry_date:%Y-%m-%d})"


class StockLevel(models.Model):
    """On-hand and reserved vials of one lot at one location: the ledger's running totals."""

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="levels")
    location = models.ForeignKey(StorageLocation, on_delete=models.PROTECT, related_name="levels")
    on_hand = models.PositiveIntegerField(default=0)
    reserved = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["lot__expiry_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["lot", "location"], name="stock_level_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="stock_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reserved__lte=models.F("on_hand")), name="stock_reserved_within_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot} @ {self.location}: {self.on_hand} ({self.reserved} reserved)"

    @property
    def free(self) -> int:
        return self.on_hand - self.reserved


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    TRANSFER = "transfer", _("Transfer")
    RESERVATION = "reservation", _("Reservation")
    RESERVATION_RELEASE = "reservation_release", _("Release of reservation")
    DISPENSE = "dispense", _("Dispense")
    WASTE = "waste", _("Waste")
    ADJUSTMENT = "adjustment", _("Adjustment")
    QUARANTINE = "quarantine", _("Quarantine")
    RELEASE = "release", _("Release from quarantine")
    RECALL = "recall", _("Recall")
    EXPIRY = "expiry", _("Expired")
    RETURN = "return", _("Return")
    DESTRUCTION = "destruction", _("Destruction")


class StockMovement(models.Model):
    """One immutable line of the stock ledger.

    The per-(lot, location) sums of `on_hand_delta` and `reserved_delta` equal the StockLevel
    row. Status changes (quarantine, release, recall, expiry) move no vials and carry zero deltas.
    A transfer is two lines, out of the source and into the destination, each naming the other.
    """

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="movements")
    location = models.ForeignKey(
        StorageLocation, on_delete=models.PROTECT, null=True, blank=True, related_name="movements"
    )
    other_location = models.ForeignKey(
        StorageLocation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=MovementKind.choices)
    quantity = models.PositiveIntegerField(help_text="Vials concerned (always ≥ 0).")
    on_hand_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    effective_date = models.DateField(help_text="The day the movement is for (e.g. dose date).")
    reference = models.CharField(max_length=100, blank=True, db_index=True)
    recipient = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_movements",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(location__isnull=False) | Q(on_hand_delta=0, reserved_delta=0),
                name="movement_with_stock_has_location",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["receipt", "return"]) | Q(on_hand_delta__gt=0),
                name="movement_inbound_adds",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["dispense", "waste", "destruction"])
                | Q(on_hand_delta__lt=0),
                name="movement_outbound_removes",
            ),
        ]
        indexes = [models.Index(fields=["lot", "location"], name="movement_lot_location_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity} × {self.lot_id} @ {self.location_id}"

    def save(self, *args, **kwargs):
        # The ledger is append-only: a correction is a new adjustment line, never an edit.
        if not self._state.adding:
            raise ValueError("Stock movements are immutable; record an adjustment instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Stock movements are immutable and cannot be deleted.")


# --- Temperature -------------------------------------------------------------------------------


class TemperatureReading(models.Model):
    location = models.ForeignKey(StorageLocation, on_delete=models.PROTECT, related_name="readings")
    sensor_id = models.CharField(max_length=64)
    taken_at = models.DateTimeField()
    temperature_c = models.DecimalField(max_digits=5, decimal_places=2)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-taken_at", "-id"]
        constraints = [
            # A gateway that resends a batch must not count the same reading twice.
            models.UniqueConstraint(
                fields=["location", "sensor_id", "taken_at"], name="reading_unique_per_sensor"
            ),
            models.CheckConstraint(
                condition=Q(temperature_c__gte=PLAUSIBLE_MIN_C, temperature_c__lte=PLAUSIBLE_MAX_C),
                name="reading_plausible",
            ),
        ]
        indexes = [models.Index(fields=["location", "taken_at"], name="reading_location_time_idx")]

    def __str__(self) -> str:
        return f"{self.location} {self.temperature_c} °C at {self.taken_at:%Y-%m-%d %H:%M}"


class ExcursionResolution(models.TextChoices):
    RELEASE = "release", _("Lots released")
    DISCARD = "discard", _("Stock discarded")


class Excursion(models.Model):
    """Time a location spent outside the storage range of the products it held.

    Out-of-range readings open it (or reopen it while unresolved) and extend it; an in-range
    reading closes it; a pharmacist resolves it. One unresolved excursion per location.
    """

    location = models.ForeignKey(
        StorageLocation, on_delete=models.PROTECT, related_name="excursions"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Empty while still out.")
    last_reading_at = models.DateTimeField()
    limit_min_c = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    limit_max_c = models.DecimalField(max_digits=4, decimal_places=1)
    min_c = models.DecimalField(max_digits=5, decimal_places=2, help_text="Lowest reading seen.")
    max_c = models.DecimalField(max_digits=5, decimal_places=2, help_text="Highest reading seen.")
    seconds_out_of_range = models.PositiveIntegerField(default=0)
    lots = models.ManyToManyField(Lot, related_name="excursions", blank=True)
    resolution = models.CharField(max_length=10, choices=ExcursionResolution.choices, blank=True)
    resolution_reason = models.CharField(max_length=500, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["location"],
                condition=Q(resolved_at__isnull=True),
                name="excursion_one_unresolved_per_location",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location} out of range since {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def status(self) -> str:
        if self.resolved_at:
            return "resolved"
        return "open" if self.ended_at is None else "closed"

    @property
    def minutes_out_of_range(self) -> int:
        return self.seconds_out_of_range // 60
