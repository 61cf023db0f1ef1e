"""Every write to stock: one transaction per call, every change recorded as ledger movements.

Concurrency: a service that takes vials out locks the StockLevel rows it may touch with
SELECT … FOR UPDATE (PostgreSQL), always in primary-key order so that two transactions never
wait on each other in a cycle, then re-reads them and updates them with F() expressions. The
check constraints on StockLevel are the last line of defence, not the mechanism.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from inventory import alerts
from inventory.fefo import Candidate, fefo_take, is_usable
from inventory.gs1 import gs1_parse
from inventory.models import (
    PLAUSIBLE_MAX_C,
    PLAUSIBLE_MIN_C,
    Excursion,
    ExcursionResolution,
    Lot,
    LotStatus,
    MovementKind,
    Presentation,
    StockLevel,
    StockMovement,
    StorageLocation,
    TemperatureReading,
    lot_number_validator,
)


def _refuse(field_name: str, message: str, code: str = "invalid"):
    raise ValidationError({field_name: ValidationError(message, code=code)})


def _positive(quantity, field_name: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        _refuse(field_name, "A whole number of vials, at least 1.")
    return quantity


def _required(value: str, field_name: str) -> str:
    value = (value or "").strip()
    if not value:
        _refuse(field_name, "This field is required.")
    return value


def _get(model, pk, field_name: str, queryset=None):
    queryset = model.objects.all() if queryset is None else queryset
    try:
        return queryset.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        _refuse(field_name, f"Unknown {model._meta.verbose_name} id {pk!r}.", code="does_not_exist")


def _locked(queryset) -> list:
    """Lock the rows in primary-key order (no deadlock cycles) and return them fresh."""
    return list(
        queryset.select_related("lot__presentation__product", "location")
        .order_by("pk")
        .select_for_update(of=("self",))
    )


def _level_for_inbound(lot: Lot, location: StorageLocation) -> StockLevel:
    level, _ = StockLevel.objects.get_or_create(lot=lot, location=location)
    return _locked(StockLevel.objects.filter(pk=level.pk))[0]


def _move(
    level: StockLevel,
    *,
    kind: str,
    quantity: int,
    on: datetime.date,
    user,
    on_hand_delta: int = 0,
    reserved_delta: int = 0,
    reference: str = "",
    recipient: str = "",
    reason: str = "",
    other_location=None,
) -> StockMovement:
    """Write one ledger line and apply its deltas to the (locked) level in the same transaction."""
    if on_hand_delta or reserved_delta:
        StockLevel.objects.filter(pk=level.pk).update(
            on_hand=F("on_hand") + on_hand_delta,
            reserved=F("reserved") + reserved_delta,
            updated_at=timezone.now(),
        )
        level.on_hand += on_hand_delta
        level.reserved += reserved_delta
    return StockMovement.objects.create(
        lot=level.lot,
        location=level.location,
        other_location=other_location,
        kind=kind,
        quantity=quantity,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        effective_date=on,
        reference=reference,
        recipient=recipient,
        reason=reason,
        user=user,
    )


def _in_range(level: StockLevel) -> bool:
    return level.location.active and level.location.keeps(level.lot.presentation.product)


def _usable(level: StockLevel, on: datetime.date) -> bool:
    return is_usable(
        status=level.lot.status,
        expiry_date=level.lot.expiry_date,
        in_range=_in_range(level),
        on=on,
    )


def _check_destination(location: StorageLocation, lot: Lot, field_name: str) -> None:
    product = lot.presentation.product
    if not location.active:
        _refuse(field_name, f"{location} is not in use.")
    if not location.keeps(product):
        _refuse(
            field_name,
            f"{location} ({location.range_label}) does not satisfy {product}'s storage range "
            f"({product.storage_range_label}).",
            code="out_of_range",
        )
    if Excursion.objects.filter(location=location, ended_at__isnull=True).exists():
        _refuse(field_name, f"{location} is out of its temperature range right now.")


def expiry_from_manufacture(manufacture_date: datetime.date, shelf_life_months: int):
    """Last usable day: the day before the same calendar day `shelf_life_months` later.

    relativedelta clamps a day the target month lacks to its last day (31 Aug + 6 months →
    28/29 Feb), so a lot never gets a day beyond its shelf life.
    """
    return manufacture_date + relativedelta(months=shelf_life_months) - datetime.timedelta(days=1)


# --- Receiving ------------------------------------------------------------------------------------


def _gs1_fill(gs1: str, given: dict) -> dict:
    """Fields from the scan; a field typed in as well must agree with the code."""
    pack = gs1_parse(gs1)
    scanned = {
        "gtin": pack.gtin,
        "lot_number": pack.lot_number,
        "expiry_date": pack.expiry_date,
        "manufacture_date": pack.manufacture_date,
    }
    for name, value in scanned.items():
        if given.get(name) and value and given[name] != value:
            _refuse(name, f"Disagrees with the scanned code ({value}).")
    return {name: given.get(name) or value for name, value in scanned.items()}


def _presentation_for_receipt(presentation_id, gtin: str, gs1: str) -> Presentation:
    queryset = Presentation.objects.select_related("product")
    if presentation_id is not None:
        presentation = _get(Presentation, presentation_id, "presentation_id", queryset)
        if gtin and presentation.gtin and presentation.gtin != gtin:
            _refuse("gtin", f"GTIN {gtin} is not the GTIN of {presentation} ({presentation.gtin}).")
        return presentation
    if not gtin:
        _refuse("presentation_id", "Give the presentation, its GTIN or a GS1 scan.")
    presentation = queryset.filter(gtin=gtin).first()
    if presentation is None:
        _refuse("gs1" if gs1 else "gtin", f"Unknown GTIN {gtin}: no presentation carries it.")
    return presentation


@transaction.atomic
def lot_receive(
    *,
    quantity: int,
    location_id: int,
    user,
    on: datetime.date,
    presentation_id: int | None = None,
    lot_number: str = "",
    expiry_date: datetime.date | None = None,
    manufacture_date: datetime.date | None = None,
    gtin: str = "",
    gs1: str = "",
    reference: str = "",
    reason: str = "",
) -> StockMovement:
    """Receive vials of a lot (new or known) into a location, from fields or a GS1 scan."""
    given = {
        "gtin": gtin,
        "lot_number": lot_number,
        "expiry_date": expiry_date,
        "manufacture_date": manufacture_date,
    }
    if gs1:
        given = _gs1_fill(gs1, given)
    _positive(quantity)
    presentation = _presentation_for_receipt(presentation_id, given["gtin"], gs1)
    product = presentation.product
    lot_number = _required(given["lot_number"], "lot_number")
    try:
        lot_number_validator(lot_number)
    except ValidationError as exc:
        _refuse("lot_number", exc.messages[0])
    manufacture_date = given["manufacture_date"]
    expiry_date = given["expiry_date"]
    if expiry_date is None:
        if manufacture_date is None:
            _refuse("expiry_date", "Give the expiry date or the manufacture date.")
        expiry_date = expiry_from_manufacture(manufacture_date, product.shelf_life_months)
    if manufacture_date and manufacture_date > expiry_date:
        _refuse("manufacture_date", "The manufacture date is after the expiry date.")
    if manufacture_date and manufacture_date > on:
        _refuse("manufacture_date", "The manufacture date is in the future.")
    if expiry_date < on:
        _refuse("expiry_date", f"Lot {lot_number} expired on {expiry_date}; it cannot be received.")
    location = _get(StorageLocation, location_id, "location_id")

    lot, created = Lot.objects.get_or_create(
        presentation=presentation,
        lot_number=lot_number,
        defaults={
            "expiry_date": expiry_date,
            "manufacture_date": manufacture_date,
            "gtin": given["gtin"] or presentation.gtin or "",
        },
    )
    if not created:
        lot = Lot.objects.select_for_update().get(pk=lot.pk)
        if lot.expiry_date != expiry_date:
            _refuse(
                "expiry_date",
                f"Lot {lot_number} of {presentation} is on record with expiry {lot.expiry_date}, "
                f"not {expiry_date}: check the pack.",
                code="lot_mismatch",
            )
        if lot.status in {LotStatus.RECALLED, LotStatus.DESTROYED}:
            _refuse("lot_number", f"Lot {lot_number} is {lot.get_status_display().lower()}.")
    _check_destination(location, lot, "location_id")
    level = _level_for_inbound(lot, location)
    return _move(
        level,
        kind=MovementKind.RECEIPT,
        quantity=quantity,
        on_hand_delta=quantity,
        on=on,
        user=user,
        reference=reference,
        reason=reason,
    )


# --- Reservations and dispensing -------------------------------------------------------------------


def _reservations(**filters) -> dict[tuple[int, int, str], int]:
    """Vials still reserved, per (lot, location, reference), from the ledger."""
    rows = (
        StockMovement.objects.filter(**filters)
        .exclude(reserved_delta=0)
        .values("lot_id", "location_id", "reference")
        .annotate(held=Sum("reserved_delta"))
        .filter(held__gt=0)
    )
    return {(r["lot_id"], r["location_id"], r["reference"]): r["held"] for r in rows}


def _presentation_levels(presentation_id, *, location_id=None, lot_id=None) -> list[StockLevel]:
    filters = Q(lot__presentation_id=presentation_id, on_hand__gt=0)
    if location_id is not None:
        filters &= Q(location_id=location_id)
    if lot_id is not None:
        filters &= Q(lot_id=lot_id)
    return _locked(StockLevel.objects.filter(filters))


def _insufficient(presentation, quantity: int, available: int, on, location=None):
    where = f" at {location}" if location else ""
    _refuse(
        "quantity",
        f"Insufficient stock: {quantity} × {presentation} requested{where}, "
        f"{available} usable on {on}.",
        code="insufficient_stock",
    )


def _check_lot_given(lot_id, presentation, on, location_id) -> Lot:
    lot = _get(Lot, lot_id, "lot_id", Lot.objects.filter(presentation=presentation))
    if lot.status != LotStatus.AVAILABLE:
        _refuse("lot_id", f"Lot {lot.lot_number} is {lot.get_status_display().lower()}.")
    if lot.expiry_date < on:
        _refuse("lot_id", f"Lot {lot.lot_number} expired on {lot.expiry_date}.")
    levels = StockLevel.objects.filter(lot=lot, on_hand__gt=0).select_related("location")
    if location_id is not None:
        levels = levels.filter(location_id=location_id)
    if not any(lvl.location.active and lvl.location.keeps(presentation.product) for lvl in levels):
        _refuse("lot_id", f"Lot {lot.lot_number} has no stock in range here.")
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
) -> list[StockMovement]:
    """Take vials out for a patient: reserved ones under `reference` first, then FEFO."""
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
    levels = _presentation_levels(presentation_id, location_id=location_id, lot_id=lot_id)
    usable = [level for level in levels if _usable(level, on)]
    held = {}
    if reference:
        held = _reservations(reference=reference, lot__presentation_id=presentation_id)
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
    taken_reserved = dict(from_reserved)
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
    keys = _reservations(**filters)
    if not keys:
        return 0
    level_filter = Q()
    for lot_id, location_id, _ in keys:
        level_filter |= Q(lot_id=lot_id, location_id=location_id)
    levels = [
        level for level in _locked(StockLevel.objects.filter(level_filter)) if not keep(level)
    ]
    # Re-read after locking: a concurrent dispense may have consumed part of the hold meanwhile.
    return _release_held(levels, _reservations(**filters), on=on, user=user, reason=reason)


@transaction.atomic
def stock_reserve(
    *,
    presentation_id: int,
    quantity: int,
    on: datetime.date,
    reference: str,
    user=None,
    location_id: int | None = None,
) -> list[StockMovement]:
    """Hold vials for a dose on `on`, FEFO among lots still usable that day.

    Idempotent per reference: what is already held under it counts, only a shortfall is added.
    """
    _positive(quantity)
    reference = _required(reference, "reference")
    presentation = _get(Presentation, presentation_id, "presentation_id")
    location = _get(StorageLocation, location_id, "location_id") if location_id else None
    # Locking first makes a concurrent call with the same reference wait and then see our rows.
    levels = _presentation_levels(presentation_id, location_id=location_id)
    usable = [level for level in levels if _usable(level, on)]
    # Holds on lots no longer usable for this dose (quarantined, recalled, expiring before `on`)
    # do not cover it: give them back and reserve elsewhere.
    usable_keys = {(level.lot_id, level.location_id) for level in usable}
    _release_reference(
        reference,
        presentation_id,
        on=timezone.localdate(),
        user=user,
        reason=f"Lot no longer usable on {on}",
        keep=lambda level: (level.lot_id, level.location_id) in usable_keys,
    )
    already = sum(_reservations(reference=reference, lot__presentation_id=presentation_id).values())
    if already >= quantity:
        return []
    # `usable` is still exact: the release above only touched levels that are not usable.
    plan, remaining = fefo_take(
        [
            Candidate(key=lvl.pk, expiry_date=lvl.lot.expiry_date, available=lvl.free)
            for lvl in usable
        ],
        quantity - already,
    )
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
        for pk, take in plan
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
def reservation_release(*, reference: str, user=None, reason: str = "") -> int:
    """Give back every vial still held under `reference`; returns how many."""
    reference = _required(reference, "reference")
    return _release_reference(reference, None, on=timezone.localdate(), user=user, reason=reason)


# --- Moving stock between places and out of stock ----------------------------------------------


def _level_locked(lot_id, location_id) -> StockLevel:
    levels = _locked(StockLevel.objects.filter(lot_id=lot_id, location_id=location_id))
    if not levels:
        _refuse("location_id", "This lot has no stock at this location.")
    return levels[0]


def _take_free(level: StockLevel, quantity: int) -> None:
    if quantity > level.free:
        _refuse(
            "quantity",
            f"Insufficient stock: {quantity} requested, {level.free} free of lot "
            f"{level.lot.lot_number} at {level.location} ({level.reserved} reserved).",
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
        _refuse("to_location_id", "The destination is the source.")
    _check_destination(destination, lot, "to_location_id")
    StockLevel.objects.get_or_create(lot=lot, location=destination)
    levels = {
        level.location_id: level
        for level in _locked(
            StockLevel.objects.filter(lot=lot, location_id__in=[source.pk, destination.pk])
        )
    }
    if source.pk not in levels:
        _refuse("from_location_id", f"Lot {lot.lot_number} has no stock at {source}.")
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
) -> StockMovement:
    """Vials lost (broken, contaminated, prepared and not given): out of stock, with a reason."""
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
        _refuse("quantity_delta", "A non-zero whole number of vials.")
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
) -> StockMovement:
    """Unused vials back into stock; never more than were dispensed under the same reference."""
    _positive(quantity)
    lot = _get(Lot, lot_id, "lot_id", Lot.objects.select_related("presentation__product"))
    if lot.status == LotStatus.DESTROYED:
        _refuse("lot_id", f"Lot {lot.lot_number} is destroyed.")
    location = _get(StorageLocation, location_id, "location_id")
    _check_destination(location, lot, "location_id")
    level = _level_for_inbound(lot, location)
    # A return gives back vials that left under a dispense; without this cap (also for a blank
    # reference) a "return" could add stock that never existed.
    out = StockMovement.objects.filter(
        lot=lot, reference=reference, kind__in=[MovementKind.DISPENSE, MovementKind.RETURN]
    ).aggregate(net=Sum("on_hand_delta"))["net"]
    returnable = -(out or 0)
    if quantity > returnable:
        under = f"under {reference}" if reference else "without a reference"
        _refuse(
            "quantity",
            f"Only {returnable} vial(s) of lot {lot.lot_number} were dispensed {under} and "
            "not returned yet.",
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


# --- Lot status ---------------------------------------------------------------------------------


def _set_status(lot: Lot, *, status: str, kind: str, on, user, reason: str) -> list[StockMovement]:
    """Change a (locked) lot's status and record it at every location holding it."""
    lot.status = status
    lot.status_reason = reason
    lot.save(update_fields=["status", "status_reason"])
    levels = list(StockLevel.objects.filter(lot=lot, on_hand__gt=0).select_related("location"))
    common = {"lot": lot, "kind": kind, "effective_date": on, "user": user, "reason": reason}
    movements = [
        StockMovement(location=level.location, quantity=level.on_hand, **common) for level in levels
    ] or [StockMovement(location=None, quantity=0, **common)]
    return StockMovement.objects.bulk_create(movements)


def _lot_locked(lot_id) -> Lot:
    return _get(
        Lot, lot_id, "lot_id", Lot.objects.select_for_update().select_related("presentation")
    )


def _unresolved_excursions(lot: Lot):
    """Unresolved excursions holding the lot: those that quarantined it, and those at a location
    where it has vials (e.g. a lot already quarantined by hand when the fridge went out of range,
    which the excursion did not need to quarantine again)."""
    stored_at = StockLevel.objects.filter(lot=lot, on_hand__gt=0).values("location_id")
    return Excursion.objects.filter(
        Q(lots=lot) | Q(location_id__in=stored_at), resolved_at__isnull=True
    ).distinct()


@transaction.atomic
def lot_quarantine(*, lot_id: int, user, on: datetime.date, reason: str) -> list[StockMovement]:
    """Block an available lot everywhere until a pharmacist releases it."""
    reason = _required(reason, "reason")
    lot = _lot_locked(lot_id)
    if lot.status != LotStatus.AVAILABLE:
        _refuse("status", f"Only an available lot can be quarantined; this one is {lot.status}.")
    return _set_status(
        lot,
        status=LotStatus.QUARANTINED,
        kind=MovementKind.QUARANTINE,
        on=on,
        user=user,
        reason=reason,
    )


def _release(lot: Lot, *, user, on, reason: str) -> list[StockMovement]:
    if lot.status != LotStatus.QUARANTINED:
        _refuse("status", f"Only a quarantined lot can be released; this one is {lot.status}.")
    if lot.expiry_date < on:
        _refuse("status", f"Lot {lot.lot_number} expired on {lot.expiry_date}.")
    if _unresolved_excursions(lot).exists():
        _refuse("status", "The lot is held by an unresolved temperature excursion: resolve it.")
    return _set_status(
        lot, status=LotStatus.AVAILABLE, kind=MovementKind.RELEASE, on=on, user=user, reason=reason
    )


@transaction.atomic
def lot_release(*, lot_id: int, user, on: datetime.date, reason: str) -> list[StockMovement]:
    """Return a quarantined lot to use (not when expired or held by an excursion)."""
    reason = _required(reason, "reason")
    return _release(_lot_locked(lot_id), user=user, on=on, reason=reason)


@transaction.atomic
def lot_recall(*, lot_id: int, user, on: datetime.date, reason: str) -> list[StockMovement]:
    """Recall a lot: unusable everywhere; `selectors.lot_recipients` lists who received it."""
    reason = _required(reason, "reason")
    lot = _lot_locked(lot_id)
    if lot.status in {LotStatus.RECALLED, LotStatus.DESTROYED}:
        _refuse("status", f"The lot is already {lot.status}.")
    return _set_status(
        lot, status=LotStatus.RECALLED, kind=MovementKind.RECALL, on=on, user=user, reason=reason
    )


def _destroy(lot: Lot, *, user, on, reason: str, location_id=None) -> list[StockMovement]:
    filters = Q(lot=lot, on_hand__gt=0)
    if location_id is not None:
        filters &= Q(location_id=location_id)
    levels = _locked(StockLevel.objects.filter(filters))
    held = _reservations(lot=lot, **({"location_id": location_id} if location_id else {}))
    _release_held(levels, held, on=on, user=user, reason=f"Lot destroyed: {reason}")
    movements = [
        _move(
            level,
            kind=MovementKind.DESTRUCTION,
            quantity=level.on_hand,
            on_hand_delta=-level.on_hand,
            on=on,
            user=user,
            reason=reason,
        )
        for level in levels
    ]
    if not StockLevel.objects.filter(lot=lot, on_hand__gt=0).exists():
        lot.status = LotStatus.DESTROYED
        lot.status_reason = reason
        lot.save(update_fields=["status", "status_reason"])
    return movements


@transaction.atomic
def lot_destroy(
    *, lot_id: int, user, on: datetime.date, reason: str, location_id: int | None = None
) -> list[StockMovement]:
    """Destroy a lot's stock (at one location or everywhere), releasing its reservations."""
    reason = _required(reason, "reason")
    lot = _lot_locked(lot_id)
    if location_id is not None:
        _get(StorageLocation, location_id, "location_id")
    return _destroy(lot, user=user, on=on, reason=reason, location_id=location_id)


@transaction.atomic
def lots_expire(*, on: datetime.date, user=None) -> int:
    """Daily: mark lots past their expiry day as expired (stock stays listed, unusable)."""
    lots = list(
        Lot.objects.select_for_update()
        .filter(status__in=[LotStatus.AVAILABLE, LotStatus.QUARANTINED], expiry_date__lt=on)
        .order_by("pk")
    )
    for lot in lots:
        _set_status(
            lot,
            status=LotStatus.EXPIRED,
            kind=MovementKind.EXPIRY,
            on=on,
            user=user,
            reason=f"Expired on {lot.expiry_date}.",
        )
    return len(lots)


# --- Temperature ----------------------------------------------------------------------------------


@dataclass
class IngestResult:
    created: int = 0
    duplicates: int = 0
    excursions: list = field(default_factory=list)


def _validate_readings(readings: list[dict]) -> dict[int, StorageLocation]:
    errors = {}
    location_ids = {r.get("location_id") for r in readings}
    locations = StorageLocation.objects.in_bulk([i for i in location_ids if isinstance(i, int)])
    for index, reading in enumerate(readings):
        prefix = f"{index}." if len(readings) > 1 else ""
        value = reading.get("temperature_c")
        if reading.get("location_id") not in locations:
            errors[f"{prefix}location_id"] = (
                f"Unknown storage location id {reading.get('location_id')!r}."
            )
        if not reading.get("sensor_id"):
            errors[f"{prefix}sensor_id"] = "This field is required."
        if not isinstance(reading.get("taken_at"), datetime.datetime):
            errors[f"{prefix}taken_at"] = "A date and time is required."
        if value is None or not (PLAUSIBLE_MIN_C <= value <= PLAUSIBLE_MAX_C):
            errors[f"{prefix}temperature_c"] = (
                f"{value} °C is not a plausible reading (accepted {PLAUSIBLE_MIN_C} to "
                f"{PLAUSIBLE_MAX_C} °C): check the sensor."
            )
    if errors:
        raise ValidationError(errors)
    return locations


def _stored_limits(location: StorageLocation):
    """The tightest storage range of the products stored here, or None when nothing is."""
    products = {
        level.lot.presentation.product
        for level in StockLevel.objects.filter(location=location, on_hand__gt=0).select_related(
            "lot__presentation__product"
        )
    }
    if not products:
        return None
    minimums = [p.storage_min_c for p in products if p.storage_min_c is not None]
    return (max(minimums) if minimums else None, min(p.storage_max_c for p in products))


def _outside(value, low, high) -> bool:
    return value > high or (low is not None and value < low)


def _quarantine_for(excursion: Excursion, reading, user) -> None:
    reason = (
        f"Temperature excursion at {excursion.location}: {reading['temperature_c']} °C at "
        f"{reading['taken_at']:%Y-%m-%d %H:%M}."
    )
    stored = StockLevel.objects.filter(location=excursion.location, on_hand__gt=0)
    lots = list(
        Lot.objects.select_for_update()
        .filter(pk__in=stored.values("lot_id"), status=LotStatus.AVAILABLE)
        .order_by("pk")
    )
    for lot in lots:
        _set_status(
            lot,
            status=LotStatus.QUARANTINED,
            kind=MovementKind.QUARANTINE,
            on=timezone.localdate(reading["taken_at"]),
            user=user,
            reason=reason,
        )
    excursion.lots.add(*lots)


def _track(location: StorageLocation, readings: list[dict], latest, user) -> Excursion | None:
    """Open, extend, reopen or close the location's unresolved excursion from new readings.

    Readings older than the latest one already known only widen the excursion's min/max:
    out-of-order delivery must not end or restart an excursion in the past.
    """
    excursion = (
        Excursion.objects.select_for_update()
        .filter(location=location, resolved_at__isnull=True)
        .first()
    )
    touched = None
    for reading in sorted(readings, key=lambda r: r["taken_at"]):
        value, at = reading["temperature_c"], reading["taken_at"]
        fresh = latest is None or at > latest
        latest = at if fresh else latest
        if excursion is not None and excursion.ended_at is None:
            out = _outside(value, excursion.limit_min_c, excursion.limit_max_c)
            if out:
                excursion.min_c, excursion.max_c = (
                    min(excursion.min_c, value),
                    max(excursion.max_c, value),
                )
            if fresh:
                excursion.seconds_out_of_range += int(
                    (at - excursion.last_reading_at).total_seconds()
                )
                excursion.last_reading_at = at
                if not out:
                    excursion.ended_at = at
            touched = excursion
            continue
        limits = _stored_limits(location)
        if not fresh or limits is None or not _outside(value, *limits):
            continue
        if excursion is None:
            excursion = Excursion(location=location, started_at=at, min_c=value, max_c=value)
        excursion.ended_at = None
        excursion.last_reading_at = at
        excursion.limit_min_c, excursion.limit_max_c = limits
        excursion.min_c, excursion.max_c = min(excursion.min_c, value), max(excursion.max_c, value)
        excursion.save()
        _quarantine_for(excursion, reading, user)
        touched = excursion
    if touched is not None:
        touched.save()
    return touched


@transaction.atomic
def readings_ingest(*, readings: list[dict], user=None) -> IngestResult:
    """Store temperature readings (all or none) and track excursions per location.

    Each reading: location_id, sensor_id, taken_at (aware datetime), temperature_c (Decimal).
    A reading already stored (same location, sensor and time) is skipped, so a gateway may resend.
    """
    if not readings:
        _refuse("readings", "No readings given.")
    locations = _validate_readings(readings)
    result = IngestResult()
    by_location = defaultdict(list)
    for reading in readings:
        by_location[reading["location_id"]].append(reading)
    # Lock the locations so concurrent batches for one location are tracked one after the other.
    list(StorageLocation.objects.filter(pk__in=by_location).order_by("pk").select_for_update())
    for location_id, batch in sorted(by_location.items()):
        location = locations[location_id]
        known = TemperatureReading.objects.filter(location=location)
        latest = known.order_by("-taken_at").values_list("taken_at", flat=True).first()
        seen = set(
            known.filter(taken_at__in=[r["taken_at"] for r in batch]).values_list(
                "sensor_id", "taken_at"
            )
        )
        new = []
        for reading in batch:
            key = (reading["sensor_id"], reading["taken_at"])
            if key in seen:
                result.duplicates += 1
                continue
            seen.add(key)
            new.append(reading)
        TemperatureReading.objects.bulk_create(
            TemperatureReading(
                location=location,
                sensor_id=r["sensor_id"],
                taken_at=r["taken_at"],
                temperature_c=r["temperature_c"],
            )
            for r in new
        )
        result.created += len(new)
        excursion = _track(location, new, latest, user)
        if excursion is not None:
            result.excursions.append(excursion)
            # In this transaction: a rolled-back ingest leaves no alert and wakes no worker.
            alerts.excursion_alert_enqueue(excursion=excursion)
    return result


@transaction.atomic
def excursion_resolve(
    *, excursion_id: int, resolution: str, user, on: datetime.date, reason: str
) -> Excursion:
    """A pharmacist's decision on an excursion: release its lots (once it has closed) or discard
    the stock there (also while it is still open).

    Discarding destroys only the vials at the excursion's location; vials of the same lots kept
    elsewhere were never out of range and return to use.
    """
    reason = _required(reason, "reason")
    if resolution not in ExcursionResolution.values:
        _refuse("resolution", f"One of: {', '.join(ExcursionResolution.values)}.")
    excursion = _get(Excursion, excursion_id, "excursion_id", Excursion.objects.select_for_update())
    if excursion.resolved_at is not None:
        _refuse("resolution", "This excursion is already resolved.")
    if excursion.ended_at is None:
        if resolution != ExcursionResolution.DISCARD:
            _refuse(
                "resolution",
                "The location is still out of range: its lots can be released once readings "
                "are back in range, or discarded now.",
            )
        # A fridge that died or a sensor that stopped never reports "back in range": discarding
        # closes the excursion by decision, so it stops reminding and blocking the location.
        excursion.ended_at = timezone.now()
    excursion.resolution = resolution
    excursion.resolution_reason = reason
    excursion.resolved_at = timezone.now()
    excursion.resolved_by = user
    excursion.save()
    for lot in Lot.objects.select_for_update().filter(excursions=excursion).order_by("pk"):
        if resolution == ExcursionResolution.DISCARD:
            _destroy(lot, user=user, on=on, reason=reason, location_id=excursion.location_id)
        if (
            lot.status == LotStatus.QUARANTINED
            and lot.expiry_date >= on
            and not _unresolved_excursions(lot).exists()
        ):
            _release(lot, user=user, on=on, reason=f"Excursion resolved: {reason}")
    return excursion
