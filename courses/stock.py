"""The one place courses talks to inventory's stock services (/tmp/interfaces.md).

Inventory's `stock_dispense`, `stock_reserve` and `reservation_release` may be absent (the
inventory app is built in parallel, and a deployment may run courses alone). Then a dose is still
recorded, with the scanned lot id/number noted on it, but no stock moves: `dispensed` stays False
so the pharmacy can reconcile later. When they are present, their refusals (insufficient stock, an
expired or recalled lot) propagate as ValidationError and the dose is not recorded.
"""

from __future__ import annotations

import datetime as dt


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


def dose_reference(dose_id: int) -> str:
    return f"dose:{dose_id}"


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
        )
    return True


def release(*, dose_ids, user=None, reason: str = "") -> int:
    reservation_release = _function("reservation_release")
    if reservation_release is None:
        return 0
    return sum(
        reservation_release(reference=dose_reference(dose_id), user=user, reason=reason)
        for dose_id in dose_ids
    )
