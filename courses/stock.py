"""The one place courses talks to inventory's stock services, by `dose:<id>` reference.

Inventory's refusals (insufficient stock, an expired or recalled lot) propagate as
ValidationError, and then the dose is not recorded.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inventory import selectors as stock_selectors
from inventory import services as stock_services
from inventory.models import Lot, MovementKind, StockMovement
from inventory.references import reference_prefix_register

DOSE_REFERENCE_PREFIX = "dose:"


def dose_reference(dose_id: int) -> str:
    return f"{DOSE_REFERENCE_PREFIX}{dose_id}"


def register() -> None:
    """Reserve `dose:` references for this module: the stock actions refuse them otherwise."""
    reference_prefix_register(DOSE_REFERENCE_PREFIX, owner=gettext_lazy("the dose's own recording"))


def scanned_lot(
    *, vials: list[dict], lot_id: int | None, lot_number: str
) -> tuple[int | None, str]:
    """Resolve a scanned lot number to the lot of one of the dose's presentations.

    Returns (lot id, lot number); refuses a number that matches no such lot, and an id and a
    number that disagree, so the vial in the nurse's hand is the one taken out of stock.
    """
    lot_number = (lot_number or "").strip()
    if not lot_number:
        return lot_id, lot_number
    presentation_ids = [line["presentation_id"] for line in vials]
    lots = Lot.objects.filter(presentation_id__in=presentation_ids, lot_number=lot_number)
    if lot_id is not None:
        lots = lots.filter(pk=lot_id)
    lot = lots.only("pk", "lot_number").first()
    if lot is None:
        raise ValidationError(
            {
                "lot_number": (
                    _("No lot %(lot)s of this dose's product with id %(id)s.")
                    if lot_id is not None
                    else _("No lot %(lot)s of this dose's product.")
                )
                % {"lot": lot_number, "id": lot_id}
            }
        )
    return lot.pk, lot.lot_number


def dispense(
    *, dose_id: int, vials: list[dict], on: dt.date, user, lot_id: int | None, recipient: str
) -> None:
    """Take the dose's containers out of stock."""
    # A scanned lot belongs to one presentation: it can only be named when the dose draws from one.
    single = len(vials) == 1
    for line in vials:
        stock_services.stock_dispense(
            presentation_id=line["presentation_id"],
            quantity=line["count"],
            on=on,
            user=user,
            lot_id=lot_id if single else None,
            reference=dose_reference(dose_id),
            recipient=recipient,
            owner_path=True,  # the dose's own recording path (it checked the ward)
        )


def reserve(*, dose_id: int, vials: list[dict], on: dt.date, user=None) -> bool:
    """Hold the dose's containers; True when anything was held."""
    for line in vials:
        stock_services.stock_reserve(
            presentation_id=line["presentation_id"],
            quantity=line["count"],
            on=on,
            reference=dose_reference(dose_id),
            user=user,
            owner_path=True,
        )
    return bool(vials)


def doses_reserved(dose_ids) -> set[int]:
    """The doses that still hold vials, read from inventory's ledger."""
    references = {dose_reference(dose_id): dose_id for dose_id in dose_ids}
    held = stock_selectors.reservations_held(reference__in=references)
    return {references[reference] for _, _, reference in held}


def release(*, dose_ids, user=None, reason: str = "") -> int:
    return sum(
        stock_services.reservation_release(
            reference=dose_reference(dose_id), user=user, reason=reason, owner_path=True
        )
        for dose_id in dose_ids
    )


def dispensed_lots(*, dose_ids) -> dict[int, list[dict]]:
    """The lots each dose was dispensed from, read from the ledger's `dose:<id>` movements, so a
    first-expiry-first-out pick is known as well as a scanned lot. Returns {dose id: [{lot_number,
    expiry_date}]} in dispensing order; doses never dispensed are absent."""
    references = {dose_reference(dose_id): dose_id for dose_id in dose_ids}
    found: dict[int, list[dict]] = {}
    movements = (
        StockMovement.objects.filter(reference__in=references, kind=MovementKind.DISPENSE)
        .select_related("lot")
        .order_by("created_at", "id")
    )
    for movement in movements:
        lots = found.setdefault(references[movement.reference], [])
        if all(lot["lot_number"] != movement.lot.lot_number for lot in lots):
            lots.append(
                {"lot_number": movement.lot.lot_number, "expiry_date": movement.lot.expiry_date}
            )
    return found
