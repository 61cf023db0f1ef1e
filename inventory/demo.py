"""Demo stock for the embedded set-up: locations, wards' fridges and lots with a spread of expiries.

Called by the `seed_demo` command after the formulary is loaded. Idempotent: a lot already on
record is left alone, so running it again (even on a later day) changes nothing.
"""

import datetime
from decimal import Decimal

from biip.checksums import gs1_standard_check_digit
from django.db import transaction
from django.utils import timezone

from inventory import services
from inventory.models import LocationKind, Lot, Presentation, StorageLocation, Ward

WARDS = [("ward-3a", "Ward 3A (haematology)"), ("ward-5b", "Ward 5B (surgery)")]

LOCATIONS = [
    # code, name, kind, ward code, min °C, max °C
    ("pharmacy-fridge", "Pharmacy fridge", LocationKind.FRIDGE, None, "2", "8"),
    ("cold-room", "Pharmacy cold room", LocationKind.COLD_ROOM, None, "2", "8"),
    ("ward-3a-fridge", "Ward 3A fridge", LocationKind.WARD_FRIDGE, "ward-3a", "2", "8"),
    ("ward-5b-fridge", "Ward 5B fridge", LocationKind.WARD_FRIDGE, "ward-5b", "2", "8"),
]

# Days to expiry of each presentation's lots; the first presentation's first lot expires within
# 30 days so the expiry alerts and the forecast have something to show.
EXPIRY_SPREAD_DAYS = [(20, 180, 540), (75, 300, 650)]
VIALS_PER_LOT = 20
TO_WARD = 4
# Demo GTINs: GS1 prefix 20–29 is "restricted circulation" (in-store numbers no manufacturer is
# given), so 0 + 2099999 + item number + check digit can never be a real pack's GTIN.
DEMO_GTIN_STEM = "02099999"


def demo_gtin(item: int) -> str:
    """The demo GTIN-14 of the `item`-th presentation, with its GS1 check digit."""
    payload = f"{DEMO_GTIN_STEM}{item:05d}"
    return payload + str(gs1_standard_check_digit(payload))


def _demo_gtins() -> None:
    """Give each presentation without a GTIN a demo one, so that receiving by scan works in the
    embedded demo at once (a real formulary's GTINs come from the packs, not from here)."""
    for item, presentation in enumerate(Presentation.objects.order_by("code"), start=1):
        if not presentation.gtin:
            gtin = demo_gtin(item)
            if not Presentation.objects.filter(gtin=gtin).exists():
                presentation.gtin = gtin
                presentation.save(update_fields=["gtin", "updated_at"])


def _locations() -> dict[str, StorageLocation]:
    wards = {
        code: Ward.objects.get_or_create(code=code, defaults={"name": name})[0]
        for code, name in WARDS
    }
    locations = {}
    for code, name, kind, ward, low, high in LOCATIONS:
        locations[code], _ = StorageLocation.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "ward": wards.get(ward),
                "min_c": Decimal(low),
                "max_c": Decimal(high),
            },
        )
    return locations


@transaction.atomic
def inventory_demo_seed(*, user) -> None:
    today = timezone.localdate()
    _demo_gtins()
    locations = _locations()
    wards = [locations["ward-3a-fridge"], locations["ward-5b-fridge"]]
    for index, presentation in enumerate(Presentation.objects.order_by("code")):
        spread = EXPIRY_SPREAD_DAYS[min(index, 1)]
        for number, days in enumerate(spread, start=1):
            lot_number = f"DEMO-{presentation.pk:02d}-{number}"
            if Lot.objects.filter(presentation=presentation, lot_number=lot_number).exists():
                continue
            lot = services.lot_receive(
                presentation_id=presentation.pk,
                lot_number=lot_number,
                expiry_date=today + datetime.timedelta(days=days),
                quantity=VIALS_PER_LOT,
                location_id=locations["pharmacy-fridge"].pk,
                reference="demo delivery",
                user=user,
                on=today,
            ).lot
            services.stock_transfer(
                lot_id=lot.pk,
                from_location_id=locations["pharmacy-fridge"].pk,
                to_location_id=wards[(index + number) % 2].pk,
                quantity=TO_WARD,
                reason="Ward stock (demo)",
                user=user,
                on=today,
            )
