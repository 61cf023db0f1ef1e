"""The one place courses talks to inventory's stock services (/tmp/interfaces.md).

Inventory's `stock_dispense`, `stock_reserve` and `reservation_release` may be absent (the
inventory app is built in parallel, and a deployment may run courses alone). Then a dose is still
recorded, with the scanned lot id/number noted on it, but no stock moves: `dispensed` stays False
so the pharmacy can reconcile later. When they are present, their refusals (insufficient stock, an
expired or recalled lot) propagate as ValidationError and the dose is not recorded.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError


def _services():
    try:
        from inventory import services
    except ImportError:
        return None
    return services


def _function(name: str):
    return getattr(_services(), name, None)


def available() -> bool:
    return _function("stock_dispense") is not None


DOSE_REFERENCE_PREFIX = "dose:"


def dose_reference(dose_id: int) -> str:
    return f"{DOSE_REFERENCE_PREFIX}{dose_id}"


def register() -> None:
    """Reserve `dose:` references for this module: the stock actions refuse them otherwise."""
    try:
        from inventory.references import reference_prefix_register
    except ImportError:
        return
    reference_prefix_register(DOSE_REFERENCE_PREFIX, owner="the dose's own recording")


def scanned_lot(
    *, vials: list[dict], lot_id: int | None, lot_number: str
) -> tuple[int | None, str]:
    """Resolve a scanned lot number to the lot of one of the dose's presentations.

    Returns (lot id, lot number); refuses a number that matches no such lot, and an id and a
    number that disagree, so the vial in the nurse's hand is the one taken out of stock.
    """
    lot_number = (lot_number or "").strip()
    if not lot_number or not available():
        return lot_id, lot_number
    from inventory.models import Lot

    presentation_ids = [line["presentation_id"] for line in vials]
    lots = Lot.objects.filter(presentation_id__in=presentation_ids, lot_number=lot_number)
    if lot_id is not None:
        lots = lots.filter(pk=lot_id)
    lot = lots.only("pk", "lot_number").first()
    if lot is None:
        raise ValidationError(
            {
                "lot_number": f"No lot {lot_number} of this dose's product"
                + (f" with id {lot_id}." if lot_id is not None else ".")
            }
        )
    return lot.pk, lot.lot_number


def dispense(
    *, dose_id: int, vials: list[dict], on: dt.date, user, lot_id: int | None, recipient: str
) -> bool:
    """Take the dose's containers out of stock; False when inventory has no dispense service."""
    stock_dispense = _function("stock_dispense")
    if stock_dispense is None:
        return False
    # A scanned lot belongs to one presentation: it can only be named when the dose draws from one.
    single = len(vials) == 1
    for line in vials:
        stock_dispense(
            presentation_id=line["presentation_id"],
            quantity=line["count"],
            on=on,
            user=user,
            lot_id=lot_id if single else None,
            reference=dose_reference(dose_id),
            recipient=recipient,
            owner_path=True,  # the dose's own recording path (it checked the ward)
        )
    return True


def reserve(*, dose_id: int, vials: list[dict], on: dt.date, user=None) -> bool:
    stock_reserve = _function("stock_reserve")
    if stock_reserve is None:
        return False
    for line in vials:
        stock_reserve(
            presentation_id=line["presentation_id"],
            quantity=line["count"],
            on=on,
            reference=dose_reference(dose_id),
            user=user,
            owner_path=True,
        )
    return True


def doses_reserved(dose_ids) -> set[int]:
    """The doses that still hold vials, read from inventory's ledger (none without inventory)."""
    if _function("stock_reserve") is None:
        return set()
    from django.db.models import Sum

    from inventory.models import StockMovement

    references = {dose_reference(dose_id): dose_id for dose_id in dose_ids}
    held = (
        StockMovement.objects.filter(reference__in=references)
        .exclude(reserved_delta=0)
        .values("reference")
        .annotate(held=Sum("reserved_delta"))
        .filter(held__gt=0)
        .values_list("reference", flat=True)
    )
    return {references[reference] for reference in held}


def release(*, dose_ids, user=None, reason: str = "") -> int:
    reservation_release = _function("reservation_release")
    if reservation_release is None:
        return 0
    return sum(
        reservation_release(
            reference=dose_reference(dose_id), user=user, reason=reason, owner_path=True
        )
        for dose_id in dose_ids
    )
