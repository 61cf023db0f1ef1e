"""Lot status: quarantine, release, recall, destroy, expire."""

import datetime
from collections import defaultdict
from collections.abc import Callable

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from history.context import records
from inventory.fefo import is_expired
from inventory.models import (
    Excursion,
    Lot,
    LotStatus,
    MovementKind,
    StockLevel,
    StockMovement,
    StorageLocation,
)
from inventory.selectors import reservations_held, unexpired_q

from .ledger import Line, _get, _locked, _moves, _refuse, _required, _status_text
from .reservations import _release_held

# --- Lot status ---------------------------------------------------------------------------------


def _set_status(lot: Lot, *, status: str, kind: str, on, user, reason: str) -> list[StockMovement]:
    """Change a (locked) lot's status and record it at every location holding it."""
    return _set_statuses([lot], status=status, kind=kind, on=on, user=user, reason=reason)


def _set_statuses(
    lots: list[Lot], *, status: str, kind: str, on, user, reason: str | Callable[[Lot], str]
) -> list[StockMovement]:
    """`_set_status` for many (locked) lots, in queries that do not grow with the lots: an
    excursion at a pharmacy fridge quarantines ten thousand at once, which took 33,000 queries
    and 20 s lot by lot. One UPDATE per reason, one read of their levels and one of the
    locations, one INSERT of the ledger lines (one per level; a lot with no stock anywhere gets
    one line without a location). `reason`: the text, or a function of the lot giving it."""
    if not lots:
        return []
    reason_of = reason if callable(reason) else (lambda lot: reason)
    ids_by_reason: dict[str, list[int]] = defaultdict(list)
    for lot in lots:
        lot.status, lot.status_reason = status, reason_of(lot)
        ids_by_reason[lot.status_reason].append(lot.pk)
    for text, ids in ids_by_reason.items():
        Lot.objects.filter(pk__in=ids).update(status=status, status_reason=text)
    levels = defaultdict(list)  # lot id -> [(location id, vials)], in the levels' order
    for lot_id, location_id, on_hand in (
        StockLevel.objects.filter(lot__in=[lot.pk for lot in lots], on_hand__gt=0)
        .order_by("lot_id", "id")
        .values_list("lot_id", "location_id", "on_hand")
    ):
        levels[lot_id].append((location_id, on_hand))
    locations = StorageLocation.objects.in_bulk(
        {location_id for held in levels.values() for location_id, _ in held}
    )
    movements = []
    for lot in lots:
        common = {
            "lot": lot,
            "kind": kind,
            "effective_date": on,
            "user": user,
            "reason": lot.status_reason,
        }
        movements += [
            StockMovement(location=locations[location_id], quantity=n, **common)
            for location_id, n in levels[lot.pk]
        ] or [StockMovement(location=None, quantity=0, **common)]
    return StockMovement.objects.bulk_create(movements)


def _lot_locked(lot_id) -> Lot:
    return _get(
        Lot, lot_id, "lot_id", Lot.objects.select_for_update().select_related("presentation")
    )


def lots_held_by_excursions(lot_ids) -> set[int]:
    """The lots among `lot_ids` held by an unresolved excursion: one that quarantined them, or
    one at a location where they have vials (e.g. a lot already quarantined by hand when the
    fridge went out of range, which the excursion did not need to quarantine again). One query
    for any number of lots."""
    unresolved = Excursion.objects.filter(resolved_at__isnull=True)
    return set(
        Lot.objects.filter(pk__in=list(lot_ids))
        .filter(
            Exists(unresolved.filter(lots=OuterRef("pk")))
            | Exists(
                StockLevel.objects.filter(
                    lot=OuterRef("pk"),
                    on_hand__gt=0,
                    location_id__in=unresolved.values("location_id"),
                )
            )
        )
        .values_list("pk", flat=True)
    )


def _releasable(lots: list[Lot], *, on) -> list[Lot]:
    """The lots a release may return to use: quarantined, not expired, held by no unresolved
    excursion (what `_release` refuses otherwise)."""
    candidates = [
        lot
        for lot in lots
        if lot.status == LotStatus.QUARANTINED and not is_expired(lot.expiry_date, on)
    ]
    held = lots_held_by_excursions(lot.pk for lot in candidates) if candidates else set()
    return [lot for lot in candidates if lot.pk not in held]


@records("lot.quarantine")
@transaction.atomic
def lot_quarantine(*, lot_id: int, user, on: datetime.date, reason: str) -> list[StockMovement]:
    """Block an available lot everywhere until a pharmacist releases it."""
    reason = _required(reason, "reason")
    lot = _lot_locked(lot_id)
    if lot.status != LotStatus.AVAILABLE:
        _refuse(
            "status",
            _("Only an available lot can be quarantined; this one is %(status)s.")
            % {"status": _status_text(lot)},
        )
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
        _refuse(
            "status",
            _("Only a quarantined lot can be released; this one is %(status)s.")
            % {"status": _status_text(lot)},
        )
    if is_expired(lot.expiry_date, on):
        _refuse(
            "status",
            _("Lot %(lot)s expired on %(day)s.") % {"lot": lot.lot_number, "day": lot.expiry_date},
        )
    if not _releasable([lot], on=on):  # quarantined and unexpired (above): so held
        _refuse("status", _("The lot is held by an unresolved temperature excursion: resolve it."))
    return _set_status(
        lot, status=LotStatus.AVAILABLE, kind=MovementKind.RELEASE, on=on, user=user, reason=reason
    )


@records("lot.release")
@transaction.atomic
def lot_release(*, lot_id: int, user, on: datetime.date, reason: str) -> list[StockMovement]:
    """Return a quarantined lot to use (not when expired or held by an excursion)."""
    reason = _required(reason, "reason")
    return _release(_lot_locked(lot_id), user=user, on=on, reason=reason)


@records("lot.recall")
@transaction.atomic
def lot_recall(*, lot_id: int, user, on: datetime.date, reason: str) -> list[StockMovement]:
    """Recall a lot: unusable everywhere; `selectors.lot_recipients` lists who received it."""
    reason = _required(reason, "reason")
    lot = _lot_locked(lot_id)
    if lot.status in {LotStatus.RECALLED, LotStatus.DESTROYED}:
        _refuse("status", _("The lot is already %(status)s.") % {"status": _status_text(lot)})
    return _set_status(
        lot, status=LotStatus.RECALLED, kind=MovementKind.RECALL, on=on, user=user, reason=reason
    )


def _destroy(lots: list[Lot], *, user, on, reason: str, location_id=None) -> list[StockMovement]:
    """Destroy the (locked) lots' stock, at one location or everywhere, releasing what it held
    for reservations; a lot left with no stock anywhere becomes destroyed. Queries do not grow
    with the lots (an excursion's discard destroys a whole fridge)."""
    ids = [lot.pk for lot in lots]
    filters = Q(lot__in=ids, on_hand__gt=0)
    held_filters = {"lot__in": ids}
    if location_id is not None:
        filters &= Q(location_id=location_id)
        held_filters["location_id"] = location_id
    levels = _locked(StockLevel.objects.filter(filters))
    held = reservations_held(**held_filters)
    _release_held(levels, held, on=on, user=user, reason=f"Lot destroyed: {reason}")
    movements = _moves(
        [
            Line(
                level_id=level.pk,
                lot=level.lot,
                location=level.location,
                kind=MovementKind.DESTRUCTION,
                quantity=level.on_hand,
                on_hand_delta=-level.on_hand,
                reason=reason,
            )
            for level in levels
        ],
        on=on,
        user=user,
    )
    stocked = set(
        StockLevel.objects.filter(lot__in=ids, on_hand__gt=0).values_list("lot_id", flat=True)
    )
    gone = [lot for lot in lots if lot.pk not in stocked]
    for lot in gone:
        lot.status, lot.status_reason = LotStatus.DESTROYED, reason
    if gone:
        Lot.objects.filter(pk__in=[lot.pk for lot in gone]).update(
            status=LotStatus.DESTROYED, status_reason=reason
        )
    return movements


@records("lot.destroy")
@transaction.atomic
def lot_destroy(
    *, lot_id: int, user, on: datetime.date, reason: str, location_id: int | None = None
) -> list[StockMovement]:
    """Destroy a lot's stock (at one location or everywhere), releasing its reservations."""
    reason = _required(reason, "reason")
    lot = _lot_locked(lot_id)
    if location_id is not None:
        _get(StorageLocation, location_id, "location_id")
    return _destroy([lot], user=user, on=on, reason=reason, location_id=location_id)


@records("lot.expire")
@transaction.atomic
def lots_expire(*, on: datetime.date, user=None) -> int:
    """Daily: mark lots past their expiry day as expired (stock stays listed, unusable)."""
    lots = list(
        Lot.objects.select_for_update()
        .filter(status__in=[LotStatus.AVAILABLE, LotStatus.QUARANTINED])
        .exclude(unexpired_q(on))
        .order_by("pk")
    )
    _set_statuses(
        lots,
        status=LotStatus.EXPIRED,
        kind=MovementKind.EXPIRY,
        on=on,
        user=user,
        reason=lambda lot: f"Expired on {lot.expiry_date}.",
    )
    return len(lots)
