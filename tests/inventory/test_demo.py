import pytest

from inventory.demo import inventory_demo_seed
from inventory.models import Lot, StockMovement, StorageLocation
from inventory.selectors import ledger_mismatches, lots_expiring_within

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent(formulary, pharmacist, today):
    inventory_demo_seed(user=pharmacist)
    lots, movements = Lot.objects.count(), StockMovement.objects.count()
    assert lots == 7 * 3
    assert StorageLocation.objects.filter(ward__code__in=["ward-3a", "ward-5b"]).count() == 2
    assert lots_expiring_within(on=today, days=30).exists()
    inventory_demo_seed(user=pharmacist)
    assert (Lot.objects.count(), StockMovement.objects.count()) == (lots, movements)
    assert ledger_mismatches() == []
