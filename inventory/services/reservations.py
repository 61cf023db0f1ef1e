"""Reservations and first-expiry-first-out dispensing.

Concurrency: see `picking` for the levels a dispense or reservation takes from. Everything held
under one reference — reserving, dispensing and releasing it — runs one call at a time (a
transaction-scoped advisory lock on the reference), so what a reference holds, read from the
ledger under that lock and under the locks of the levels holding it, stays true until commit.
"""

import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
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
    Line,
    _check_day,
    _get,
    _locked,
    _moves,
    _positive,
    _reference_lock,
    _refuse,
    _required,
    _status_text,
)
from .picking import Move, Taken
from .picking import fefo_take as pick_fefo

# --- Reservations and dispensing -------------------------------------------------------------------


def _id(model, value, field_name: str) -> int:
    """An id as the queries take it; anything but a plain int is looked up (and refused) first."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _get(model, value, field_name).pk


def _held_levels_locked(reference: str, presentation_id: int) -> list[StockLevel]:
    """The levels of a presentation that held vials under `reference` at some time, locked in pk
    order (what is held now is read from the ledger once they are locked).

    No condition on a level's changing columns (as `reserved > 0` would be): a row whose newer
    version failed one would stay locked without being returned (see `picking`)."""
    holds = StockMovement.objects.filter(
        reference=reference, lot_id=OuterRef("lot_id"), location_id=OuterRef("location_id")
    ).exclude(reserved_delta=0)
    return _locked(StockLevel.objects.filter(Exists(holds), lot__presentation_id=presentation_id))


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


def _refuse_short(
    *, presentation_id, location_id, lot_id, quantity: int, available: int, on
) -> None:
    """Refuse a dispense or reservation that found too little: an unknown id, or a scanned lot
    that is not usable here, first."""
    presentation = _get(
        Presentation,
        presentation_id,
        "presentation_id",
        Presentation.objects.select_related("product"),
    )
    location = _get(StorageLocation, location_id, "location_id") if location_id else None
    if lot_id is not None and not available:
        # (Vials taken from the lot, rolled back with this refusal, prove it usable here.)
        _check_lot_given(lot_id, presentation, on, location_id)
    _insufficient(presentation, quantity, available, on, location)


def _fefo_order(taken: Taken):
    return (taken.lot.expiry_date, taken.level_id)


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

    Whatever is still held under `reference` for this presentation afterwards (another lot was
    scanned, fewer vials were needed, the reserved lot became unusable) goes back to free stock.
    `owner_path`: True only from the app owning the reference (inventory.references)."""
    reference_check(reference, owner_path=owner_path)
    _positive(quantity)
    _check_day(on)
    where = {
        "presentation_id": _id(Presentation, presentation_id, "presentation_id"),
        "location_id": _id(StorageLocation, location_id, "location_id") if location_id else None,
        "lot_id": None if lot_id is None else _id(Lot, lot_id, "lot_id"),
    }
    held_levels = []
    if reference:
        _reference_lock(reference)
        held_levels = _held_levels_locked(reference, where["presentation_id"])
    if held_levels:
        return _dispense_held(
            held_levels,
            quantity=quantity,
            on=on,
            user=user,
            reference=reference,
            recipient=recipient,
            reason=reason,
            where=where,
        )
    # Nothing held for it (a dispense without a dose, or a dose that reserved nothing): each level
    # is picked, taken from and its ledger line written in one statement.
    move = Move(
        on_hand=-1,
        reserved=0,
        kind=MovementKind.DISPENSE,
        reference=reference,
        recipient=recipient,
        reason=reason,
    )
    taken, missing = pick_fefo(quantity=quantity, move=move, on=on, user=user, **where)
    if missing:
        _refuse_short(quantity=quantity, available=quantity - missing, on=on, **where)
    return [take.movement for take in sorted(taken, key=_fefo_order)]


def _dispense_held(
    held_levels: list[StockLevel],
    *,
    quantity: int,
    on,
    user,
    reference: str,
    recipient: str,
    reason: str,
    where: dict,
) -> list[StockMovement]:
    """Dispense with vials held under `reference` on `held_levels` (locked): those first."""
    # Read again under the level locks: the ledger cannot change under us from here on.
    held = reservations_held(reference=reference, lot__presentation_id=where["presentation_id"])

    def holds(level) -> int:
        return held.get((level.lot_id, level.location_id, reference), 0)

    usable = [
        level
        for level in held_levels
        if level_usable(level, on)
        and where["location_id"] in (None, level.location_id)
        and where["lot_id"] in (None, level.lot_id)
    ]
    from_reserved, remaining = fefo_take(
        [
            Candidate(
                key=level.pk,
                expiry_date=level.lot.expiry_date,
                available=min(holds(level), level.reserved),
            )
            for level in usable
        ],
        quantity,
    )
    # The rest from free stock, first expiry first (the held levels' free vials included); the
    # picks take their vials now and their ledger lines are written below, one per level.
    taken, missing = (
        pick_fefo(
            quantity=remaining,
            move=Move(on_hand=-1, reserved=0),
            on=on,
            holding=[level.pk for level in held_levels],
            **where,
        )
        if remaining
        else ([], 0)
    )
    if missing:
        _refuse_short(quantity=quantity, available=quantity - missing, on=on, **where)
    places = {level.pk: (level.lot, level.location) for level in held_levels}
    places.update({take.level_id: (take.lot, take.location) for take in taken})
    reserved_part = dict(from_reserved)
    free_part: dict[int, int] = {}
    for take in taken:
        free_part[take.level_id] = free_part.get(take.level_id, 0) + take.quantity
    lines = []
    for level_id in sorted(
        reserved_part.keys() | free_part.keys(),
        key=lambda pk: (places[pk][0].expiry_date, pk),
    ):
        from_hold, free = reserved_part.get(level_id, 0), free_part.get(level_id, 0)
        lot, location = places[level_id]
        lines.append(
            Line(
                level_id=level_id,
                lot=lot,
                location=location,
                kind=MovementKind.DISPENSE,
                quantity=from_hold + free,
                on_hand_delta=-(from_hold + free),
                reserved_delta=-from_hold,
                reason=reason,
                recipient=recipient,
                applied_on_hand=-free,  # the picks took these already
            )
        )
    dispensed = len(lines)
    # The dose is given: whatever is still held for it goes back to free stock.
    for level in sorted(held_levels, key=lambda level: (level.lot_id, level.location_id)):
        left = holds(level) - reserved_part.get(level.pk, 0)
        if left > 0:
            lines.append(
                _release_line(level, left, "Dose dispensed; rest of its reservation released")
            )
    return _moves(lines, on=on, user=user, reference=reference)[:dispensed]


def _release_line(level: StockLevel, count: int, reason: str) -> Line:
    return Line(
        level_id=level.pk,
        lot=level.lot,
        location=level.location,
        kind=MovementKind.RESERVATION_RELEASE,
        quantity=count,
        reserved_delta=-count,
        reason=reason,
    )


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
    _check_day(on)
    where = {
        "presentation_id": _id(Presentation, presentation_id, "presentation_id"),
        "location_id": _id(StorageLocation, location_id, "location_id") if location_id else None,
    }
    # A concurrent call with the same reference waits here and then sees our rows.
    _reference_lock(reference)
    held_levels = _held_levels_locked(reference, where["presentation_id"])
    already = 0
    if held_levels:
        held = reservations_held(reference=reference, lot__presentation_id=where["presentation_id"])
        releases = []
        for level in sorted(held_levels, key=lambda level: (level.lot_id, level.location_id)):
            count = held.get((level.lot_id, level.location_id, reference), 0)
            if level_usable(level, on) and where["location_id"] in (None, level.location_id):
                already += count
            elif count:
                # A hold on a lot no longer usable for this dose (quarantined, recalled, expiring
                # before `on`) does not cover it: give it back and reserve elsewhere.
                releases.append(_release_line(level, count, f"Lot no longer usable on {on}"))
        _moves(releases, on=timezone.localdate(), user=user, reference=reference)
    if already >= quantity:
        return []
    move = Move(on_hand=0, reserved=1, kind=MovementKind.RESERVATION, reference=reference)
    taken, missing = pick_fefo(
        quantity=quantity - already,
        move=move,
        on=on,
        user=user,
        holding=[level.pk for level in held_levels],
        **where,
    )
    if missing:
        _refuse_short(
            quantity=quantity - already,
            available=quantity - already - missing,
            on=on,
            lot_id=None,
            **where,
        )
    return [take.movement for take in sorted(taken, key=_fefo_order)]


def _release_held(levels: list[StockLevel], held: dict, *, on, user, reason: str) -> int:
    """Release the holds in `held` ({(lot, location, reference): vials}) on `levels` (locked)."""
    by_key = {(level.lot_id, level.location_id): level for level in levels}
    lines: dict[str, list[Line]] = {}
    for (lot_id, location_id, reference), count in sorted(held.items()):
        level = by_key.get((lot_id, location_id))
        if level is not None:
            lines.setdefault(reference, []).append(_release_line(level, count, reason))
    for reference, released in lines.items():
        _moves(released, on=on, user=user, reference=reference)
    return sum(line.quantity for released in lines.values() for line in released)


@transaction.atomic
def reservation_release(
    *, reference: str, user=None, reason: str = "", owner_path: bool = False
) -> int:
    """Give back every vial still held under `reference`; returns how many.

    `owner_path`: True only from the app owning the reference (inventory.references)."""
    reference = _required(reference, "reference")
    reference_check(reference, owner_path=owner_path)
    _reference_lock(reference)
    keys = reservations_held(reference=reference)
    if not keys:
        return 0
    level_filter = Q()
    for lot_id, location_id, _quantity in keys:
        level_filter |= Q(lot_id=lot_id, location_id=location_id)
    levels = _locked(StockLevel.objects.filter(level_filter))
    # Re-read after locking: a lot destroyed meanwhile released its holds already.
    return _release_held(
        levels,
        reservations_held(reference=reference),
        on=timezone.localdate(),
        user=user,
        reason=reason,
    )
