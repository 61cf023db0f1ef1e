"""One rule, two forms: `usable_q` (SQL) and `level_usable` / `fefo.is_usable` (Python) agree.

Hypothesis generates products, locations and lots around the edges that matter (the expiry day
itself, a location range exactly at the product's bounds, products without a lower bound,
inactive locations, every lot status) and the test compares what the database selects with what
Python decides, row by row.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.models import LotStatus, StockLevel
from inventory.selectors import level_usable, usable_q
from tests.factories import LotFactory, PresentationFactory, ProductFactory, StorageLocationFactory

ON = datetime.date(2026, 6, 15)
temperatures = st.sampled_from([Decimal(v) for v in ("-20", "0", "2", "2.5", "8", "15", "25")])


class _Rollback(Exception):
    pass


@st.composite
def stock_rows(draw):
    product_min = draw(st.one_of(st.none(), st.sampled_from([Decimal("0"), Decimal("2")])))
    product_max = draw(st.sampled_from([Decimal("8"), Decimal("15"), Decimal("25")]))
    low = draw(temperatures)
    high = draw(temperatures.filter(lambda t: t >= low))
    return {
        "product": (product_min, product_max),
        "location": (low, high, draw(st.booleans())),
        "lots": draw(
            st.lists(
                st.tuples(
                    st.sampled_from(LotStatus.values),
                    st.integers(min_value=-2, max_value=2),  # expiry relative to ON
                ),
                min_size=1,
                max_size=6,
            )
        ),
    }


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=stock_rows())
def test_usable_q_and_level_usable_agree(db, rows):
    try:
        with transaction.atomic():
            low_c, high_c = rows["product"]
            product = ProductFactory(code="p", storage_min_c=low_c, storage_max_c=high_c)
            presentation = PresentationFactory(product=product)
            low, high, active = rows["location"]
            location = StorageLocationFactory(min_c=low, max_c=high, active=active)
            for status, days in rows["lots"]:
                lot = LotFactory(
                    presentation=presentation,
                    status=status,
                    expiry_date=ON + datetime.timedelta(days=days),
                )
                StockLevel.objects.create(lot=lot, location=location, on_hand=1)
            levels = StockLevel.objects.select_related("lot__presentation__product", "location")
            by_sql = set(levels.filter(usable_q(ON)).values_list("pk", flat=True))
            by_python = {level.pk for level in levels if level_usable(level, ON)}
            assert by_sql == by_python
            # The expiry day itself is usable, the day after is not.
            for level in levels:
                if level.lot.status == LotStatus.AVAILABLE and location.keeps(product) and active:
                    assert (level.pk in by_sql) == (level.lot.expiry_date >= ON)
            raise _Rollback
    except _Rollback:
        pass
