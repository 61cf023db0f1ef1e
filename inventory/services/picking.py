"""First-expiry-first-out picking that locks only the stock levels it takes, one statement each.

Locking every level of a presentation (thousands of rows in a large hospital) serialised every
dispense of it hospital-wide; reading candidates, locking them, re-reading them, updating the
level and writing the ledger line then cost five round trips, the row lock held through most of
them. Here one statement (PostgreSQL, a data-modifying CTE) reads the first-expiry candidates,
locks the first one no other transaction holds (`FOR UPDATE … SKIP LOCKED`), takes what it needs
from it and writes its ledger line: the lock is held for that round trip and the commit.

The contract:
- Usable means `selectors.usable_q` on the dose's day, compiled by the ORM into the statement: the
  rule keeps its one home. The vials taken are computed from the row as locked (its newest
  version), so no vial is taken twice; the check constraints on StockLevel stay the last line of
  defence.
- First-expiry-first-out: with no other dispense under way, exactly. A level another transaction
  is taking from at that instant is passed over for the next one rather than queued behind (the
  other may leave none); the next dispense goes back to it.
- Never refused while stock remains: when every candidate is held by others, it waits for the
  first one, then picks again with a fresh snapshot (which also sees a lot quarantined during the
  wait). Deadlock-free: every row a pick locks is one it returns (the locking step has no
  condition that a newer row version could fail, so PostgreSQL never keeps an unreported lock),
  and it waits only for a row above every row it holds (increasing primary-key order, as
  `ledger._locked`); candidates below are retried briefly.
- On SQLite (one writer at a time) the same loop runs through the ORM without locks.
"""

import datetime
import functools
import time
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, QuerySet
from django.utils import timezone

from inventory.models import Lot, StockLevel, StockMovement, StorageLocation
from inventory.selectors import usable_q

from .ledger import _locked, _move

# First-expiry candidates one pick considers: more than can be locked by others at once in
# practice (a level is held for one dispense's commit).
CANDIDATES = 64
# Retries, with a growing pause, for candidates held by others below the rows already held,
# before refusing: their holders are short dispenses that may leave vials behind.
SKIPPED_RETRIES = 20


@dataclass(frozen=True)
class Move:
    """What a take does to a level per vial (+1, -1 or 0), and the ledger line it writes (with
    `kind`; without, the caller writes the lines)."""

    on_hand: int
    reserved: int
    kind: str = ""
    reference: str = ""
    recipient: str = ""
    reason: str = ""


@dataclass(frozen=True)
class Taken:
    """Vials taken from one level by one pick, and its ledger line if the pick wrote it."""

    level_id: int
    quantity: int
    lot: Lot
    location: StorageLocation
    movement: StockMovement | None = None


def candidates(
    *, presentation_id: int, on: datetime.date, location_id=None, lot_id=None
) -> QuerySet[StockLevel]:
    """Usable levels with free vials, first expiry first."""
    levels = StockLevel.objects.filter(
        usable_q(on), lot__presentation_id=presentation_id, on_hand__gt=F("reserved")
    )
    if location_id is not None:
        levels = levels.filter(location_id=location_id)
    if lot_id is not None:
        levels = levels.filter(lot_id=lot_id)
    return levels.order_by("lot__expiry_date", "pk")


# Stand-ins compiled into the cached SQL and replaced by each call's values (never real values:
# ids are positive, and a movement date is never before 1900).
_PRESENTATION, _LOCATION, _LOT = -9001, -9002, -9003
_ON = datetime.date(1, 1, 1)


@functools.cache
def _candidates_sql(*, by_location: bool, by_lot: bool) -> tuple[str, tuple]:
    """The first CANDIDATES candidates (id, expiry date) as SQL with stand-in parameters,
    compiled once per shape: compiling the ORM query took longer than running it."""
    levels = candidates(
        presentation_id=_PRESENTATION,
        on=_ON,
        location_id=_LOCATION if by_location else None,
        lot_id=_LOT if by_lot else None,
    )
    return levels.values_list("pk", "lot__expiry_date")[:CANDIDATES].query.sql_with_params()


def _candidates(*, presentation_id, on, location_id, lot_id) -> tuple[str, list]:
    sql, params = _candidates_sql(by_location=location_id is not None, by_lot=lot_id is not None)
    values = {_PRESENTATION: presentation_id, _LOCATION: location_id, _LOT: lot_id, _ON: on}
    return sql, [values.get(param, param) for param in params]


# The first candidate, locked: skipping those others hold (a take), or waiting for the first one
# above `%s` (a wait). Joined to the candidates on the id alone, so the lock's recheck of a newer
# row version cannot fail and leave a row locked that the statement does not return.
_LOCK_SQL = """
WITH candidate (id, expiry_date) AS ({candidates}),
locked AS (
    SELECT sl.id, sl.on_hand - sl.reserved AS free
    FROM inventory_stocklevel AS sl JOIN candidate ON candidate.id = sl.id{above}
    ORDER BY candidate.expiry_date, sl.id
    LIMIT 1
    FOR UPDATE OF sl{skip}
)"""

# A take: the lock, the vials taken from the level and (with `line`) its ledger line, in one
# statement. The level comes back with no take when its last vials went before the lock.
_TAKE_SQL = """{lock},
pick AS (
    SELECT id, LEAST(free, %s) AS take FROM locked
),
level AS (
    UPDATE inventory_stocklevel AS sl
    SET on_hand = sl.on_hand + pick.take * %s, reserved = sl.reserved + pick.take * %s,
        updated_at = %s
    FROM pick WHERE sl.id = pick.id AND pick.take > 0
    RETURNING sl.id, sl.lot_id, sl.location_id, pick.take
){line}
SELECT pick.id, level.take, level.lot_id, lot.lot_number, lot.expiry_date,
       lot.presentation_id, level.location_id, location.code, location.name{line_id}
FROM pick
LEFT JOIN level ON level.id = pick.id
LEFT JOIN inventory_lot AS lot ON lot.id = level.lot_id
LEFT JOIN inventory_storagelocation AS location ON location.id = level.location_id{line_join}
"""
_LINE_SQL = """,
line AS (
    INSERT INTO inventory_stockmovement (lot_id, location_id, kind, quantity, on_hand_delta,
        reserved_delta, effective_date, reference, recipient, reason, user_id, created_at)
    SELECT lot_id, location_id, %s, take, take * %s, take * %s, %s, %s, %s, %s, %s, %s
    FROM level
    RETURNING id
)"""


@functools.cache
def _statement(*, candidates: str, take: bool, line: bool) -> str:
    """The SQL of a take (skipping locked candidates) or, without `take`, of a wait."""
    if not take:
        lock = _LOCK_SQL.format(candidates=candidates, above=" WHERE sl.id > %s", skip="")
        return lock + "\nSELECT id FROM locked"
    return _TAKE_SQL.format(
        lock=_LOCK_SQL.format(candidates=candidates, above="", skip=" SKIP LOCKED"),
        line=_LINE_SQL if line else "",
        line_id=", line.id" if line else "",
        line_join=" LEFT JOIN line ON TRUE" if line else "",
    )


def _loaded(model, **values):
    """A model instance as read from the database with these columns (the rest deferred)."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(connection.alias, names, [values[name] for name in names])


def _take_first(*, quantity: int, move: Move, on, user, where: dict) -> tuple[int, Taken | None]:
    """Lock the first candidate no one else holds and take up to `quantity` vials from it, in one
    statement: (the locked level's id or 0, what was taken or None)."""
    sql, params = _candidates(on=on, **where)
    now = timezone.now()
    user_id = user.pk if user is not None else None
    params = [*params, quantity, move.on_hand, move.reserved, now]
    if move.kind:
        params += [move.kind, move.on_hand, move.reserved, on, move.reference, move.recipient]
        params += [move.reason, user_id, now]
    with connection.cursor() as cursor:
        cursor.execute(_statement(candidates=sql, take=True, line=bool(move.kind)), params)
        row = cursor.fetchone()
    if row is None:
        return 0, None
    level_id, take, lot_id, lot_number, expiry_date, presentation_id = row[:6]
    if not take:
        return level_id, None
    location_id, code, name = row[6:9]
    lot = _loaded(
        Lot,
        id=lot_id,
        lot_number=lot_number,
        expiry_date=expiry_date,
        presentation_id=presentation_id,
    )
    location = _loaded(StorageLocation, id=location_id, code=code, name=name)
    movement = None
    if move.kind:
        movement = _loaded(
            StockMovement,
            id=row[9],
            lot_id=lot_id,
            location_id=location_id,
            other_location_id=None,
            kind=move.kind,
            quantity=take,
            on_hand_delta=take * move.on_hand,
            reserved_delta=take * move.reserved,
            effective_date=on,
            reference=move.reference,
            recipient=move.recipient,
            reason=move.reason,
            user_id=user_id,
            created_at=now,
        )
        movement.lot, movement.location = lot, location
        if user is not None:
            movement.user = user
    return level_id, Taken(
        level_id=level_id, quantity=take, lot=lot, location=location, movement=movement
    )


def _wait_first(*, above: int, on, where: dict) -> int:
    """Lock the first candidate above `above`, waiting for its holder; its id, or 0."""
    sql, params = _candidates(on=on, **where)
    with connection.cursor() as cursor:
        cursor.execute(_statement(candidates=sql, take=False, line=False), [*params, above])
        row = cursor.fetchone()
    return row[0] if row else 0


def fefo_take(
    *,
    presentation_id: int,
    on: datetime.date,
    quantity: int,
    move: Move,
    user=None,
    location_id: int | None = None,
    lot_id: int | None = None,
    holding=(),
) -> tuple[list[Taken], int]:
    """Take `quantity` vials first expiry first, a level at a time; returns what was taken (in
    that order) and how many vials were missing.

    `holding`: ids of levels this transaction has locked already (they are candidates like any
    other; only rows above them are ever waited for).
    """
    where = {"presentation_id": presentation_id, "location_id": location_id, "lot_id": lot_id}
    if connection.vendor != "postgresql":
        return _take_unlocked(quantity=quantity, move=move, on=on, user=user, where=where)
    taken: list[Taken] = []
    remaining = quantity
    above = max(holding, default=0)
    retries = 0
    while remaining:
        locked, take = _take_first(quantity=remaining, move=move, on=on, user=user, where=where)
        above = max(above, locked)
        if take is not None:
            taken.append(take)
            remaining -= take.quantity
            continue
        if locked:
            continue  # its last vials went just before the lock: pick again
        # Every candidate is held by another transaction, or there is none.
        waited = _wait_first(above=above, on=on, where=where)
        if waited:
            above = waited
            continue
        if not candidates(on=on, **where).exists() or retries >= SKIPPED_RETRIES:
            break
        retries += 1
        time.sleep(0.005 * retries)
    return taken, remaining


def _take_unlocked(*, quantity: int, move: Move, on, user, where: dict):
    """The same takes through the ORM, where writers run one at a time (SQLite)."""
    taken: list[Taken] = []
    remaining = quantity
    # Each candidate has a free vial: `quantity` of them are enough.
    for pk in candidates(on=on, **where).values_list("pk", flat=True)[:quantity]:
        if not remaining:
            break
        level = _locked(StockLevel.objects.filter(pk=pk))[0]
        take = min(level.free, remaining)
        movement = None
        if move.kind:
            movement = _move(
                level,
                kind=move.kind,
                quantity=take,
                on_hand_delta=take * move.on_hand,
                reserved_delta=take * move.reserved,
                on=on,
                user=user,
                reference=move.reference,
                recipient=move.recipient,
                reason=move.reason,
            )
        else:
            StockLevel.objects.filter(pk=pk).update(
                on_hand=F("on_hand") + take * move.on_hand,
                reserved=F("reserved") + take * move.reserved,
                updated_at=timezone.now(),
            )
        taken.append(
            Taken(
                level_id=pk,
                quantity=take,
                lot=level.lot,
                location=level.location,
                movement=movement,
            )
        )
        remaining -= take
    return taken, remaining
