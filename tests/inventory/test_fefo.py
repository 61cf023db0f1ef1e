"""FEFO properties: on the pure allocator, then end to end through stock_dispense."""

import datetime
import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory import services
from inventory.fefo import Candidate, fefo_take, is_usable
from inventory.models import LotStatus, StockLevel
from tests.factories import LotFactory, PresentationFactory, StorageLocationFactory

BASE = datetime.date(2026, 1, 1)
_examples = itertools.count()

candidates = st.lists(
    st.builds(
        Candidate,
        key=st.integers(0, 10_000),
        expiry_date=st.integers(-30, 400).map(lambda d: BASE + datetime.timedelta(days=d)),
        available=st.integers(0, 12),
        usable=st.booleans(),
    ),
    max_size=12,
    unique_by=lambda c: c.key,
)


@given(candidates, st.integers(0, 60))
def test_fefo_plan_is_earliest_expiry_first_and_exact(pool, quantity):
    plan, missing = fefo_take(pool, quantity)
    by_key = {c.key: c for c in pool}
    usable = [c for c in pool if c.usable]
    taken = dict(plan)
    # Never more than asked, never more than a candidate has, never an unusable one.
    assert sum(taken.values()) + missing == quantity
    assert all(0 < n <= by_key[k].available and by_key[k].usable for k, n in taken.items())
    assert missing == max(0, quantity - sum(c.available for c in usable))
    # FEFO: a later-expiring candidate is touched only when every earlier one is used up.
    for key in taken:
        for other in usable:
            if (other.expiry_date, other.key) < (by_key[key].expiry_date, key):
                assert taken.get(other.key, 0) == other.available


@given(
    status=st.sampled_from(LotStatus.values),
    expiry_offset=st.integers(-5, 5),
    in_range=st.booleans(),
)
def test_usable_only_when_available_unexpired_and_in_range(status, expiry_offset, in_range):
    expiry = BASE + datetime.timedelta(days=expiry_offset)
    assert is_usable(status=status, expiry_date=expiry, in_range=in_range, on=BASE) == (
        status == LotStatus.AVAILABLE and expiry_offset >= 0 and in_range
    )


lot_specs = st.lists(
    st.tuples(
        st.integers(-3, 60),  # expiry, days from the dispense date
        st.integers(1, 6),  # vials
        st.sampled_from([LotStatus.AVAILABLE, LotStatus.AVAILABLE, LotStatus.QUARANTINED]),
        st.booleans(),  # in a location in range
    ),
    min_size=1,
    max_size=6,
)


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(specs=lot_specs, quantity=st.integers(1, 20))
def test_dispense_never_uses_unusable_stock(specs, quantity, pharmacist):
    on = datetime.date.today() + datetime.timedelta(days=5)
    # Examples share one test transaction: each gets its own presentation, so they don't mix.
    presentation = PresentationFactory(code=f"p-{next(_examples)}")
    fridge = StorageLocationFactory()
    warm = StorageLocationFactory(min_c=Decimal("2"), max_c=Decimal("12"))
    usable = {}
    for index, (offset, vials, status, in_range) in enumerate(specs):
        lot = LotFactory(
            presentation=presentation,
            expiry_date=on + datetime.timedelta(days=offset),
            status=status,
        )
        # Stock placed directly (bypassing receipt checks) to build states receipt refuses.
        StockLevel.objects.create(lot=lot, location=fridge if in_range else warm, on_hand=vials)
        if status == LotStatus.AVAILABLE and offset >= 0 and in_range:
            usable[lot.pk] = (lot.expiry_date, index, vials)
    available = sum(v for _, _, v in usable.values())
    if quantity > available:
        with pytest.raises(ValidationError) as exc:
            services.stock_dispense(
                presentation_id=presentation.pk, quantity=quantity, on=on, user=pharmacist
            )
        assert exc.value.error_dict["quantity"][0].code == "insufficient_stock"
        assert not presentation.lots.filter(movements__isnull=False).exists()
    else:
        movements = services.stock_dispense(
            presentation_id=presentation.pk, quantity=quantity, on=on, user=pharmacist
        )
        assert sum(m.quantity for m in movements) == quantity
        assert {m.lot_id for m in movements} <= set(usable)
        fefo_order = sorted(usable, key=lambda pk: (usable[pk][0], pk))
        expected, left = [], quantity
        for pk in fefo_order:
            take = min(left, usable[pk][2])
            if take:
                expected.append((pk, take))
            left -= take
        assert [(m.lot_id, m.quantity) for m in movements] == expected
