"""Reads of stock: lists for the API and admin, stock counts, recall recipients, the forecast."""

import datetime
import itertools
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.query import ModelIterable

from inventory.demand import demand_totals
from inventory.fefo import fefo_days, is_usable
from inventory.gs1 import gs1_parse
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


def reservations_held(**filters) -> dict[tuple[int, int, str], int]:
    """Vials still reserved, per (lot, location, reference), from the ledger.

    The one reading of "what a reference still holds": the stock services release and re-reserve
    from it, and courses asks it which doses hold their vials.
    """
    rows = (
        StockMovement.objects.filter(**filters)
        .exclude(reserved_delta=0)
        .values("lot_id", "location_id", "reference")
        .annotate(held=Sum("reserved_delta"))
        .filter(held__gt=0)
    )
    return {(r["lot_id"], r["location_id"], r["reference"]): r["held"] for r in rows}


def locations_list() -> QuerySet[StorageLocation]:
    return StorageLocation.objects.select_related("ward").order_by("name")


class _LotsWithTotals(ModelIterable):
    """Lots as fetched, each given `on_hand` and `reserved`: its levels' sums, read in one query
    for the lots fetched (a page), not for every lot the list could show."""

    def __iter__(self):
        lots = list(super().__iter__())
        totals = (
            {
                row["lot_id"]: row
                for row in StockLevel.objects.filter(lot_id__in=[lot.pk for lot in lots])
                .order_by()
                .values("lot_id")
                .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
            }
            if lots
            else {}
        )
        for lot in lots:
            row = totals.get(lot.pk, {})
            lot.on_hand, lot.reserved = row.get("on_hand", 0), row.get("reserved", 0)
        yield from lots


def lots_list() -> QuerySet[Lot]:
    """Lots with their presentation and on-hand/reserved totals over every location.

    The totals are summed for the lots fetched, in a second query: a join and GROUP BY summed
    the levels of every lot (100,000) before a page's 100 were picked, and again for the
    paginator's count (0.37 s); correlated subqueries were summed for every row an OFFSET skips.
    """
    lots = Lot.objects.select_related("presentation__product").order_by("expiry_date", "id")
    lots._iterable_class = _LotsWithTotals
    return lots


def expiring_within_q(*, on: datetime.date, days: int, prefix: str = "") -> Q:
    """Available lots whose last usable day falls in [on, on + days] (lot_status_expiry_idx)."""
    return (
        Q(**{f"{prefix}status": LotStatus.AVAILABLE})
        & unexpired_q(on, prefix)
        & Q(**{f"{prefix}expiry_date__lte": on + datetime.timedelta(days=days)})
    )


def lots_expiring_within(*, on: datetime.date, days: int) -> QuerySet:
    """Available lots expiring within `days`, soonest first, as tuples of what an expiry list
    shows: (id, lot_number, expiry_date, presentation_id). A model instance per lot cost as much
    as the query itself, and a dict per row still half as much again (issue 14: ≤ 1.5× the same
    SQL raw); plain tuples come straight from the cursor."""
    return (
        Lot.objects.filter(expiring_within_q(on=on, days=days))
        .values_list("id", "lot_number", "expiry_date", "presentation_id")
        .order_by("expiry_date", "id")
    )


def expiry_alert_lots(
    *,
    on: datetime.date,
    days: int,
    thresholds=(),
    marked: Exists | None = None,
    usable: bool = False,
) -> QuerySet:
    """Lots with stock on hand expiring within `days`, as rows of only what the expiry alert
    shows (id, lot_number, expiry_date, presentation_id, on_hand): whole product and
    presentation rows made the scan sort on disk.

    With `thresholds` (days) each row also has `threshold`, the tightest one its expiry is
    within; with `marked` (which may refer to that annotation), `marked`, whether it matches;
    with `usable`, `usable`: the vials usable on `on` (`usable_q`), what `unused_at_expiry`
    reads, so one scan of the lots serves both.
    """
    lots = Lot.objects.filter(expiring_within_q(on=on, days=days))
    fields = ["id", "lot_number", "expiry_date", "presentation_id"]
    if thresholds:
        tightest = [
            When(expiry_date__lte=on + datetime.timedelta(days=limit), then=Value(limit))
            for limit in sorted(thresholds)
        ]
        lots = lots.annotate(threshold=Case(*tightest, output_field=IntegerField()))
        fields.append("threshold")
    if marked is not None:
        lots = lots.annotate(marked=marked)
        fields.append("marked")
    sums = {"on_hand": Sum("levels__on_hand", default=0)}
    if usable:
        # The lot half of usable_q is expiring_within_q's own (available, not expired on `on`).
        in_range = kept_in_range_q(location="levels__location__", product="presentation__product__")
        sums["usable"] = Sum("levels__on_hand", filter=in_range, default=0)
    return lots.values(*fields).annotate(**sums).filter(on_hand__gt=0).order_by("expiry_date", "id")


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


def unexpired_q(on: datetime.date, prefix: str = "") -> Q:
    """Lots not past their expiry day on `on` (fefo.is_expired in SQL: the day itself is usable)."""
    return Q(**{f"{prefix}expiry_date__gte": on})


def kept_in_range_q(*, location: str, product: str) -> Q:
    """The location half of `usable_q`: an active location within the product's storage range.
    `location` and `product` are the lookup paths to each, ending in "__"."""
    return (
        Q(**{f"{location}active": True})
        & Q(**{f"{location}max_c__lte": F(f"{product}storage_max_c")})
        & (
            Q(**{f"{product}storage_min_c__isnull": True})
            | Q(**{f"{location}min_c__gte": F(f"{product}storage_min_c")})
        )
    )


def usable_q(on: datetime.date, prefix: str = "") -> Q:
    """Stock rows a nurse may give from on `on` (mirrors fefo.is_usable in SQL)."""
    return (
        Q(**{f"{prefix}lot__status": LotStatus.AVAILABLE})
        & unexpired_q(on, f"{prefix}lot__")
        & kept_in_range_q(
            location=f"{prefix}location__", product=f"{prefix}lot__presentation__product__"
        )
    )


def level_usable(level: StockLevel, on: datetime.date) -> bool:
    """`usable_q` for one level already loaded with its lot, product and location."""
    location = level.location
    return is_usable(
        status=level.lot.status,
        expiry_date=level.lot.expiry_date,
        in_range=location.active and location.keeps(level.lot.presentation.product),
        on=on,
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


def _expiring_queues(usable: QuerySet, end: datetime.date) -> tuple[dict, dict]:
    """The usable lots of `usable` (stock levels) expiring before `end`, summed per lot: per
    presentation [[lot id, expiry, vials]] in FEFO order (`fefo_days`' queue, lasting stock to
    be appended), and lot id → lot number. The forecast's and the shortage counter's one read
    of the lots that expire within their period."""
    queues = defaultdict(list)
    lot_numbers = {}
    for presentation_id, lot_id, lot_number, expiry, vials in (
        usable.filter(lot__expiry_date__lt=end)
        .values("lot__presentation_id", "lot_id", "lot__lot_number", "lot__expiry_date")
        .annotate(vials=Sum("on_hand"))
        .order_by("lot__presentation_id", "lot__expiry_date", "lot_id")
        .values_list(
            "lot__presentation_id", "lot_id", "lot__lot_number", "lot__expiry_date", "vials"
        )
    ):
        queues[presentation_id].append([lot_id, expiry, vials])
        lot_numbers[lot_id] = lot_number
    return queues, lot_numbers


def stock_forecast(*, start: datetime.date, days: int, presentation_ids=None) -> dict:
    """Scheduled demand against usable stock for `days` days from `start` (inclusive).

    Simulates FEFO day by day over today's usable stock (status available, stored in range): a
    dose takes the earliest-expiring vials still valid on its date. A day that cannot be covered
    is a shortage; vials of a lot still unused when it expires within the horizon are listed as
    expiring before they can be used. Deliveries not yet received are not counted.
    `presentation_ids`: only those presentations (each is simulated on its own).

    Lots still valid on the period's last day are valid every day of it and FEFO takes them
    after every lot expiring sooner, so they are read as one sum per presentation; only lots
    expiring within the period are read one by one (a whole hospital's stock, 90,000 levels as
    model instances, took 5 s). Four queries.
    """
    end = start + datetime.timedelta(days=days - 1)
    only = None if presentation_ids is None else set(presentation_ids)
    demand = demand_totals(start, end)
    if only is not None:
        demand = defaultdict(dict, {p: by_day for p, by_day in demand.items() if p in only})
    usable = StockLevel.objects.filter(usable_q(start), on_hand__gt=0)
    if only is not None:
        usable = usable.filter(lot__presentation_id__in=only)
    queues, lot_numbers = _expiring_queues(usable, end)
    for presentation_id, vials in (
        usable.filter(lot__expiry_date__gte=end)
        .values("lot__presentation_id")
        .annotate(vials=Sum("on_hand"))
        .order_by()
        .values_list("lot__presentation_id", "vials")
    ):
        queues[presentation_id].append([None, end, vials])  # lasting stock, taken last
    presentation_ids = sorted(set(demand) | set(queues))
    presentations = Presentation.objects.in_bulk(presentation_ids)
    report = []
    for presentation_id in presentation_ids:
        queue = queues[presentation_id]
        by_day = demand.get(presentation_id, {})
        usable_at_start = sum(vials for _, _, vials in queue)
        days_out = []
        by_day_out = []  # every day of the period, for the forecast chart
        shortages = []
        for day, usable_today, needed, short in fefo_days(queue, by_day, start, days):
            by_day_out.append(
                {"date": day, "needed": needed, "usable": usable_today, "short": short}
            )
            if needed or short:
                days_out.append(by_day_out[-1])
            if short:
                shortages.append({"date": day, "needed": needed, "short": short})
        expiring_unused = [
            {
                "lot": lot_id,
                "lot_number": lot_numbers[lot_id],
                "expiry_date": expiry,
                "unused": vials,
            }
            for lot_id, expiry, vials in queue
            if lot_id is not None and vials
        ]
        presentation = presentations.get(presentation_id)
        report.append(
            {
                "presentation": presentation_id,
                "presentation_code": presentation.code if presentation else "",
                "needed": sum(by_day.values()),
                "usable_at_start": usable_at_start,
                "days": days_out,
                "by_day": by_day_out,
                "shortages": shortages,
                "expiring_unused": expiring_unused,
            }
        )
    return {"start": start, "end": end, "presentations": report}


def unused_at_expiry(
    *, start: datetime.date, last_expiry: datetime.date, presentation_ids, usable=None
) -> dict[int, int]:
    """Lot id → vials that `stock_forecast` from `start` leaves unused when the lot expires, for
    the lots of `presentation_ids` expiring by `last_expiry` (lots it uses up are left out).

    FEFO takes a lot only once every lot sorting before it (earlier expiry, then lower id) is
    used up or expired, so what a lot has left at its expiry depends on those lots and on the
    demand up to its expiry day alone: lots expiring later and later demand are never read (the
    forecast simulated every lot of the presentation for every day). One pass per presentation
    over its lots in FEFO order (`fefo.fefo_days`, as the forecast and `presentations_short`).

    `usable`: those lots' usable vials already read, as (presentation id, lot id, expiry, vials)
    for every available lot expiring from `start` to at least `last_expiry` (more is ignored),
    in expiry-then-id order — `expiry_alert_lots(usable=True)` rows — instead of a query here.
    """
    ids = set(presentation_ids)
    if not ids or last_expiry < start:
        return {}
    demand = demand_totals(start, last_expiry)
    if usable is None:
        usable = (
            StockLevel.objects.filter(
                usable_q(start),
                on_hand__gt=0,
                lot__presentation_id__in=ids,
                lot__expiry_date__lte=last_expiry,
            )
            .values("lot__presentation_id", "lot_id", "lot__expiry_date")
            .annotate(vials=Sum("on_hand"))
            .order_by("lot__presentation_id", "lot__expiry_date", "lot_id")
            .values_list("lot__presentation_id", "lot_id", "lot__expiry_date", "vials")
        )
    lots = defaultdict(list)  # presentation -> [lot id, expiry, vials] in FEFO order
    for presentation_id, lot_id, expiry, vials in usable:
        if vials and presentation_id in ids and expiry <= last_expiry:
            lots[presentation_id].append([lot_id, expiry, vials])
    unused = {}
    for presentation_id, queue in lots.items():
        by_day = demand.get(presentation_id, {})
        for _ in fefo_days(queue, by_day, start, (last_expiry - start).days + 1):
            pass
        unused.update({lot_id: vials for lot_id, _, vials in queue if vials})
    return unused


def _union_all(parts: list[QuerySet]):
    """The rows of every sliced queryset in `parts`: one UNION ALL query where the database
    allows LIMIT inside one (PostgreSQL), else one query each (SQLite)."""
    if len(parts) > 1 and connection.features.supports_slicing_ordering_in_compound:
        return parts[0].union(*parts[1:], all=True)
    return itertools.chain.from_iterable(parts)


# Lots per presentation in the first batch of `_vials_lasting`; each further batch is twice
# the last.
LASTING_FIRST_BATCH = 128


def _vials_lasting(
    *, start: datetime.date, end: datetime.date, enough: dict[int, int]
) -> dict[int, int]:
    """Per presentation, usable vials (on `start`) of its lots still valid on `end`, counted in
    first-expiry-first-out order only until `enough[presentation]` are counted or the lots run
    out.

    `presentations_short` passes each presentation's whole demand in the horizon: the days can
    never take more than that from these lots, so any count from there up finds the same
    shortages as the full sum, which at 1,000,000 lots read ~450,000 lots and ~630,000 stock
    levels (0.45 s) for a few thousand vials due. One query per batch for every presentation
    still counting; batches double, so a presentation with less than it needs costs a number
    of batches logarithmic in its lots.
    """
    vials = (
        StockLevel.objects.filter(usable_q(start), lot=OuterRef("pk"), on_hand__gt=0)
        .order_by()
        .values("lot")
        .annotate(vials=Sum("on_hand"))
        .values("vials")
    )
    lots = (
        Lot.objects.filter(unexpired_q(end), status=LotStatus.AVAILABLE)  # status: the index
        .annotate(vials=Subquery(vials))
        .order_by("expiry_date", "id")
        .values_list("presentation_id", "expiry_date", "id", "vials")
    )
    counted = dict.fromkeys(enough, 0)
    pages = {p: lots.filter(presentation_id=p) for p, n in enough.items() if n > 0}
    batch = LASTING_FIRST_BATCH
    while pages:
        read = defaultdict(list)
        for row in _union_all([page[:batch] for page in pages.values()]):
            read[row[0]].append(row)
        following = {}
        for presentation_id in pages:
            rows = read[presentation_id]
            counted[presentation_id] += sum(n or 0 for *_, n in rows)
            if len(rows) == batch and counted[presentation_id] < enough[presentation_id]:
                _, expiry, lot_id, _ = max(rows, key=lambda row: (row[1], row[2]))
                following[presentation_id] = lots.filter(
                    Q(expiry_date__gt=expiry) | Q(expiry_date=expiry, id__gt=lot_id),
                    presentation_id=presentation_id,
                    expiry_date__gte=expiry,
                )
        pages, batch = following, batch * 2
    return counted


def presentations_short(*, start: datetime.date, days: int) -> list[int]:
    """The presentations `stock_forecast` would report short in `days` days from `start`, from
    queries sized by what is due rather than by the whole stock.

    Only presentations with demand in the horizon are read. Lots still valid on the horizon's
    last day are valid every day of it, and FEFO takes them after every lot expiring sooner, so
    one count per presentation stands for them, read only as far as the demand could reach
    (`_vials_lasting`); only lots expiring within the horizon are read one by one (few). Same
    FEFO day by day as the forecast, so the same shortages.
    """
    end = start + datetime.timedelta(days=days - 1)
    demand = demand_totals(start, end)
    if not demand:
        return []
    usable = StockLevel.objects.filter(
        usable_q(start), on_hand__gt=0, lot__presentation_id__in=list(demand)
    )
    queues, _ = _expiring_queues(usable, end)
    lasting = _vials_lasting(
        start=start, end=end, enough={p: sum(by_day.values()) for p, by_day in demand.items()}
    )
    for presentation_id, vials in lasting.items():
        queues[presentation_id].append([None, end, vials])  # lasting stock, taken last
    short = []
    for presentation_id, by_day in demand.items():
        if any(missing for *_, missing in fefo_days(queues[presentation_id], by_day, start, days)):
            short.append(presentation_id)
    return sorted(short)


# --- Dashboard pages (stock, lots, cold chain) -----------------------------------------------


def _level_filters(
    *,
    product_id=None,
    presentation_id=None,
    location_id=None,
    ward_id=None,
    expiring_within_days=None,
    on: datetime.date | None = None,
) -> Q:
    filters = Q(on_hand__gt=0)
    if expiring_within_days is not None:
        # The expiry digest links here to show every lot it could not list.
        filters &= expiring_within_q(on=on, days=expiring_within_days, prefix="lot__")
    if product_id is not None:
        filters &= Q(lot__presentation__product_id=product_id)
    if presentation_id is not None:
        filters &= Q(lot__presentation_id=presentation_id)
    if location_id is not None:
        filters &= Q(location_id=location_id)
    if ward_id is not None:
        filters &= Q(location__ward_id=ward_id)
    return filters


def stock_overview(*, on: datetime.date, expiring_days: int = 30, **filters) -> list[dict]:
    """Per presentation and location: on-hand, reserved, usable on `on`, and vials of lots that
    expire within `expiring_days` (still on hand, whatever their status). Three queries."""
    soon = on + datetime.timedelta(days=expiring_days)
    rows = list(
        StockLevel.objects.filter(_level_filters(on=on, **filters))
        .values("lot__presentation_id", "location_id")
        .annotate(
            on_hand_total=Sum("on_hand"),
            reserved_total=Sum("reserved"),
            usable_total=Sum(
                Case(
                    When(usable_q(on), then=F("on_hand") - F("reserved")),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            ),
            expiring_total=Sum(
                Case(
                    When(lot__expiry_date__lte=soon, then=F("on_hand")),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            ),
        )
    )
    presentations = Presentation.objects.select_related("product").in_bulk(
        {row["lot__presentation_id"] for row in rows}
    )
    locations = StorageLocation.objects.select_related("ward").in_bulk(
        {row["location_id"] for row in rows}
    )
    report = [
        {
            "presentation": presentations[row["lot__presentation_id"]],
            "location": locations[row["location_id"]],
            "on_hand": row["on_hand_total"],
            "reserved": row["reserved_total"],
            "usable": row["usable_total"],
            "expiring_soon": row["expiring_total"],
        }
        for row in rows
    ]
    return sorted(report, key=lambda r: (str(r["presentation"]), r["location"].name))


def stock_levels(*, on: datetime.date | None = None, **filters) -> QuerySet[StockLevel]:
    """Lots on hand per location, earliest expiry first, for the stock page's lot list."""
    return (
        StockLevel.objects.filter(_level_filters(on=on, **filters))
        .select_related("lot__presentation__product", "location__ward")
        .order_by("lot__expiry_date", "lot__lot_number", "location__name")
    )


def lot_detail(*, lot_id: int) -> Lot:
    """A lot with its stock per location and the excursions that held it (raises DoesNotExist)."""
    return (
        Lot.objects.select_related("presentation__product")
        .prefetch_related(
            Prefetch(
                "levels",
                queryset=StockLevel.objects.filter(on_hand__gt=0)
                .select_related("location__ward")
                .order_by("location__name"),
                to_attr="stocked_levels",
            ),
            Prefetch(
                "excursions",
                queryset=Excursion.objects.select_related("location").order_by("-started_at"),
                to_attr="excursion_list",
            ),
        )
        .get(pk=lot_id)
    )


def lot_ledger(*, lot_id: int) -> QuerySet[StockMovement]:
    return movements_list().filter(lot_id=lot_id)


def stored_limits(location_ids=None) -> dict[int, tuple]:
    """Per location, the strictest storage range of the products on hand there: (min, max, names).

    `min` is None when no stored product's label sets a lower limit. One query.
    """
    levels = StockLevel.objects.filter(on_hand__gt=0)
    if location_ids is not None:
        levels = levels.filter(location_id__in=location_ids)
    products = defaultdict(dict)
    # order_by(): the model's default ordering would join the DISTINCT and send every level.
    for row in (
        levels.order_by()
        .values(
            "location_id",
            "lot__presentation__product__name",
            "lot__presentation__product__storage_min_c",
            "lot__presentation__product__storage_max_c",
        )
        .distinct()
    ):
        products[row["location_id"]][row["lot__presentation__product__name"]] = (
            row["lot__presentation__product__storage_min_c"],
            row["lot__presentation__product__storage_max_c"],
        )
    limits = {}
    for location_id, ranges in products.items():
        minimums = [low for low, _ in ranges.values() if low is not None]
        limits[location_id] = (
            max(minimums) if minimums else None,
            min(high for _, high in ranges.values()),
            sorted(ranges),
        )
    return limits


def cold_chain_locations() -> QuerySet[StorageLocation]:
    """Active locations with their latest reading and whether an excursion is running now."""
    latest = TemperatureReading.objects.filter(location=OuterRef("pk")).order_by("-taken_at")
    return (
        StorageLocation.objects.filter(active=True)
        .select_related("ward")
        .annotate(
            last_reading_at=Subquery(latest.values("taken_at")[:1]),
            last_reading_c=Subquery(latest.values("temperature_c")[:1]),
            out_of_range=Exists(
                Excursion.objects.filter(location=OuterRef("pk"), ended_at__isnull=True)
            ),
        )
        .order_by("name")
    )


def reading_points(
    *, location_id: int, start: datetime.datetime, end: datetime.datetime
) -> list[tuple[datetime.datetime, Decimal]]:
    """(taken_at, °C) of a location within [start, end], oldest first, as plain tuples."""
    return list(
        TemperatureReading.objects.filter(
            location_id=location_id, taken_at__gte=start, taken_at__lte=end
        )
        .order_by("taken_at")
        .values_list("taken_at", "temperature_c")
    )


def excursions_between(
    *, location_id: int, start: datetime.datetime, end: datetime.datetime
) -> QuerySet[Excursion]:
    """Excursions of a location overlapping [start, end] (a running one counts up to now)."""
    return Excursion.objects.filter(location_id=location_id, started_at__lte=end).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gte=start)
    )


def excursions_for_review(*, resolved_limit: int = 20) -> tuple[list, list]:
    """Unresolved excursions (oldest first) and the latest resolved ones, each with its first
    EXCURSION_LOTS_LISTED lots (`lots_listed`), how many it holds (`lots_total`) and how many
    are not listed (`lots_more`): one at a pharmacy fridge holds thousands, and the page listed
    every one (1.1 MB, 1.2 s)."""
    listed = Lot.objects.select_related("presentation__product").order_by("pk")
    base = (
        Excursion.objects.select_related("location", "resolved_by")
        .annotate(lots_total=Count("lots"))
        .prefetch_related(
            Prefetch(
                "lots", queryset=listed[: settings.EXCURSION_LOTS_LISTED], to_attr="lots_listed"
            )
        )
    )
    pending = list(base.filter(resolved_at__isnull=True).order_by("started_at", "id"))
    resolved = list(
        base.filter(resolved_at__isnull=False).order_by("-resolved_at")[:resolved_limit]
    )
    for excursion in pending + resolved:
        excursion.lots_more = excursion.lots_total - len(excursion.lots_listed)
    return pending, resolved


def gs1_preview(gs1: str) -> dict | None:
    """What a scan says (GTIN, presentation, lot, dates) and what is on record, or None when
    the code does not parse. For showing the scan next to a refusal; writes nothing."""
    try:
        pack = gs1_parse(gs1)
    except ValidationError:
        return None
    presentation = Presentation.objects.select_related("product").filter(gtin=pack.gtin).first()
    known = None
    if presentation is not None:
        known = Lot.objects.filter(presentation=presentation, lot_number=pack.lot_number).first()
    return {"pack": pack, "presentation": presentation, "known_lot": known}
