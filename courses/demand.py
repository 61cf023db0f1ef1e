"""The courses side of inventory's demand interface (inventory/demand.py, /tmp/interfaces.md).

Inventory's forecast, reservations and shortage alerts ask every registered provider for the
containers needed per presentation per day; this one answers from the scheduled doses of active
courses. Inventory never imports courses: CoursesConfig.ready() registers `scheduled_demand`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection

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


def scheduled_demand_totals(start: dt.date, end: dt.date) -> list[tuple[int, dt.date, int]]:
    """`scheduled_demand` summed per (presentation id, local day): the shortage counter on every
    Today page and the expiry alert's forecast need only these sums, not a line per dose."""
    rows = (
        selectors.doses_due(start=start, end=end)
        .order_by()
        .values_list("scheduled_at", "vials", "course__time_zone")
    )
    if connection.vendor != "postgresql":
        # SQLite (the embedded demo) has no time-zone conversion: the same sums in Python.
        totals: dict[tuple[int, dt.date], int] = {}
        for scheduled_at, vials, time_zone in rows:
            on = local_date(scheduled_at, time_zone)
            for line in vials:
                key = (line["presentation_id"], on)
                totals[key] = totals.get(key, 0) + line["count"]
        return [(presentation_id, on, n) for (presentation_id, on), n in totals.items()]
    # The doses' own query, its vials unnested and summed by the day on the course's clock
    # (AT TIME ZONE of a timestamptz gives the wall-clock time there, as local_date does).
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (v.line ->> 'presentation_id')::bigint, "
            "(d.scheduled_at AT TIME ZONE d.time_zone)::date, SUM((v.line ->> 'count')::bigint) "
            f"FROM ({sql}) AS d (scheduled_at, vials, time_zone) "
            "CROSS JOIN LATERAL jsonb_array_elements(d.vials) AS v (line) GROUP BY 1, 2",
            params,
        )
        return [(presentation_id, on, int(n)) for presentation_id, on, n in cursor.fetchall()]


def register() -> bool:
    try:
        from inventory.demand import demand_provider_register
    except ImportError:
        return False
    demand_provider_register(scheduled_demand, totals=scheduled_demand_totals)
    return True
