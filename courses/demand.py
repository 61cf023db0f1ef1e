"""The courses side of inventory's demand interface (inventory/demand.py, /tmp/interfaces.md).

Inventory's forecast, reservations and shortage alerts ask every registered provider for the
containers needed per presentation per day; this one answers from the scheduled doses of active
courses. Inventory never imports courses: CoursesConfig.ready() registers `scheduled_demand`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from courses import selectors, stock
from courses.schedule import local_date

try:
    from inventory.demand import DemandLine
except ImportError:  # inventory without its demand module yet: same shape, defined here

    @dataclass(frozen=True)
    class DemandLine:  # type: ignore[no-redef]
        presentation_id: int
        on: dt.date
        quantity: int
        reference: str


def scheduled_demand(start: dt.date, end: dt.date) -> list[DemandLine]:
    """One line per container kind per scheduled dose from `start` to `end` (inclusive)."""
    # Plain rows of the four columns used: whole dose objects cost most of the shortage counter.
    rows = selectors.doses_due(start=start, end=end).values_list(
        "id", "scheduled_at", "vials", "course__time_zone"
    )
    return [
        DemandLine(
            presentation_id=line["presentation_id"],
            on=local_date(scheduled_at, time_zone),
            quantity=line["count"],
            reference=stock.dose_reference(dose_id),
        )
        for dose_id, scheduled_at, vials, time_zone in rows
        for line in vials
    ]


def register() -> bool:
    try:
        from inventory.demand import demand_provider_register
    except ImportError:
        return False
    demand_provider_register(scheduled_demand)
    return True
