"""Lot status: quarantine, release, recall, destroy, expire."""

import datetime

from django.db import transaction
from django.db.models import Q
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

from .ledger import _get, _locked, _move, _refuse, _required, _status_text
from .reservations import _release_held

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
    if _unresolved_excursions(lot).exists():
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


def _destroy(lot: Lot, *, user, on, reason: str, location_id=None) -> list[StockMovement]:
    filters = Q(lot=lot, on_hand__gt=0)
    if location_id is not None:
        filters &= Q(location_id=location_id)
    levels = _locked(StockLevel.objects.filter(filters))
    held = reservations_held(lot=lot, **({"location_id": location_id} if location_id else {}))
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
    return _destroy(lot, user=user, on=on, reason=reason, location_id=location_id)


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
