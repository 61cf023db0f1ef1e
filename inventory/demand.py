"""Scheduled demand for vials, supplied by other apps without inventory importing them.

The courses app registers a provider in its AppConfig.ready(); the forecast asks every
registered provider for the doses due between two dates (both inclusive).
"""

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class DemandLine:
    presentation_id: int
    on: datetime.date
    quantity: int
    reference: str


DemandProvider = Callable[[datetime.date, datetime.date], Iterable[DemandLine]]
# The same demand summed per (presentation id, day): (presentation_id, on, quantity) rows.
DemandTotals = Callable[[datetime.date, datetime.date], Iterable[tuple[int, datetime.date, int]]]

# provider -> its totals function, or None (then its lines are summed here).
_providers: dict[DemandProvider, DemandTotals | None] = {}


def demand_provider_register(provider: DemandProvider, *, totals: DemandTotals | None = None):
    """Add a provider; registering the same callable twice keeps one (ready() may run twice).

    `totals`, when given, answers the same demand already summed per presentation and day (one
    aggregate query instead of a line per dose): the forecast and the counters need only that.
    """
    _providers[provider] = totals


def demand_provider_unregister(provider: DemandProvider) -> None:
    _providers.pop(provider, None)


def demand_lines(start: datetime.date, end: datetime.date) -> list[DemandLine]:
    """The union of every provider's lines from `start` to `end` inclusive, in date order."""
    lines = [line for provider in _providers for line in provider(start, end)]
    return sorted(lines, key=lambda line: (line.on, line.presentation_id, line.reference))


def demand_totals(start: datetime.date, end: datetime.date) -> dict[int, dict[datetime.date, int]]:
    """Containers needed per presentation per day from `start` to `end` inclusive: the sum of
    `demand_lines` by presentation and day, without a Python object per dose."""
    totals: dict[int, dict[datetime.date, int]] = defaultdict(lambda: defaultdict(int))
    for provider, summed in _providers.items():
        rows = (
            summed(start, end)
            if summed is not None
            else ((line.presentation_id, line.on, line.quantity) for line in provider(start, end))
        )
        for presentation_id, on, quantity in rows:
            # A provider may read a wider window (its own time zones): keep the asked days.
            if start <= on <= end:
                totals[presentation_id][on] += quantity
    return totals
