"""Moving stock between places and out of stock: transfer, waste, adjust, return."""

import datetime

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inventory.models import (
    Lot,
    LotStatus,
    MovementKind,
    StockLevel,
    StockMovement,
    StorageLocation,
)
from inventory.references import reference_check

from .ledger import (
    _check_destination,
    _get,
    _level_for_inbound,
    _locked,
    _move,
    _positive,
    _reference_lock,
    _refuse,
    _required,
)

# --- Moving stock between places and out of stock ----------------------------------------------


def _level_locked(lot_id, location_id) -> StockLevel:
    levels = _locked(StockLevel.objects.filter(lot_id=lot_id, location_id=location_id))
    if not levels:
        _refuse("location_id", _("This lot has no stock at this location."))
    return levels[0]


def _take_free(level: StockLevel, quantity: int) -> None:
    if quantity > level.free:
        _refuse(
            "quantity",
            _(
                "Insufficient stock: %(quantity)s requested, %(free)s free of lot %(lot)s at "
                "%(location)s (%(reserved)s reserved)."
            )
            % {
                "quantity": quantity,
                "free": level.free,
                "lot": level.lot.lot_number,
                "location": level.location,
                "reserved": level.reserved,
            },
            code="insufficient_stock",
        )


@transaction.atomic
def stock_transfer(
    *,
    lot_id: int,
    from_location_id: int,
    to_location_id: int,
    quantity: int,
    user,
    on: datetime.date,
    reason: str = "",
) -> list[StockMovement]:
    """Move unreserved vials of a lot to another location whose range suits the product."""
    _positive(quantity)
    lot = _get(Lot, lot_id, "lot_id", Lot.objects.select_related("presentation__product"))
    source = _get(StorageLocation, from_location_id, "from_location_id")
    destination = _get(StorageLocation, to_location_id, "to_location_id")
    if source.pk == destination.pk:
        _refuse("to_location_id", _("The destination is the source."))
    _check_destination(destination, lot, "to_location_id")
    StockLevel.objects.get_or_create(lot=lot, location=destination)
    levels = {
        level.location_id: level
        for level in _locked(
            StockLevel.objects.filter(lot=lot, location_id__in=[source.pk, destination.pk])
        )
    }
    if source.pk not in levels:
        _refuse(
            "from_location_id",
            _("Lot %(lot)s has no stock at %(location)s.")
            % {"lot": lot.lot_number, "location": source},
        )
    _take_free(levels[source.pk], quantity)
    common = {"kind": MovementKind.TRANSFER, "quantity": quantity, "on": on, "user": user}
    return [
        _move(
            levels[source.pk],
            on_hand_delta=-quantity,
            other_location=destination,
            reason=reason,
            **common,
        ),
        _move(
            levels[destination.pk],
            on_hand_delta=quantity,
            other_location=source,
            reason=reason,
            **common,
        ),
    ]


@transaction.atomic
def stock_waste(
    *,
    lot_id: int,
    location_id: int,
    quantity: int,
    user,
    on: datetime.date,
    reason: str,
    reference: str = "",
    owner_path: bool = False,
) -> StockMovement:
    """Vials lost (broken, contaminated, prepared and not given): out of stock, with a reason.

    `owner_path`: see inventory.references (True only from the app owning the reference)."""
    reference_check(reference, owner_path=owner_path)
    _positive(quantity)
    reason = _required(reason, "reason")
    level = _level_locked(lot_id, location_id)
    _take_free(level, quantity)
    return _move(
        level,
        kind=MovementKind.WASTE,
        quantity=quantity,
        on_hand_delta=-quantity,
        on=on,
        user=user,
        reference=reference,
        reason=reason,
    )


@transaction.atomic
def stock_adjust(
    *, lot_id: int, location_id: int, quantity_delta: int, user, on: datetime.date, reason: str
) -> StockMovement:
    """Correct the count of a lot at a location (e.g. after a stock take), with a reason."""
    reason = _required(reason, "reason")
    if (
        isinstance(quantity_delta, bool)
        or not isinstance(quantity_delta, int)
        or not quantity_delta
    ):
        _refuse("quantity_delta", _("A non-zero whole number of vials."))
    lot = _get(Lot, lot_id, "lot_id", Lot.objects.select_related("presentation__product"))
    location = _get(StorageLocation, location_id, "location_id")
    if quantity_delta > 0:
        _check_destination(location, lot, "location_id")
        level = _level_for_inbound(lot, location)
    else:
        level = _level_locked(lot_id, location_id)
        _take_free(level, -quantity_delta)
    return _move(
        level,
        kind=MovementKind.ADJUSTMENT,
        quantity=abs(quantity_delta),
        on_hand_delta=quantity_delta,
        on=on,
        user=user,
        reason=reason,
    )


@transaction.atomic
def stock_return(
    *,
    lot_id: int,
    location_id: int,
    quantity: int,
    user,
    on: datetime.date,
    reference: str = "",
    reason: str = "",
    owner_path: bool = False,
) -> StockMovement:
    """Unused vials back into stock; never more than were dispensed under the same reference.

    Returns under one reference are serialised on it (across locations), so parallel returns
    can never give back more than left under it. `owner_path`: see inventory.references.
    """
    reference_check(reference, owner_path=owner_path)
    _positive(quantity)
    lot = _get(Lot, lot_id, "lot_id", Lot.objects.select_related("presentation__product"))
    if lot.status == LotStatus.DESTROYED:
        _refuse("lot_id", _("Lot %(lot)s is destroyed.") % {"lot": lot.lot_number})
    location = _get(StorageLocation, location_id, "location_id")
    _check_destination(location, lot, "location_id")
    _reference_lock(reference)
    level = _level_for_inbound(lot, location)
    # A return gives back vials that left under a dispense; without this cap (also for a blank
    # reference) a "return" could add stock that never existed.
    out = StockMovement.objects.filter(
        lot=lot, reference=reference, kind__in=[MovementKind.DISPENSE, MovementKind.RETURN]
    ).aggregate(net=Sum("on_hand_delta"))["net"]
    returnable = -(out or 0)
    if quantity > returnable:
        values = {"count": returnable, "lot": lot.lot_number, "reference": reference}
        _refuse(
            "quantity",
            (
                ngettext(
                    "Only %(count)s vial of lot %(lot)s was dispensed under %(reference)s and "
                    "not returned yet.",
                    "Only %(count)s vials of lot %(lot)s were dispensed under %(reference)s and "
                    "not returned yet.",
                    returnable,
                )
                if reference
                else ngettext(
                    "Only %(count)s vial of lot %(lot)s was dispensed without a reference and "
                    "not returned yet.",
                    "Only %(count)s vials of lot %(lot)s were dispensed without a reference and "
                    "not returned yet.",
                    returnable,
                )
            )
            % values,
        )
    return _move(
        level,
        kind=MovementKind.RETURN,
        quantity=quantity,
        on_hand_delta=quantity,
        on=on,
        user=user,
        reference=reference,
        reason=reason,
    )
