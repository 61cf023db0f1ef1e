"""Reservations and first-expiry-first-out dispensing."""

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.fefo import Candidate, fefo_take, is_expired
from inventory.models import (
    Lot,
    LotStatus,
    MovementKind,
    Presentation,
    StockLevel,
    StockMovement,
    StorageLocation,
)
from inventory.references import reference_check
from inventory.selectors import level_usable, reservations_held

from .ledger import (
    _get,
    _locked,
    _move,
    _positive,
    _reference_lock,
    _refuse,
    _required,
    _status_text,
)
from .picking import lock_fefo

# --- Reservations and dispensing -------------------------------------------------------------------


def _level_pks(held: dict, *, location_id=None, lot_id=None) -> list[int]:
    """The stock levels holding the reservations in `held` (within a location or lot if given)."""
    pairs = Q(pk__in=[])
    for held_lot_id, held_location_id, _quantity in held:
        pairs |= Q(lot_id=held_lot_id, location_id=held_location_id)
    levels = StockLevel.objects.filter(pairs)
    if location_id is not None:
        levels = levels.filter(location_id=location_id)
    if lot_id is not None:
        levels = levels.filter(lot_id=lot_id)
    return list(levels.values_list("pk", flat=True)) if held else []


def _insufficient(presentation, quantity: int, available: int, on, location=None):
    values = {
        "quantity": quantity,
        "presentation": presentation,
        "location": location,
        "available": available,
        "day": on,
    }
    _refuse(
        "quantity",
        (
            _(
                "Insufficient stock: %(quantity)s × %(presentation)s requested at %(location)s, "
                "%(available)s usable on %(day)s."
            )
            if location
            else _(
                "Insufficient stock: %(quantity)s × %(presentation)s requested, %(available)s "
                "usable on %(day)s."
            )
        )
        % values,
        code="insufficient_stock",
    )


def _check_lot_given(lot_id, presentation, on, location_id) -> Lot:
    lot = _get(Lot, lot_id, "lot_id", Lot.objects.filter(presentation=presentation))
    if lot.status != LotStatus.AVAILABLE:
        _refuse(
            "lot_id",
            _("Lot %(lot)s is %(status)s.") % {"lot": lot.lot_number, "status": _status_text(lot)},
        )
    if is_expired(lot.expiry_date, on):
        _refuse(
            "lot_id",
            _("Lot %(lot)s expired on %(day)s.") % {"lot": lot.lot_number, "day": lot.expiry_date},
        )
    levels = StockLevel.objects.filter(lot=lot, on_hand__gt=0).select_related("location")
    if location_id is not None:
        levels = levels.filter(location_id=location_id)
    if not any(lvl.location.active and lvl.location.keeps(presentation.product) for lvl in levels):
        _refuse("lot_id", _("Lot %(lot)s has no stock in range here.") % {"lot": lot.lot_number})
    return lot


@transaction.atomic
def stock_dispense(
    *,
    presentation_id: int,
    quantity: int,
    on: datetime.date,
    user,
    location_id: int | None = None,
    lot_id: int | None = None,
    reference: str = "",
    recipient: str = "",
    reason: str = "",
    owner_path: bool = False,
) -> list[StockMovement]:
    """Take vials out for a patient: reserved ones under `reference` first, then FEFO.

    `owner_path`: True only from the app owning the reference (inventory.references)."""
    reference_check(reference, owner_path=owner_path)
    _positive(quantity)
    presentation = _get(
        Presentation,
        presentation_id,
        "presentation_id",
        Presentation.objects.select_related("product"),
    )
    location = _get(StorageLocation, location_id, "location_id") if location_id else None
    if lot_id is not None:
        _check_lot_given(lot_id, presentation, on, location_id)
    if reference:
        # One dose's dispenses, reservations and returns run one after the other (it used to
        # follow from locking every level of the presentation).
        _reference_lock(reference)
    held = {}
    held_pks = []
    if reference:
        held = reservations_held(reference=reference, lot__presentation_id=presentation_id)
        held_pks = _level_pks(held, location_id=location_id, lot_id=lot_id)

    def plan(usable):
        from_reserved, remaining = fefo_take(
            [
                Candidate(
                    key=level.pk,
                    expiry_date=level.lot.expiry_date,
                    available=min(
                        held.get((level.lot_id, level.location_id, reference), 0), level.reserved
                    ),
                )
                for level in usable
            ],
            quantity,
        )
        from_free, remaining = fefo_take(
            [
                Candidate(
                    key=level.pk,
                    expiry_date=level.lot.expiry_date,
                    available=level.on_hand - level.reserved,
                )
                for level in usable
            ],
            remaining,
        )
        return dict(from_reserved), from_free, remaining

    # Only the levels it takes (and those holding its reservation) are locked.
    usable = lock_fefo(
        presentation_id=presentation_id,
        on=on,
        location_id=location_id,
        lot_id=lot_id,
        first_pks=held_pks,
        shortfall=lambda levels: plan(levels)[2],
    )
    taken_reserved, from_free, remaining = plan(usable)
    if remaining:
        free = sum(level.on_hand - level.reserved for level in usable)
        _insufficient(presentation, quantity, free + sum(taken_reserved.values()), on, location)
    taken_free = dict(from_free)
    movements = []
    for level in sorted(usable, key=lambda lvl: (lvl.lot.expiry_date, lvl.pk)):
        reserved_part = taken_reserved.get(level.pk, 0)
        total = reserved_part + taken_free.get(level.pk, 0)
        if total:
            movements.append(
                _move(
                    level,
                    kind=MovementKind.DISPENSE,
                    quantity=total,
                    on_hand_delta=-total,
                    reserved_delta=-reserved_part,
                    on=on,
                    user=user,
                    reference=reference,
                    recipient=recipient,
                    reason=reason,
                )
            )
    if reference:
        # The dose is given: whatever is still held for it (another lot was scanned, fewer vials
        # were needed, the reserved lot became unusable) goes back to free stock.
        _release_reference(
            reference,
            presentation_id,
            on=on,
            user=user,
            reason="Dose dispensed; rest of its reservation released",
        )
    return movements


def _release_reference(
    reference: str, presentation_id: int | None, *, on, user, reason: str, keep=lambda level: False
) -> int:
    """Release the holds under `reference` (of one presentation), locking their levels first.

    `keep(level)` spares the holds on levels it accepts.
    """
    filters = {"reference": reference}
    if presentation_id is not None:
        filters["lot__presentation_id"] = presentation_id
    keys = reservations_held(**filters)
    if not keys:
        return 0
    level_filter = Q()
    for lot_id, location_id, _quantity in keys:
        level_filter |= Q(lot_id=lot_id, location_id=location_id)
    levels = [
        level for level in _locked(StockLevel.objects.filter(level_filter)) if not keep(level)
    ]
    # Re-read after locking: a concurrent dispense may have consumed part of the hold meanwhile.
    return _release_held(levels, reservations_held(**filters), on=on, user=user, reason=reason)


@transaction.atomic
def stock_reserve(
    *,
    presentation_id: int,
    quantity: int,
    on: datetime.date,
    reference: str,
    user=None,
    location_id: int | None = None,
    owner_path: bool = False,
) -> list[StockMovement]:
    """Hold vials for a dose on `on`, FEFO among lots still usable that day.

    Idempotent per reference: what is already held under it counts, only a shortfall is added.
    `owner_path`: True only from the app owning the reference (inventory.references).
    """
    reference_check(reference, owner_path=owner_path)
    _positive(quantity)
    reference = _required(reference, "reference")
    presentation = _get(Presentation, presentation_id, "presentation_id")
    location = _get(StorageLocation, location_id, "location_id") if location_id else None
    # A concurrent call with the same reference waits here and then sees our rows.
    _reference_lock(reference)
    # Holds on lots no longer usable for this dose (quarantined, recalled, expiring before `on`)
    # do not cover it: give them back and reserve elsewhere.
    _release_reference(
        reference,
        presentation_id,
        on=timezone.localdate(),
        user=user,
        reason=f"Lot no longer usable on {on}",
        keep=lambda level: (
            level_usable(level, on) and (location_id is None or level.location_id == location_id)
        ),
    )
    already = sum(
        reservations_held(reference=reference, lot__presentation_id=presentation_id).values()
    )
    if already >= quantity:
        return []

    def plan(usable):
        return fefo_take(
            [
                Candidate(key=lvl.pk, expiry_date=lvl.lot.expiry_date, available=lvl.free)
                for lvl in usable
            ],
            quantity - already,
        )

    # Only the levels it takes are locked.
    usable = lock_fefo(
        presentation_id=presentation_id,
        on=on,
        location_id=location_id,
        shortfall=lambda levels: plan(levels)[1],
    )
    taken, remaining = plan(usable)
    if remaining:
        _insufficient(
            presentation, quantity - already, sum(lvl.free for lvl in usable), on, location
        )
    by_pk = {level.pk: level for level in usable}
    return [
        _move(
            by_pk[pk],
            kind=MovementKind.RESERVATION,
            quantity=take,
            reserved_delta=take,
            on=on,
            user=user,
            reference=reference,
        )
        for pk, take in taken
    ]


def _release_held(levels: list[StockLevel], held: dict, *, on, user, reason: str) -> int:
    by_key = {(level.lot_id, level.location_id): level for level in levels}
    released = 0
    for (lot_id, location_id, reference), count in sorted(held.items()):
        level = by_key.get((lot_id, location_id))
        if level is None:
            continue
        _move(
            level,
            kind=MovementKind.RESERVATION_RELEASE,
            quantity=count,
            reserved_delta=-count,
            on=on,
            user=user,
            reference=reference,
            reason=reason,
        )
        released += count
    return released


@transaction.atomic
def reservation_release(
    *, reference: str, user=None, reason: str = "", owner_path: bool = False
) -> int:
    """Give back every vial still held under `reference`; returns how many.

    `owner_path`: True only from the app owning the reference (inventory.references)."""
    reference = _required(reference, "reference")
    reference_check(reference, owner_path=owner_path)
    return _release_reference(reference, None, on=timezone.localdate(), user=user, reason=reason)
