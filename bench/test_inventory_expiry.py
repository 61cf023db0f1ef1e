"""Benchmark: "lots expiring within N days" over many lots (index lot_status_expiry_idx).

Run with `make bench`: 200,000 lots over ~8 years of expiry dates; a 30-day window holds ~1%.
"""

import datetime

import pytest
from django.db import connection

from inventory.models import Lot, LotStatus, Presentation, Product
from inventory.selectors import lots_expiring_within

pytestmark = pytest.mark.django_db

LOTS = 200_000
TODAY = datetime.date(2026, 1, 1)
STATUSES = [LotStatus.AVAILABLE] * 8 + [LotStatus.EXPIRED, LotStatus.QUARANTINED]


@pytest.fixture
def many_lots(db):
    product = Product.objects.create(
        code="bench", name="Bench", storage_max_c=8, shelf_life_months=24, leaflet_file="-"
    )
    presentation = Presentation.objects.create(
        product=product,
        code="bench-vial",
        strength=100,
        strength_unit="mg",
        container="vial",
        pack_size=5,
    )
    Lot.objects.bulk_create(
        (
            Lot(
                presentation=presentation,
                lot_number=f"B{n:07d}",
                expiry_date=TODAY + datetime.timedelta(days=(n * 7919) % 3000 - 500),
                status=STATUSES[n % len(STATUSES)],
            )
            for n in range(LOTS)
        ),
        batch_size=5000,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE inventory_lot")
    return presentation


def test_expiring_within_30_days(benchmark, many_lots):
    query = lots_expiring_within(on=TODAY, days=30)
    if connection.vendor == "postgresql":
        assert "lot_status_expiry_idx" in query.explain()
    result = benchmark(lambda: list(query.all().values_list("id", flat=True)))
    assert 0 < len(result) < LOTS // 50
