import datetime
from unittest import mock

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from inventory import selectors, services
from inventory.demand import (
    DemandLine,
    demand_lines,
    demand_provider_register,
    demand_provider_unregister,
)
from inventory.models import LotStatus, StockLevel
from tests.factories import LotFactory, PresentationFactory, StorageLocationFactory
from tests.inventory.forecast_reference import stock_forecast_reference

pytestmark = pytest.mark.django_db


@pytest.fixture
def demand():
    lines: list[DemandLine] = []

    def provider(start, end):
        return [line for line in lines if start <= line.on <= end]

    demand_provider_register(provider)
    demand_provider_register(provider)  # registering twice keeps one
    yield lines
    demand_provider_unregister(provider)


def test_demand_lines_union_in_date_order(demand, today):
    later = DemandLine(
        presentation_id=1, on=today + datetime.timedelta(days=2), quantity=1, reference="dose:2"
    )
    sooner = DemandLine(presentation_id=1, on=today, quantity=2, reference="dose:1")
    demand.extend([later, sooner])
    assert demand_lines(today, today + datetime.timedelta(days=5)) == [sooner, later]
    assert demand_lines(today, today) == [sooner]


def test_forecast_shortage_and_lot_expiring_before_use(
    demand, receive, cerulo, fridge, pharmacist, today, django_assert_max_num_queries
):
    early = receive(cerulo, fridge, 4, lot_number="EARLY", expiry_days=3)
    receive(cerulo, fridge, 2, lot_number="LATE", expiry_days=100)
    quarantined = receive(cerulo, fridge, 10, lot_number="Q", expiry_days=100)
    services.lot_quarantine(lot_id=quarantined.pk, user=pharmacist, on=today, reason="QA")
    day = lambda n: today + datetime.timedelta(days=n)  # noqa: E731
    demand.extend(
        DemandLine(presentation_id=cerulo.pk, on=day(n), quantity=1, reference=f"dose:{n}")
        for n in (1, 5, 6, 7)
    )
    with django_assert_max_num_queries(4):
        report = selectors.stock_forecast(start=today, days=10)
    (row,) = report["presentations"]
    assert (row["needed"], row["usable_at_start"]) == (4, 6)
    # EARLY covers day 1 and then expires with 3 vials unused; LATE covers days 5 and 6.
    assert row["expiring_unused"] == [
        {"lot": early.pk, "lot_number": "EARLY", "expiry_date": day(3), "unused": 3}
    ]
    assert row["shortages"] == [{"date": day(7), "needed": 1, "short": 1}]
    assert [d["usable"] for d in row["days"]] == [6, 2, 1, 0]


class _Rollback(Exception):
    pass


@hyp_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lots=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=1),  # which presentation
            st.integers(min_value=-1, max_value=12),  # expiry, days from start
            st.integers(min_value=1, max_value=4),  # vials
        ),
        max_size=6,
    ),
    doses=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=2),  # presentation 2 has no stock at all
            st.integers(min_value=0, max_value=8),  # day
            st.integers(min_value=1, max_value=3),  # vials
        ),
        max_size=8,
    ),
)
@pytest.mark.parametrize("first_batch", [selectors.LASTING_FIRST_BATCH, 1])
def test_presentations_short_agrees_with_the_forecast(demand, db, lots, doses, first_batch):
    """The counter's query, sized by what is due, finds the forecast's shortages exactly; with
    a first batch of one lot, the lasting stock is read over several doubling batches (lots
    sharing an expiry date split between them)."""
    start = datetime.date(2026, 6, 1)
    try:
        with transaction.atomic():
            fridge = StorageLocationFactory()
            presentations = [PresentationFactory() for _ in range(3)]
            for which, expiry, vials in lots:
                lot = LotFactory(
                    presentation=presentations[which],
                    expiry_date=start + datetime.timedelta(days=expiry),
                )
                StockLevel.objects.create(lot=lot, location=fridge, on_hand=vials)
            demand.clear()
            demand.extend(
                DemandLine(
                    presentation_id=presentations[which].pk,
                    on=start + datetime.timedelta(days=day),
                    quantity=vials,
                    reference=f"d:{n}",
                )
                for n, (which, day, vials) in enumerate(doses)
            )
            forecast = stock_forecast_reference(start=start, days=7)
            expected = sorted(
                line["presentation"] for line in forecast["presentations"] if line["shortages"]
            )
            with mock.patch.object(selectors, "LASTING_FIRST_BATCH", first_batch):
                assert selectors.presentations_short(start=start, days=7) == expected
            raise _Rollback
    except _Rollback:
        pass


@hyp_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lots=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=1),  # which presentation
            st.integers(min_value=-1, max_value=14),  # expiry, days from start
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
            st.integers(min_value=0, max_value=10),  # day
            st.integers(min_value=1, max_value=4),  # vials
        ),
        max_size=10,
    ),
    days=st.integers(min_value=1, max_value=12),
    only=st.sampled_from([None, (0,), (1, 2)]),
)
def test_forecast_equals_the_lot_by_lot_simulation(demand, db, lots, doses, days, only):
    """Every figure (days, usable each morning, shortages, lots expiring unused) is what FEFO
    over every lot, day by day, gives (`forecast_reference`): lots valid all period read as one
    sum and walked once change nothing."""
    start = datetime.date(2026, 6, 1)
    try:
        with transaction.atomic():
            locations = [
                StorageLocationFactory(),
                StorageLocationFactory(),
                StorageLocationFactory(min_c=15, max_c=25),
                StorageLocationFactory(active=False),
            ]
            presentations = [PresentationFactory() for _ in range(3)]
            for which, expiry, levels, status in lots:
                lot = LotFactory(
                    presentation=presentations[which],
                    expiry_date=start + datetime.timedelta(days=expiry),
                    status=status,
                )
                for where, vials in dict(levels).items():
                    StockLevel.objects.create(lot=lot, location=locations[where], on_hand=vials)
            demand.clear()
            demand.extend(
                DemandLine(
                    presentation_id=presentations[which].pk,
                    on=start + datetime.timedelta(days=day),
                    quantity=vials,
                    reference=f"d:{n}",
                )
                for n, (which, day, vials) in enumerate(doses)
            )
            ids = None if only is None else [presentations[i].pk for i in only]
            assert selectors.stock_forecast(
                start=start, days=days, presentation_ids=ids
            ) == stock_forecast_reference(start=start, days=days, presentation_ids=ids)
            raise _Rollback
    except _Rollback:
        pass


def test_forecast_queries_do_not_grow_with_lots(demand, receive, cerulo, fridge, today):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for batch in (2, 40):
        for k in range(batch):
            receive(cerulo, fridge, 2, lot_number=f"F{batch}-{k}", expiry_days=1 + k % 20)
            demand.append(
                DemandLine(
                    presentation_id=cerulo.pk,
                    on=today + datetime.timedelta(days=k % 20),
                    quantity=1,
                    reference=f"dose:{batch}-{k}",
                )
            )
        with CaptureQueriesContext(connection) as queries:
            report = selectors.stock_forecast(start=today, days=30)
        counts.append(len(queries))
        assert report["presentations"][0]["expiring_unused"]
    assert counts == [4, 4]
