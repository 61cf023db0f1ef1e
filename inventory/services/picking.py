"""Locking only the stock levels a dispense or reservation takes.

Locking every level of a presentation (thousands of rows in a large hospital) serialised every
dispense of it hospital-wide. Instead: read first-expiry-first-out candidates without a lock,
lock just those, re-check them under the lock, and read more only if a candidate was taken
meanwhile.
"""

import datetime
import time
from collections.abc import Callable

from django.db.models import F

from inventory.models import StockLevel
from inventory.selectors import level_usable, usable_q

# Candidates read per round: a dose takes one or two vials, usually from the first level.
CANDIDATES_PER_ROUND = 8
# A skipped (locked) candidate is retried this many times, briefly, before refusing: its holder
# is a short dispense that may leave vials behind.
SKIPPED_RETRIES = 20


def _lock(pks, *, skip_locked: bool) -> list[StockLevel]:
    return list(
        StockLevel.objects.filter(pk__in=pks)
        .select_related("lot__presentation__product", "location")
        .order_by("pk")
        .select_for_update(of=("self",), skip_locked=skip_locked)
    )


def lock_fefo(
    *,
    presentation_id: int,
    on: datetime.date,
    shortfall: Callable[[list[StockLevel]], int],
    location_id: int | None = None,
    lot_id: int | None = None,
    first_pks=(),
) -> list[StockLevel]:
    """Lock usable levels, earliest expiry first, until `shortfall(usable locked levels)` is 0
    or no candidate is left; returns the usable locked levels (fresh, with lot, product and
    location loaded).

    `first_pks` (levels holding a reservation to be used) are locked in the first round too.
    Deadlock-free: a round waits only for rows whose pk is above every row already held (the
    first round locks in pk order); a lower-pk candidate held by another transaction is skipped
    (SKIP LOCKED) rather than waited for, and retried briefly if nothing else is left.
    """
    candidates = StockLevel.objects.filter(
        usable_q(on), lot__presentation_id=presentation_id, on_hand__gt=F("reserved")
    )
    if location_id is not None:
        candidates = candidates.filter(location_id=location_id)
    if lot_id is not None:
        candidates = candidates.filter(lot_id=lot_id)
    candidates = candidates.order_by("lot__expiry_date", "pk")
    locked: dict[int, StockLevel] = {}
    tried: set[int] = set()
    pending = set(first_pks)
    skipped: set[int] = set()
    retries = 0
    while True:
        usable = [level for level in locked.values() if level_usable(level, on)]
        missing = shortfall(usable)
        if not missing and not pending:
            return usable
        chosen = set(pending)
        pending = set()
        if missing:
            free_seen = 0
            for pk, on_hand, reserved in candidates.exclude(pk__in=tried).values_list(
                "pk", "on_hand", "reserved"
            )[:CANDIDATES_PER_ROUND]:
                chosen.add(pk)
                free_seen += on_hand - reserved
                if free_seen >= missing:
                    break
        chosen -= tried
        if not chosen:
            if not (missing and skipped) or retries >= SKIPPED_RETRIES:
                return usable
            retries += 1
            time.sleep(0.005 * retries)
            tried -= skipped
            skipped = set()
            continue
        tried |= chosen
        highest = max(locked, default=0)
        above = [pk for pk in chosen if pk > highest]
        below = [pk for pk in chosen if pk <= highest]
        taken_below = _lock(below, skip_locked=True)
        skipped |= set(below) - {level.pk for level in taken_below}
        for level in _lock(above, skip_locked=False) + taken_below:
            locked[level.pk] = level
