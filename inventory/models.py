import datetime
from decimal import Decimal

import pghistory
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.formats import number_format
from django.utils.translation import gettext, pgettext_lazy
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


# A container as a presentation's name says it ("Biocerulin 100 mg vial"), translated when shown.
CONTAINER_WORDS = {
    "vial": pgettext_lazy("container", "vial"),
    "ampoule": pgettext_lazy("container", "ampoule"),
}


# A GTIN with a wrong check digit can never match a scan: refuse it where it is typed.
gtin_validator = validate_gtin
# A presentation's code names its strength, which may have decimals ("betaleukin-0.05mg-ampoule"):
# a slug plus dots, never spaces or slashes (codes appear in URLs' query strings and exports).
presentation_code_validator = RegexValidator(
    r"^[-a-zA-Z0-9_.]+$", _("Letters, digits, dots, hyphens and underscores only.")
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


def temperature_range(low: Decimal | None, high: Decimal, *, localize: bool = True) -> str:
    """A storage range as people read it: '2.0–8.0 °C', '≤ 15.0 °C' (no lower bound). Pages write
    the page's decimal separator (`localize`, Django's formats: '2,0–8,0 °C' in Ukrainian); the
    API, exports and service refusals keep the point."""
    write = number_format if localize else str
    if low is None:
        return f"≤ {write(high)} °C"
    return f"{write(low)}–{write(high)} °C"


@track()
class Product(models.Model):
    """A medicinal product as its leaflet describes it (one leaflet, one product)."""

    code = models.SlugField(max_length=40, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    active_substance = models.CharField(max_length=100, verbose_name=_("active substance"))
    pharmaceutical_form = models.CharField(
        max_length=200, blank=True, verbose_name=_("pharmaceutical form")
    )
    storage_min_c = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=plausible_c,
        help_text=_("Lowest storage temperature in °C; empty when the label sets only a maximum."),
        verbose_name=_("storage minimum (°C)"),
    )
    storage_max_c = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        validators=plausible_c,
        verbose_name=_("storage maximum (°C)"),
    )
    keep_dry = models.BooleanField(
        default=False, help_text=_("Label asks for a dry place."), verbose_name=_("keep dry")
    )
    shelf_life_months = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1)], verbose_name=_("shelf life (months)")
    )
    sodium_mg_per_dose = models.DecimalField(
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        help_text=_("Sodium content per dose where the label gives it (sodium-controlled diets)."),
        verbose_name=_("sodium per dose (mg)"),
    )
    protein_origin = models.BooleanField(
        default=True,
        help_text=_("Contraindicated in hypersensitivity to drugs of protein origin."),
        verbose_name=_("protein origin"),
    )
    contraindications = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Patient condition codes the label forbids (e.g. septic_shock, severe_fever)."),
        verbose_name=_("contraindications"),
    )
    warnings = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Label warnings, as text."),
        verbose_name=_("warnings"),
    )
    leaflet_file = models.CharField(max_length=100, verbose_name=_("leaflet file"))
    leaflet_section = models.CharField(
        max_length=200, blank=True, verbose_name=_("leaflet section")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
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
        """'2,0–8,0 °C' on a Ukrainian page; `storage_range_plain` is the API's."""
        return temperature_range(self.storage_min_c, self.storage_max_c)

    @property
    def storage_range_plain(self) -> str:
        return temperature_range(self.storage_min_c, self.storage_max_c, localize=False)


@track()
class Presentation(models.Model):
    """A sellable form of a product: strength per container and pack size."""

    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="presentations", verbose_name=_("product")
    )
    code = models.CharField(
        max_length=60, unique=True, validators=[presentation_code_validator], verbose_name=_("code")
    )
    strength = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0.0001"))],
        verbose_name=_("strength"),
    )
    strength_unit = models.CharField(
        max_length=4, choices=MassUnit.choices, verbose_name=_("strength unit")
    )
    container = models.CharField(
        max_length=10, choices=Container.choices, verbose_name=_("container")
    )
    pack_size = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1)],
        help_text=_("Containers per pack."),
        verbose_name=_("pack size"),
    )
    gtin = models.CharField(
        max_length=14,
        blank=True,
        null=True,
        unique=True,
        validators=[gtin_validator],
        verbose_name=_("gtin"),
    )
    leaflet_section = models.CharField(
        max_length=200, blank=True, verbose_name=_("leaflet section")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("presentation")
        verbose_name_plural = _("presentations")
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
        container = CONTAINER_WORDS.get(self.container)
        return gettext("%(product)s %(strength)s %(unit)s %(container)s") % {
            "product": self.product.name,
            "strength": f"{self.strength.normalize():f}",
            "unit": unit,
            "container": str(container) if container else self.container,
        }


@track()
class Ward(models.Model):
    """A hospital ward: where patients lie, where ward fridges stand, whom reminders go to."""

    code = models.SlugField(max_length=30, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=100, verbose_name=_("name"))
    email = models.EmailField(
        blank=True, help_text=_("Ward mailbox for reminders and digests."), verbose_name=_("email")
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="wards",
        blank=True,
        help_text=_("Staff of this ward; nurses see only their wards' patients and doses."),
        verbose_name=_("members"),
    )
    reminder_lead_minutes = models.PositiveSmallIntegerField(
        default=60,
        help_text=_("How long before a scheduled dose the ward is reminded."),
        verbose_name=_("reminder lead time (minutes)"),
    )
    digest_time = models.TimeField(
        default=datetime.time(7, 0),
        help_text=_("Local time of the ward's morning digest."),
        verbose_name=_("digest time"),
    )
    mailbox_digests = models.BooleanField(
        default=True,
        help_text=_("The ward mailbox receives the morning digest."),
        verbose_name=_("mailbox digests"),
    )
    language = models.CharField(
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_(
            "Language of the e-mails to the ward mailbox (blank: the site's LANGUAGE_CODE)."
        ),
        verbose_name=_("language"),
    )

    class Meta:
        verbose_name = _("ward")
        verbose_name_plural = _("wards")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# Ward membership decides which patients a nurse sees: who was added or removed is history too.
track(
    pghistory.InsertEvent("member.add"),
    pghistory.DeleteEvent("member.remove"),
    app_label="inventory",
    model_name="WardMemberEvent",
)(Ward.members.through)


# --- Stock: locations, lots, the ledger ------------------------------------------------------

# GS1 General Specifications, AI (10) batch/lot: up to 20 characters of the "encodable character
# set 82" (figure 7.11-1). A lot number outside it cannot be printed in the pack's DataMatrix.
LOT_NUMBER_PATTERN = r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$"
lot_number_validator = RegexValidator(
    LOT_NUMBER_PATTERN,
    # %% because Django %-formats validator messages with the value.
    _(
        "A lot number is 1–20 characters of the GS1 AI (10) set: letters, digits and "
        "!\"%%&'()*+,-./:;<=>?_ (no spaces)."
    ),
)


class LocationKind(models.TextChoices):
    FRIDGE = "fridge", _("Pharmacy fridge")
    COLD_ROOM = "cold_room", _("Cold room")
    WARD_FRIDGE = "ward_fridge", _("Ward fridge")
    ROOM = "room", _("Room")


@track()
class StorageLocation(models.Model):
    """A fridge, cold room or room, kept within its own temperature range."""

    code = models.SlugField(max_length=40, unique=True, verbose_name=_("code"))
    name = models.CharField(max_length=100, verbose_name=_("name"))
    kind = models.CharField(max_length=20, choices=LocationKind.choices, verbose_name=_("kind"))
    ward = models.ForeignKey(
        Ward,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="locations",
        verbose_name=_("ward"),
    )
    min_c = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        validators=plausible_c,
        help_text=_("Lowest °C kept."),
        verbose_name=_("minimum (°C)"),
    )
    max_c = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        validators=plausible_c,
        help_text=_("Highest °C kept."),
        verbose_name=_("maximum (°C)"),
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        verbose_name = _("storage location")
        verbose_name_plural = _("storage locations")
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
        """'2,0–8,0 °C' on a Ukrainian page; `range_plain` is the API's."""
        return temperature_range(self.min_c, self.max_c)

    @property
    def range_plain(self) -> str:
        return temperature_range(self.min_c, self.max_c, localize=False)

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

    presentation = models.ForeignKey(
        Presentation, on_delete=models.PROTECT, related_name="lots", verbose_name=_("presentation")
    )
    lot_number = models.CharField(
        max_length=20, validators=[lot_number_validator], verbose_name=_("lot number")
    )
    expiry_date = models.DateField(
        help_text=_("Last day the lot may be used."), verbose_name=_("expiry date")
    )
    manufacture_date = models.DateField(null=True, blank=True, verbose_name=_("manufacture date"))
    gtin = models.CharField(
        max_length=14, blank=True, validators=[gtin_validator], verbose_name=_("gtin")
    )
    status = models.CharField(
        max_length=12,
        choices=LotStatus.choices,
        default=LotStatus.AVAILABLE,
        verbose_name=_("status"),
    )
    status_reason = models.CharField(max_length=500, blank=True, verbose_name=_("status reason"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
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
            # First-expiry-first-out candidates of one presentation, in expiry order.
            models.Index(
                fields=["presentation", "status", "expiry_date"], name="lot_presentation_fefo_idx"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(lot)s (exp %(expiry)s)") % {
            "lot": self.lot_number,
            "expiry": f"{self.expiry_date:%Y-%m-%d}",
        }


class StockLevel(models.Model):
    """On-hand and reserved vials of one lot at one location: the ledger's running totals."""

    lot = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="levels", verbose_name=_("lot")
    )
    location = models.ForeignKey(
        StorageLocation, on_delete=models.PROTECT, related_name="levels", verbose_name=_("location")
    )
    on_hand = models.PositiveIntegerField(default=0, verbose_name=_("on hand"))
    reserved = models.PositiveIntegerField(default=0, verbose_name=_("reserved"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")
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
        return gettext("%(lot)s @ %(location)s: %(on_hand)s (%(reserved)s reserved)") % {
            "lot": self.lot,
            "location": self.location,
            "on_hand": self.on_hand,
            "reserved": self.reserved,
        }

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

    lot = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="movements", verbose_name=_("lot")
    )
    location = models.ForeignKey(
        StorageLocation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="movements",
        verbose_name=_("location"),
    )
    other_location = models.ForeignKey(
        StorageLocation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("other location"),
    )
    kind = models.CharField(max_length=20, choices=MovementKind.choices, verbose_name=_("kind"))
    quantity = models.PositiveIntegerField(
        help_text=_("Vials concerned (always ≥ 0)."), verbose_name=_("quantity")
    )
    on_hand_delta = models.IntegerField(default=0, verbose_name=_("change in on hand"))
    reserved_delta = models.IntegerField(default=0, verbose_name=_("change in reserved"))
    effective_date = models.DateField(
        help_text=_("The day the movement is for (e.g. dose date)."),
        verbose_name=_("effective date"),
    )
    reference = models.CharField(
        max_length=100, blank=True, db_index=True, verbose_name=_("reference")
    )
    recipient = models.CharField(max_length=200, blank=True, verbose_name=_("recipient"))
    reason = models.CharField(max_length=500, blank=True, verbose_name=_("reason"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_movements",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
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
    location = models.ForeignKey(
        StorageLocation,
        on_delete=models.PROTECT,
        related_name="readings",
        verbose_name=_("location"),
    )
    sensor_id = models.CharField(max_length=64, verbose_name=_("sensor ID"))
    taken_at = models.DateTimeField(verbose_name=_("taken at"))
    temperature_c = models.DecimalField(
        max_digits=5, decimal_places=2, verbose_name=_("temperature (°C)")
    )
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))

    class Meta:
        verbose_name = _("temperature reading")
        verbose_name_plural = _("temperature readings")
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
        indexes = [
            models.Index(fields=["location", "taken_at"], name="reading_location_time_idx"),
            # The readings list, newest first in cursor pages: a range of this index, where a
            # whole-table sort took 0.4 s at 5,000,000 readings.
            models.Index(fields=["-taken_at", "-id"], name="reading_newest_idx"),
        ]

    def __str__(self) -> str:
        return gettext("%(location)s %(temperature)s °C at %(when)s") % {
            "location": self.location,
            "temperature": self.temperature_c,
            "when": f"{self.taken_at:%Y-%m-%d %H:%M}",
        }


class ExcursionResolution(models.TextChoices):
    RELEASE = "release", _("Lots released")
    DISCARD = "discard", _("Stock discarded")


# Excursion.status, as pages and the admin say it.
EXCURSION_STATES = {
    "open": pgettext_lazy("excursion", "open"),
    "closed": pgettext_lazy("excursion", "closed"),
    "resolved": pgettext_lazy("excursion", "resolved"),
}


class Excursion(models.Model):
    """Time a location spent outside the storage range of the products it held.

    Out-of-range readings open it (or reopen it while unresolved) and extend it; an in-range
    reading closes it; a pharmacist resolves it. One unresolved excursion per location.
    """

    location = models.ForeignKey(
        StorageLocation,
        on_delete=models.PROTECT,
        related_name="excursions",
        verbose_name=_("location"),
    )
    started_at = models.DateTimeField(verbose_name=_("started at"))
    ended_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Empty while still out."), verbose_name=_("ended at")
    )
    last_reading_at = models.DateTimeField(verbose_name=_("last reading at"))
    limit_min_c = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True, verbose_name=_("lower limit (°C)")
    )
    limit_max_c = models.DecimalField(
        max_digits=4, decimal_places=1, verbose_name=_("upper limit (°C)")
    )
    min_c = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        help_text=_("Lowest reading seen."),
        verbose_name=_("minimum (°C)"),
    )
    max_c = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        help_text=_("Highest reading seen."),
        verbose_name=_("maximum (°C)"),
    )
    seconds_out_of_range = models.PositiveIntegerField(
        default=0, verbose_name=_("seconds out of range")
    )
    lots = models.ManyToManyField(
        Lot, related_name="excursions", blank=True, verbose_name=_("lots")
    )
    resolution = models.CharField(
        max_length=10, choices=ExcursionResolution.choices, blank=True, verbose_name=_("resolution")
    )
    resolution_reason = models.CharField(
        max_length=500, blank=True, verbose_name=_("resolution reason")
    )
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        verbose_name = _("excursion")
        verbose_name_plural = _("excursions")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["location"],
                condition=Q(resolved_at__isnull=True),
                name="excursion_one_unresolved_per_location",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(location)s out of range since %(since)s") % {
            "location": self.location,
            "since": f"{self.started_at:%Y-%m-%d %H:%M}",
        }

    @property
    def status(self) -> str:
        if self.resolved_at:
            return "resolved"
        return "open" if self.ended_at is None else "closed"

    @property
    def status_label(self) -> str:
        """The status in the reader's language (the admin's list, the lot page)."""
        return str(EXCURSION_STATES[self.status])

    @property
    def minutes_out_of_range(self) -> int:
        return self.seconds_out_of_range // 60
