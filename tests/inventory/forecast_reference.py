"""The stock forecast as it was first written: every usable lot loaded and FEFO (`fefo_take`)
re-run over all of them each day. Kept as the oracle `selectors.stock_forecast` is checked
against (it now reads lots expiring within the period one by one and the rest as one sum, and
walks them once): too slow for a hospital's stock, plain enough to trust."""

import datetime
from collections import defaultdict

from inventory.demand import demand_totals
from inventory.fefo import Candidate, fefo_take, is_expired
from inventory.models import Presentation, StockLevel
from inventory.selectors import usable_q


def stock_forecast_reference(*, start: datetime.date, days: int, presentation_ids=None) -> dict:
    end = start + datetime.timedelta(days=days - 1)
    only = None if presentation_ids is None else set(presentation_ids)
    demand = demand_totals(start, end)
    if only is not None:
        demand = defaultdict(dict, {p: by_day for p, by_day in demand.items() if p in only})
    remaining = defaultdict(dict)  # presentation -> lot -> vials
    lots = {}
    levels = StockLevel.objects.filter(usable_q(start), on_hand__gt=0).select_related("lot")
    if only is not None:
        levels = levels.filter(lot__presentation_id__in=only)
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
        days_out, by_day, shortages = [], [], []
        for offset in range(days):
            day = start + datetime.timedelta(days=offset)
            valid = {
                lot_id: n
                for lot_id, n in stock.items()
                if not is_expired(lots[lot_id].expiry_date, day)
            }
            needed = demand[presentation_id].get(day, 0)
            plan, short = fefo_take(
                [
                    Candidate(key=lot_id, expiry_date=lots[lot_id].expiry_date, available=n)
                    for lot_id, n in valid.items()
                ],
                needed,
            )
            for lot_id, take in plan:
                stock[lot_id] -= take
            by_day.append(
                {"date": day, "needed": needed, "usable": sum(valid.values()), "short": short}
            )
            if needed or short:
                days_out.append(by_day[-1])
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
                "by_day": by_day,
                "shortages": shortages,
                "expiring_unused": expiring_unused,
            }
        )
    return {"start": start, "end": end, "presentations": report}
