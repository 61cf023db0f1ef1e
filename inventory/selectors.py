"""Reads of stock: lists for the API and admin, stock counts, recall recipients, the forecast."""

import datetime
from collections import defaultdict

from django.db.models import Case, F, IntegerField, Q, QuerySet, Sum, Value, When

from inventory.demand import demand_lines
from inventory.fefo import Candidate, fefo_take
from inventory.models import (
    Excursion,
    Lot,
    LotStatus,
    MovementKind,
    Presentation,
    StockLevel,
    StockMovement,
    StorageLocation,
    TemperatureReading,
)


def locations_list() -> QuerySet[StorageLocation]:
    return StorageLocation.objects.select_related("ward").order_by("name")


def lots_list() -> QuerySet[Lot]:
    """Lots with their presentation and on-hand/reserved totals over every location."""
    return (
        Lot.objects.select_related("presentation__product")
        .annotate(
            on_hand=Sum("levels__on_hand", default=0), reserved=Sum("levels__reserved", default=0)
        )
        .order_by("expiry_date", "id")
    )


def expiring_within_q(*, on: datetime.date, days: int) -> Q:
    """Available lots whose last usable day falls in [on, on + days] (lot_status_expiry_idx)."""
    return Q(
        status=LotStatus.AVAILABLE,
        expiry_date__gte=on,
        expiry_date__lte=on + datetime.timedelta(days=days),
    )


def lots_expiring_within(*, on: datetime.date, days: int) -> QuerySet[Lot]:
    return Lot.objects.filter(expiring_within_q(on=on, days=days)).order_by("expiry_date", "id")


def movements_list() -> QuerySet[StockMovement]:
    return StockMovement.objects.select_related(
        "lot__presentation", "location", "other_location", "user"
    ).order_by("-created_at", "-id")


def readings_list() -> QuerySet[TemperatureReading]:
    return TemperatureReading.objects.select_related("location").order_by("-taken_at", "-id")


def excursions_list() -> QuerySet[Excursion]:
    return (
        Excursion.objects.select_related("location", "resolved_by")
        .prefetch_related("lots")
        .order_by("-started_at", "-id")
    )


def usable_q(on: datetime.date, prefix: str = "") -> Q:
    """Stock rows a nurse may give from on `on` (mirrors fefo.is_usable in SQL)."""
    product = f"{prefix}lot__presentation__product__"
    return (
        Q(**{f"{prefix}lot__status": LotStatus.AVAILABLE})
        & Q(**{f"{prefix}lot__expiry_date__gte": on})
        & Q(**{f"{prefix}location__active": True})
        & Q(**{f"{prefix}location__max_c__lte": F(f"{product}storage_max_c")})
        & (
            Q(**{f"{product}storage_min_c__isnull": True})
            | Q(**{f"{prefix}location__min_c__gte": F(f"{product}storage_min_c")})
        )
    )


def stock_summary(
    *, on: datetime.date, presentation_id: int | None = None, location_id: int | None = None
) -> list[dict]:
    """On-hand, reserved and usable-now vials per presentation and location."""
    levels = StockLevel.objects.filter(on_hand__gt=0)
    if presentation_id is not None:
        levels = levels.filter(lot__presentation_id=presentation_id)
    if location_id is not None:
        levels = levels.filter(location_id=location_id)
    free = F("on_hand") - F("reserved")
    rows = (
        levels.values(
            "lot__presentation_id",
            "lot__presentation__code",
            "location_id",
            "location__code",
        )
        .annotate(
            on_hand_total=Sum("on_hand"),
            reserved_total=Sum("reserved"),
            usable_total=Sum(
                Case(When(usable_q(on), then=free), default=Value(0), output_field=IntegerField())
            ),
        )
        .order_by("lot__presentation__code", "location__code")
    )
    return [
        {
            "presentation": row["lot__presentation_id"],
            "presentation_code": row["lot__presentation__code"],
            "location": row["location_id"],
            "location_code": row["location__code"],
            "on_hand": row["on_hand_total"],
            "reserved": row["reserved_total"],
            "usable": row["usable_total"],
        }
        for row in rows
    ]


def lot_recipients(*, lot_id: int) -> list[dict]:
    """Every dispense of the lot (who received it, under which reference), net of returns."""
    dispensed = StockMovement.objects.filter(
        lot_id=lot_id, kind__in=[MovementKind.DISPENSE, MovementKind.RETURN]
    ).order_by("created_at", "id")
    returned = defaultdict(int)
    lines = []
    for movement in dispensed.select_related("location"):
        if movement.kind == MovementKind.RETURN:
            returned[movement.reference] += movement.quantity
            continue
        lines.append(movement)
    return [
        {
            "movement": m.pk,
            "reference": m.reference,
            "recipient": m.recipient,
            "quantity": m.quantity,
            "returned": returned.get(m.reference, 0) if m.reference else 0,
            "dispensed_on": m.effective_date,
            "dispensed_at": m.created_at,
            "location_code": m.location.code if m.location else "",
        }
        for m in lines
    ]


def ledger_mismatches() -> list[dict]:
    """Stock levels that their movements do not add up to (should always be empty)."""
    sums = {
        (row["lot_id"], row["location_id"]): (row["on_hand"], row["reserved"])
        for row in StockMovement.objects.filter(location__isnull=False)
        .values("lot_id", "location_id")
        .annotate(on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"))
    }
    mismatches = []
    for level in StockLevel.objects.values("lot_id", "location_id", "on_hand", "reserved"):
        key = (level["lot_id"], level["location_id"])
        expected = sums.pop(key, (0, 0))
        if expected != (level["on_hand"], level["reserved"]):
            mismatches.append({**level, "ledger": expected})
    mismatches.extend(
        {"lot_id": k[0], "location_id": k[1], "on_hand": None, "ledger": v}
        for k, v in sums.items()
        if v != (0, 0)
    )
    return mismatches


def stock_forecast(*, start: datetime.date, days: int) -> dict:
    """Scheduled demand against usable stock for `days` days from `start` (inclusive).

    Simulates FEFO day by day over today's usable stock (status available, stored in range): a
    dose takes the earliest-expiring vials still valid on its date. A day that cannot be covered
    is a shortage; vials of a lot still unused when it expires within the horizon are listed as
    expiring before they can be used. Deliveries not yet received are not counted.
    """
    end = start + datetime.timedelta(days=days - 1)
    demand = defaultdict(lambda: defaultdict(int))
    for line in demand_lines(start, end):
        if start <= line.on <= end:
            demand[line.presentation_id][line.on] += line.quantity
    remaining = defaultdict(dict)  # presentation -> lot -> vials
    lots = {}
    levels = StockLevel.objects.filter(usable_q(start), on_hand__gt=0).select_related("lot")
    for level in levels:
        lot = level.lot
        lots[lot.pk] = lot
        pres = remaining[lot.presentation_id]
        pres[lot.pk] = pres.get(lot.pk, 0) + level.on_hand
    presentation_ids = sorted(set(demand) | set(remaining))
    presentations = Presentation.objects.in_bulk(presentation_ids)
    report = []
    for presentation_id in presentation_ids:
        stock = remaining[presentation_id]
        usable_at_start = sum(stock.values())
        days_out = []
        shortages = []
        for offset in range(days):
            day = start + datetime.timedelta(days=offset)
            usable_today = sum(n for lot_id, n in stock.items() if lots[lot_id].expiry_date >= day)
            needed = demand[presentation_id].get(day, 0)
            plan, short = fefo_take(
                [
                    Candidate(key=lot_id, expiry_date=lots[lot_id].expiry_date, available=n)
                    for lot_id, n in stock.items()
                    if lots[lot_id].expiry_date >= day
                ],
                needed,
            )
            for lot_id, take in plan:
                stock[lot_id] -= take
            if needed or short:
                days_out.append(
                    {"date": day, "needed": needed, "usable": usable_today, "short": short}
                )
            if short:
                shortages.append({"date": day, "needed": needed, "short": short})
        expiring_unused = [
            {
                "lot": lot_id,
                "lot_number": lots[lot_id].lot_number,
                "expiry_date": lots[lot_id].expiry_date,
                "unused": n,
            }
            for lot_id, n in sorted(stock.items(), key=lambda kv: (lots[kv[0]].expiry_date, kv[0]))
            if n and lots[lot_id].expiry_date < end
        ]
        presentation = presentations.get(presentation_id)
        report.append(
            {
                "presentation": presentation_id,
                "presentation_code": presentation.code if presentation else "",
                "needed": sum(demand[presentation_id].values()),
                "usable_at_start": usable_at_start,
                "days": days_out,
                "shortages": shortages,
                "expiring_unused": expiring_unused,
            }
        )
    return {"start": start, "end": end, "presentations": report}
