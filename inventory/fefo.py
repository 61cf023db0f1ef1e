"""First-expiry-first-out allocation, as plain Python so it can be property-tested alone."""

import datetime
from collections.abc import Hashable, Iterable
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
