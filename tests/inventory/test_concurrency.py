"""Many nurses dispensing the last vials at once, on real PostgreSQL row locks."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from inventory import selectors, services
from inventory.models import MovementKind, StockLevel, StockMovement

pytestmark = pytest.mark.postgres

THREADS = 24
VIALS = 7


def _all_at_once(work, threads: int) -> list:
    """Run work(n) in `threads` threads released together; each closes its own connection."""
    barrier = threading.Barrier(threads)
    results = [None] * threads

    def run(n: int):
        try:
            barrier.wait()
            try:
                results[n] = work(n)
            except ValidationError as exc:
                results[n] = exc
        finally:
            connection.close()

    pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def test_concurrent_dispenses_never_oversell(
    postgres, transactional_db, receive, cerulo, fridge, pharmacist, today
):
    lot = receive(cerulo, fridge, VIALS)
    results = _all_at_once(
        lambda n: services.stock_dispense(
            presentation_id=cerulo.pk, quantity=1, on=today, user=pharmacist, reference=f"rx:{n}"
        ),
        THREADS,
    )
    succeeded = [r for r in results if isinstance(r, list)]
    refused = [r.error_dict["quantity"][0] for r in results if isinstance(r, ValidationError)]
    assert len(succeeded) == VIALS
    assert len(refused) == THREADS - VIALS
    assert all(
        r.code == "insufficient_stock" and "Insufficient stock" in r.message for r in refused
    )
    assert StockLevel.objects.get(lot=lot, location=fridge).on_hand == 0
    assert StockMovement.objects.filter(lot=lot, kind=MovementKind.DISPENSE).count() == VIALS
    assert selectors.ledger_mismatches() == []


def test_concurrent_reservations_under_one_reference_hold_once(
    postgres, transactional_db, receive, cerulo, fridge, today
):
    lot = receive(cerulo, fridge, 10)
    results = _all_at_once(
        lambda n: services.stock_reserve(
            presentation_id=cerulo.pk, quantity=2, on=today, reference="rx:1"
        ),
        16,
    )
    assert not any(isinstance(r, ValidationError) for r in results)
    assert StockLevel.objects.get(lot=lot, location=fridge).reserved == 2
    assert selectors.ledger_mismatches() == []
