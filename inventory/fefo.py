"""First-expiry-first-out allocation, as plain Python so it can be property-tested alone."""

import datetime
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    """Stock that might be taken: `available` vials of a lot expiring on `expiry_date`."""

    key: Hashable  # comparable, e.g. (lot_id, location_id); breaks ties between equal expiries
    expiry_date: datetime.date
    available: int
    usable: bool = True


def is_expired(expiry_date: datetime.date, on: datetime.date) -> bool:
    """Past its expiry day on `on`. The expiry day itself is still usable ("use before the end
    of"); `inventory.selectors.unexpired_q` is the same rule in SQL."""
    return expiry_date < on


def is_usable(
    *, status: str, expiry_date: datetime.date, in_range: bool, on: datetime.date
) -> bool:
    """A lot may be given on `on` when available, not past its expiry day, and stored in range."""
    return status == "available" and not is_expired(expiry_date, on) and in_range


def fefo_take(
    candidates: Iterable[Candidate], quantity: int
) -> tuple[list[tuple[Hashable, int]], int]:
    """Take up to `quantity` vials, earliest expiry first; returns the plan and what is missing."""
    if quantity < 0:
        raise ValueError("quantity must not be negative")
    plan: list[tuple[Hashable, int]] = []
    remaining = quantity
    ordered = sorted(
        (c for c in candidates if c.usable and c.available > 0),
        key=lambda c: (c.expiry_date, c.key),
    )
    for candidate in ordered:
        if remaining == 0:
            break
        take = min(candidate.available, remaining)
        plan.append((candidate.key, take))
        remaining -= take
    return plan, remaining


def fefo_days(
    queue: list[list], by_day: dict, start: datetime.date, days: int
) -> Iterator[tuple[datetime.date, int, int, int]]:
    """First-expiry-first-out, day by day, over one presentation's stock: yields
    (day, usable that morning, needed, short) for each of `days` days from `start`.

    `queue` holds [key, expiry date, vials] in FEFO order (expiry, then key) and is consumed in
    place: what is left in it is what each lot still holds after the last day walked. A dose
    takes the earliest-expiring vials still valid on its day (`fefo_take`'s order), so the
    lots before the first one with vials left and not expired are never read again: one pass
    over the lots and the days, whatever their number.
    """
    total = sum(vials for _, _, vials in queue)  # vials of lots from `first` on
    first = 0
    for offset in range(days):
        day = start + datetime.timedelta(days=offset)
        # Lots that expired last night keep what they had (their unused figure).
        while first < len(queue) and (not queue[first][2] or is_expired(queue[first][1], day)):
            total -= queue[first][2]
            first += 1
        usable = total
        needed = remaining = by_day.get(day, 0)
        index = first
        while remaining and index < len(queue):
            take = min(queue[index][2], remaining)
            queue[index][2] -= take
            remaining -= take
            index += 1
        total -= needed - remaining
        yield day, usable, needed, remaining
