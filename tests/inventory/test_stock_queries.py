"""Statements a dispense and a reservation run: a handful, the same for 2 lots as for 40.

On PostgreSQL each level taken is one statement (pick, lock, take and ledger line); the counts
below include the savepoint pair of the service's own transaction (the test runs inside one).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory import selectors, services
from inventory.models import MovementKind, StockMovement

pytestmark = pytest.mark.django_db

# (statements on PostgreSQL, what they are)
POSTGRES = {
    "dispense": (3, "savepoint, take, release"),
    "dispense for a dose holding nothing": (5, "savepoint, reference lock, held levels, take, …"),
    "dispense of a reserved dose": (7, "…, held levels, holds read under lock, update, insert, …"),
    "reserve": (5, "savepoint, reference lock, held levels, take, release"),
}


def _stock(receive, presentation, location, lots: int, prefix: str) -> None:
    for n in range(lots):
        receive(presentation, location, 5, lot_number=f"{prefix}{n}", expiry_days=30 + n)


def _count(work) -> int:
    with CaptureQueriesContext(connection) as captured:
        work()
    return len(captured)


def _counts(cerulo, pharmacist, today, run: int) -> dict[str, int]:
    def dispense(**kwargs):
        return services.stock_dispense(
            presentation_id=cerulo.pk, quantity=1, on=today, user=pharmacist, **kwargs
        )

    def reserve(reference):
        return services.stock_reserve(
            presentation_id=cerulo.pk, quantity=1, on=today, reference=reference
        )

    counts = {
        "dispense": _count(dispense),
        "dispense for a dose holding nothing": _count(lambda: dispense(reference=f"rx:{run}:1")),
        "reserve": _count(lambda: reserve(f"rx:{run}:2")),
    }
    counts["dispense of a reserved dose"] = _count(lambda: dispense(reference=f"rx:{run}:2"))
    return counts


@pytest.mark.parametrize("lots", [2, 40])
def test_statements_do_not_grow_with_the_stock(lots, receive, cerulo, fridge, pharmacist, today):
    _stock(receive, cerulo, fridge, lots, "A")
    counts = _counts(cerulo, pharmacist, today, run=1)
    _stock(receive, cerulo, fridge, lots, "B")  # as many lots again
    assert _counts(cerulo, pharmacist, today, run=2) == counts
    if connection.vendor == "postgresql":
        assert counts == {name: expected for name, (expected, _what) in POSTGRES.items()}
    assert selectors.ledger_mismatches() == []


def test_a_reserved_dose_taking_more_than_its_hold_writes_one_line_per_lot(
    receive, cerulo, fridge, pharmacist, today
):
    early = receive(cerulo, fridge, 3, lot_number="EARLY", expiry_days=30)
    services.stock_reserve(presentation_id=cerulo.pk, quantity=1, on=today, reference="rx:3")
    movements = services.stock_dispense(
        presentation_id=cerulo.pk, quantity=2, on=today, user=pharmacist, reference="rx:3"
    )
    # One vial from the hold, one free vial of the same lot: one ledger line for both.
    assert [(m.lot, m.quantity, m.on_hand_delta, m.reserved_delta) for m in movements] == [
        (early, 2, -2, -1)
    ]
    assert StockMovement.objects.filter(kind=MovementKind.DISPENSE).count() == 1
    assert selectors.ledger_mismatches() == []
