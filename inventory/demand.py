"""Scheduled demand for vials, supplied by other apps without inventory importing them.

The courses app registers a provider in its AppConfig.ready(); the forecast asks every
registered provider for the doses due between two dates (both inclusive).
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class DemandLine:
    presentation_id: int
    on: datetime.date
    quantity: int
    reference: str


DemandProvider = Callable[[datetime.date, datetime.date], Iterable[DemandLine]]

_providers: list[DemandProvider] = []


def demand_provider_register(provider: DemandProvider) -> None:
    """Add a provider; registering the same callable twice keeps one (ready() may run twice)."""
    if provider not in _providers:
        _providers.append(provider)


def demand_provider_unregister(provider: DemandProvider) -> None:
    if provider in _providers:
        _providers.remove(provider)


def demand_lines(start: datetime.date, end: datetime.date) -> list[DemandLine]:
    """The union of every provider's lines from `start` to `end` inclusive, in date order."""
    lines = [line for provider in _providers for line in provider(start, end)]
    return sorted(lines, key=lambda line: (line.on, line.presentation_id, line.reference))
