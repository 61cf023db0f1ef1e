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


def _while_held(hold, work):
    """Run `hold()` in a transaction kept open in another thread, then `work()` here."""
    from django.db import transaction

    held, done = threading.Event(), threading.Event()
    failure = []

    def holder():
        try:
            with transaction.atomic():
                hold()
                held.set()
                done.wait(timeout=30)
        except Exception as exc:  # surfaced below: the holder must have succeeded
            failure.append(exc)
            held.set()
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(timeout=30)
    try:
        result = work()
    finally:
        done.set()
        thread.join()
    assert not failure, failure
    return result


def _free_while(lock, levels) -> list[bool]:
    """Hold `lock()` open in one transaction; try to lock each level with NOWAIT in another."""
    from django.db import DatabaseError, transaction

    def probe():
        free = []
        for level in levels:
            try:
                with transaction.atomic():
                    StockLevel.objects.select_for_update(nowait=True).get(pk=level.pk)
                free.append(True)
            except DatabaseError:
                free.append(False)
        return free

    return _while_held(lock, probe)


def _three_levels(receive, presentation, location):
    """Three lots of one presentation at one place, the first expiring first."""
    lots = [
        receive(presentation, location, 5, lot_number=f"L{n}", expiry_days=100 + 30 * n)
        for n in range(3)
    ]
    return [StockLevel.objects.get(lot=lot, location=location) for lot in lots]


def test_a_dispense_locks_only_the_level_it_takes(
    postgres, transactional_db, receive, cerulo, fridge, pharmacist, today
):
    first, second, third = _three_levels(receive, cerulo, fridge)
    dispense = lambda: services.stock_dispense(  # noqa: E731
        presentation_id=cerulo.pk, quantity=1, on=today, user=pharmacist, reference="d:1"
    )
    # Another nurse can take the other lots of the presentation meanwhile.
    assert _free_while(dispense, [first, second, third]) == [False, True, True]
    assert StockLevel.objects.get(pk=first.pk).on_hand == 4
    assert selectors.ledger_mismatches() == []


def test_a_dispense_spanning_two_levels_locks_those_two(
    postgres, transactional_db, receive, cerulo, fridge, pharmacist, today
):
    first, second, third = _three_levels(receive, cerulo, fridge)
    dispense = lambda: services.stock_dispense(  # noqa: E731
        presentation_id=cerulo.pk, quantity=7, on=today, user=pharmacist
    )
    assert _free_while(dispense, [first, second, third]) == [False, False, True]
    assert [StockLevel.objects.get(pk=lvl.pk).on_hand for lvl in (first, second, third)] == [
        0,
        3,
        5,
    ]


def test_a_reservation_locks_only_the_level_it_takes(
    postgres, transactional_db, receive, cerulo, fridge, today
):
    first, second, third = _three_levels(receive, cerulo, fridge)
    reserve = lambda: services.stock_reserve(  # noqa: E731
        presentation_id=cerulo.pk, quantity=2, on=today, reference="d:9"
    )
    assert _free_while(reserve, [first, second, third]) == [False, True, True]
    assert StockLevel.objects.get(pk=first.pk).reserved == 2


def test_concurrent_dispenses_over_many_levels_never_oversell_nor_refuse_early(
    postgres, transactional_db, receive, cerulo, fridge, pharmacist, today
):
    # Later lots expire first, so FEFO order runs against primary-key order (the lock order).
    levels = [
        StockLevel.objects.get(
            lot=receive(cerulo, fridge, 3, lot_number=f"M{n}", expiry_days=400 - 30 * n),
            location=fridge,
        )
        for n in range(4)
    ]
    results = _all_at_once(
        lambda n: services.stock_dispense(
            presentation_id=cerulo.pk, quantity=2, on=today, user=pharmacist, reference=f"d:{n}"
        ),
        10,
    )
    succeeded = [r for r in results if isinstance(r, list)]
    assert len(succeeded) == 6  # 12 vials, 2 each: every request that could be met was
    assert sum(StockLevel.objects.get(pk=lvl.pk).on_hand for lvl in levels) == 0
    assert selectors.ledger_mismatches() == []


def test_a_dispense_passes_over_the_level_another_is_taking_from(
    postgres, transactional_db, receive, cerulo, fridge, pharmacist, today
):
    first, second, _third = _three_levels(receive, cerulo, fridge)

    def dispense(reference):
        return services.stock_dispense(
            presentation_id=cerulo.pk, quantity=1, on=today, user=pharmacist, reference=reference
        )

    # Another nurse's dispense holds the first-expiring lot: this one takes the next lot rather
    # than queueing behind her (with the old wait it would only finish after she commits, by
    # then taking the first lot again).
    meanwhile = _while_held(lambda: dispense("d:1"), lambda: dispense("d:2"))
    assert [m.lot_id for m in meanwhile] == [second.lot_id]
    # Once she is done, first-expiry-first-out goes back to the first lot.
    assert [m.lot_id for m in dispense("d:3")] == [first.lot_id]
    assert [StockLevel.objects.get(pk=level.pk).on_hand for level in (first, second)] == [3, 4]
    assert selectors.ledger_mismatches() == []


def test_a_dispense_waits_for_the_last_level_held_by_another_and_takes_what_is_left(
    postgres, transactional_db, receive, cerulo, fridge, pharmacist, today
):
    lot = receive(cerulo, fridge, 2)

    def dispense(reference):
        return services.stock_dispense(
            presentation_id=cerulo.pk, quantity=1, on=today, user=pharmacist, reference=reference
        )

    # Every level is held by another transaction: it waits (never refused while stock remains)
    # and takes the vial that transaction left.
    results = []

    def wait_and_dispense():
        try:
            results.append(dispense("d:2"))
        finally:
            connection.close()

    waiter = threading.Thread(target=wait_and_dispense)

    def start_waiter():
        waiter.start()
        waiter.join(timeout=0.5)
        return waiter.is_alive()  # still waiting for the level while the holder is open

    assert _while_held(lambda: dispense("d:1"), start_waiter)
    waiter.join(timeout=30)
    assert [m.lot_id for m in results[0]] == [lot.pk]
    assert StockLevel.objects.get(lot=lot, location=fridge).on_hand == 0
    assert selectors.ledger_mismatches() == []
