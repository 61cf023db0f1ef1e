"""The expiry alert's "unused at expiry" figures, now computed for the listed lots only
(`selectors.unused_at_expiry`), against what the whole forecast reported before."""

import datetime

import pytest
from django.conf import settings
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from config.roles import Role
from inventory import alerts, selectors
from inventory.demand import DemandLine
from inventory.models import LotStatus, StockLevel
from tests.factories import LotFactory, PresentationFactory, StorageLocationFactory, UserFactory
from tests.inventory import test_forecast
from tests.inventory.forecast_reference import stock_forecast_reference

demand = test_forecast.demand  # the forecast tests' fixture: registered scheduled demand lines

pytestmark = pytest.mark.django_db

START = datetime.date(2026, 6, 1)


def forecast_unused(*, on, last_expiry, presentation_ids) -> dict[int, int]:
    """The figures as the alert read them before: the whole forecast run one day past the last
    expiry for the listed lots' presentations, its "expiring before use" lines."""
    forecast = stock_forecast_reference(
        start=on, days=(last_expiry - on).days + 2, presentation_ids=presentation_ids
    )
    return {
        line["lot"]: line["unused"]
        for row in forecast["presentations"]
        for line in row["expiring_unused"]
    }


def expected_rows(on) -> list[tuple]:
    """The digest's lines as the alert built them before (every lot new: no markers yet)."""
    thresholds = settings.EXPIRY_ALERT_DAYS
    lots = list(selectors.expiry_alert_lots(on=on, days=max(thresholds)))
    if not lots:
        return []
    unused = forecast_unused(
        on=on,
        last_expiry=max(lot["expiry_date"] for lot in lots),
        presentation_ids={lot["presentation_id"] for lot in lots},
    )
    rows = []
    for lot in lots:
        days_left = (lot["expiry_date"] - on).days
        threshold = min(days for days in thresholds if days_left <= days)
        n = unused.get(lot["id"], 0)
        rows.append(
            (lot["lot_number"], threshold, days_left, lot["on_hand"], n, n >= lot["on_hand"])
        )
    return rows


class _Rollback(Exception):
    pass


LAYOUT = dict(
    lots=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=1),  # which presentation
            st.integers(min_value=-1, max_value=100),  # expiry, days from start
            st.lists(  # (location, vials): 0 and 1 in range, 2 too warm, 3 inactive
                st.tuples(st.integers(0, 3), st.integers(0, 5)), min_size=1, max_size=3
            ),
            st.sampled_from([LotStatus.AVAILABLE] * 4 + [LotStatus.QUARANTINED]),
        ),
        max_size=8,
    ),
    doses=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=2),  # presentation 2 has no stock at all
            st.integers(min_value=-2, max_value=100),  # day (before start: not counted)
            st.integers(min_value=1, max_value=4),  # vials
        ),
        max_size=12,
    ),
)


def _layout(lots, doses, demand_lines_list) -> list:
    locations = [
        StorageLocationFactory(),
        StorageLocationFactory(),
        StorageLocationFactory(min_c=15, max_c=25),
        StorageLocationFactory(active=False),
    ]
    presentations = [
        PresentationFactory(code=f"ceruloplasmin-{100 * (i + 1)}mg-vial-5") for i in range(3)
    ]
    for n, (which, expiry, stock, status) in enumerate(lots):
        lot = LotFactory(
            presentation=presentations[which],
            lot_number=f"L{n}",
            expiry_date=START + datetime.timedelta(days=expiry),
            status=status,
        )
        for where, vials in dict(stock).items():
            StockLevel.objects.create(lot=lot, location=locations[where], on_hand=vials)
    demand_lines_list.clear()
    demand_lines_list.extend(
        DemandLine(
            presentation_id=presentations[which].pk,
            on=START + datetime.timedelta(days=day),
            quantity=vials,
            reference=f"d:{n}",
        )
        for n, (which, day, vials) in enumerate(doses)
    )
    return presentations


@hyp_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(**LAYOUT, horizon=st.integers(min_value=0, max_value=100))
def test_unused_at_expiry_equals_the_forecast(demand, db, lots, doses, horizon):
    try:
        with transaction.atomic():
            presentations = _layout(lots, doses, demand)
            ids = {p.pk for p in presentations}
            last = START + datetime.timedelta(days=horizon)
            assert selectors.unused_at_expiry(
                start=START, last_expiry=last, presentation_ids=ids
            ) == forecast_unused(on=START, last_expiry=last, presentation_ids=ids)
            raise _Rollback
    except _Rollback:
        pass


@hyp_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(**LAYOUT)
def test_expiry_alert_lists_what_it_listed_before(demand, db, lots, doses):
    """Same lots, thresholds and unused figures as the forecast-based alert; lots with vials
    left unused come first (the digest's order), each group soonest to expire first."""
    try:
        with transaction.atomic():
            UserFactory(roles=[Role.PHARMACIST])
            _layout(lots, doses, demand)
            expected = expected_rows(START)
            alert = alerts.expiry_alerts_enqueue(on=START)
            if not expected:
                assert alert is None
            else:
                assert [
                    (
                        row["lot_number"],
                        row["threshold_days"],
                        row["days_left"],
                        row["on_hand"],
                        row["unused"],
                        row["no_use"],
                    )
                    for row in alert.context["lots"]
                ] == sorted(expected, key=lambda row: not row[4])
                assert alert.context["total"] == len(expected)
                assert alert.context["unused_lots"] == sum(1 for row in expected if row[4])
                assert {row["days"]: row["lots"] for row in alert.context["thresholds"]} == {
                    days: sum(1 for row in expected if row[1] == days)
                    for days in {row[1] for row in expected}
                }
            raise _Rollback
    except _Rollback:
        pass


def test_expiry_alert_queries_do_not_grow_with_lots(
    demand, receive, cerulo, fridge, pharmacist, today, settings, django_assert_max_num_queries
):
    settings.EXPIRY_ALERT_LIST_LIMIT = 5  # the second run counts more lots than it lists

    def run(n):
        for i in range(n):
            receive(cerulo, fridge, 2, lot_number=f"N{n}-{i}", expiry_days=5 + i)
        demand.append(DemandLine(presentation_id=cerulo.pk, on=today, quantity=1, reference="d"))
        # Lots, markers, demand, unused stock, presentations, recipients, the digest, markers.
        with django_assert_max_num_queries(12):
            assert alerts.expiry_alerts_enqueue(on=today + datetime.timedelta(days=n)) is not None

    run(2)
    run(20)
