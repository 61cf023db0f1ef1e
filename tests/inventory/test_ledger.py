import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from inventory import selectors, services
from inventory.models import (
    Lot,
    LotStatus,
    MovementKind,
    StockLevel,
    StockMovement,
)
from tests.factories import PresentationFactory, StorageLocationFactory

pytestmark = pytest.mark.django_db


def _level(lot, location):
    return StockLevel.objects.get(lot=lot, location=location)


def _fields(exc_info) -> dict:
    return exc_info.value.message_dict


def test_receipt_creates_lot_level_and_movement(receive, cerulo, fridge, pharmacist):
    lot = receive(cerulo, fridge, 10, lot_number="AB-12/3")
    level = _level(lot, fridge)
    assert (level.on_hand, level.reserved) == (10, 0)
    movement = lot.movements.get()
    assert movement.kind == MovementKind.RECEIPT
    assert (movement.quantity, movement.on_hand_delta, movement.user) == (10, 10, pharmacist)
    receive(cerulo, fridge, 5, lot_number="AB-12/3")
    assert _level(lot, fridge).on_hand == 15
    assert Lot.objects.count() == 1


def test_receipt_of_known_lot_with_other_expiry_is_refused(receive, cerulo, fridge, today):
    receive(cerulo, fridge, 10, expiry_days=100)
    with pytest.raises(ValidationError) as exc:
        receive(cerulo, fridge, 5, expiry_days=101)
    assert "on record with expiry" in _fields(exc)["expiry_date"][0]
    assert StockMovement.objects.count() == 1


def test_receipt_of_expired_lot_is_refused_and_writes_nothing(receive, cerulo, fridge):
    with pytest.raises(ValidationError) as exc:
        receive(cerulo, fridge, 5, expiry_days=-1)
    assert "expired" in _fields(exc)["expiry_date"][0]
    assert not Lot.objects.exists() and not StockMovement.objects.exists()


@pytest.mark.parametrize("lot_number", ["", "A B", "x" * 21, "LOT#1", "LÖT", "a~b"])
def test_lot_numbers_outside_gs1_ai10_are_refused(receive, cerulo, fridge, lot_number):
    with pytest.raises(ValidationError) as exc:
        receive(cerulo, fridge, 1, lot_number=lot_number)
    assert "lot_number" in _fields(exc)


@pytest.mark.parametrize("lot_number", ["A", "x" * 20, "!\"%&'()*+,-./:;<=>?_", "ab09XZ"])
def test_lot_numbers_in_gs1_ai10_are_accepted(receive, cerulo, fridge, lot_number):
    assert receive(cerulo, fridge, 1, lot_number=lot_number).lot_number == lot_number


def test_storage_range_rule(receive, cerulo, db):
    betaleukin = PresentationFactory(product__betaleukin=True)
    room = StorageLocationFactory(code="room", min_c=Decimal("15"), max_c=Decimal("25"))
    cold_room = StorageLocationFactory(code="cold", min_c=Decimal("8"), max_c=Decimal("15"))
    wide_fridge = StorageLocationFactory(code="wide", min_c=Decimal("0"), max_c=Decimal("8"))
    fridge = StorageLocationFactory(code="fridge", min_c=Decimal("2"), max_c=Decimal("8"))
    for location in (room, cold_room, wide_fridge):
        with pytest.raises(ValidationError) as exc:
            receive(cerulo, location, 1)
        assert "storage range" in _fields(exc)["location_id"][0]
    receive(cerulo, fridge, 1)
    # Betaleukin has no minimum: any location whose maximum is ≤ 15 °C keeps it.
    with pytest.raises(ValidationError):
        receive(betaleukin, room, 1)
    for location in (cold_room, wide_fridge, fridge):
        receive(betaleukin, location, 1, lot_number="B1")
    assert StockLevel.objects.filter(lot__presentation=betaleukin).count() == 3


@pytest.mark.parametrize(
    ("made", "months", "expiry"),
    [
        (datetime.date(2024, 1, 15), 24, datetime.date(2026, 1, 14)),
        (datetime.date(2024, 2, 29), 24, datetime.date(2026, 2, 27)),  # no 29 Feb 2026
        (datetime.date(2025, 8, 31), 6, datetime.date(2026, 2, 27)),  # 31 Aug + 6 → 28 Feb
        (datetime.date(2024, 1, 1), 24, datetime.date(2025, 12, 31)),
        (datetime.date(2023, 12, 31), 2, datetime.date(2024, 2, 28)),  # leap year Feb
    ],
)
def test_shelf_life_arithmetic(made, months, expiry):
    assert services.expiry_from_manufacture(made, months) == expiry


def test_expiry_from_manufacture_date_on_receipt(cerulo, fridge, pharmacist, today):
    made = today - datetime.timedelta(days=30)
    movement = services.lot_receive(
        presentation_id=cerulo.pk,
        location_id=fridge.pk,
        quantity=3,
        lot_number="M1",
        manufacture_date=made,
        user=pharmacist,
        on=today,
    )
    assert movement.lot.expiry_date == services.expiry_from_manufacture(made, 24)
    assert movement.lot.manufacture_date == made


def test_fefo_dispense_takes_earliest_expiry_first(receive, cerulo, fridge, pharmacist, today):
    late = receive(cerulo, fridge, 5, lot_number="LATE", expiry_days=300)
    early = receive(cerulo, fridge, 3, lot_number="EARLY", expiry_days=30)
    movements = services.stock_dispense(
        presentation_id=cerulo.pk, quantity=4, on=today, user=pharmacist, reference="rx:1"
    )
    assert [(m.lot, m.quantity) for m in movements] == [(early, 3), (late, 1)]
    assert _level(early, fridge).on_hand == 0
    assert _level(late, fridge).on_hand == 4


def test_dispense_skips_expired_quarantined_and_out_of_range(
    receive, cerulo, fridge, pharmacist, today
):
    expiring = receive(cerulo, fridge, 5, lot_number="SOON", expiry_days=2)
    quarantined = receive(cerulo, fridge, 5, lot_number="Q", expiry_days=10)
    services.lot_quarantine(lot_id=quarantined.pk, user=pharmacist, on=today, reason="QA")
    drifted = StorageLocationFactory(code="drifted")
    out_of_range = receive(cerulo, drifted, 5, lot_number="OOR", expiry_days=20)
    drifted.max_c = Decimal("10")  # e.g. re-set after a fault: no longer a 2–8 °C place
    drifted.save()
    good = receive(cerulo, fridge, 2, lot_number="GOOD", expiry_days=40)
    on = today + datetime.timedelta(days=3)  # SOON has expired by then
    movements = services.stock_dispense(
        presentation_id=cerulo.pk, quantity=2, on=on, user=pharmacist
    )
    assert {m.lot for m in movements} == {good}
    with pytest.raises(ValidationError) as exc:
        services.stock_dispense(presentation_id=cerulo.pk, quantity=1, on=on, user=pharmacist)
    assert exc.value.error_dict["quantity"][0].code == "insufficient_stock"
    assert "Insufficient stock" in _fields(exc)["quantity"][0]
    assert {expiring, quarantined, out_of_range}.isdisjoint(
        m.lot for m in StockMovement.objects.filter(kind=MovementKind.DISPENSE)
    )


def test_explicit_lot_is_checked_like_fefo(receive, cerulo, fridge, pharmacist, today):
    first = receive(cerulo, fridge, 5, lot_number="FIRST", expiry_days=10)
    scanned = receive(cerulo, fridge, 5, lot_number="SCANNED", expiry_days=100)
    movements = services.stock_dispense(
        presentation_id=cerulo.pk, quantity=2, on=today, user=pharmacist, lot_id=scanned.pk
    )
    assert [m.lot for m in movements] == [scanned]
    services.lot_quarantine(lot_id=first.pk, user=pharmacist, on=today, reason="damaged box")
    with pytest.raises(ValidationError) as exc:
        services.stock_dispense(
            presentation_id=cerulo.pk, quantity=1, on=today, user=pharmacist, lot_id=first.pk
        )
    assert "quarantined" in _fields(exc)["lot_id"][0]
    with pytest.raises(ValidationError) as exc:
        services.stock_dispense(
            presentation_id=cerulo.pk,
            quantity=1,
            on=today + datetime.timedelta(days=101),
            user=pharmacist,
            lot_id=scanned.pk,
        )
    assert "expired" in _fields(exc)["lot_id"][0]
    other = PresentationFactory(code="other-pres")
    with pytest.raises(ValidationError) as exc:
        services.stock_dispense(
            presentation_id=other.pk, quantity=1, on=today, user=pharmacist, lot_id=scanned.pk
        )
    assert "lot_id" in _fields(exc)


def test_reservation_never_takes_a_lot_expiring_before_the_dose(
    receive, cerulo, fridge, pharmacist, today
):
    short = receive(cerulo, fridge, 10, lot_number="SHORT", expiry_days=5)
    long = receive(cerulo, fridge, 2, lot_number="LONG", expiry_days=60)
    dose_day = today + datetime.timedelta(days=6)
    movements = services.stock_reserve(
        presentation_id=cerulo.pk, quantity=2, on=dose_day, reference="rx:9"
    )
    assert {m.lot for m in movements} == {long}
    assert _level(long, fridge).reserved == 2
    with pytest.raises(ValidationError) as exc:
        services.stock_reserve(
            presentation_id=cerulo.pk, quantity=1, on=dose_day, reference="rx:10"
        )
    assert exc.value.error_dict["quantity"][0].code == "insufficient_stock"
    # For a dose within SHORT's shelf life, SHORT is the first choice.
    soon = services.stock_reserve(
        presentation_id=cerulo.pk,
        quantity=1,
        on=today + datetime.timedelta(days=5),
        reference="d:11",
    )
    assert [m.lot for m in soon] == [short]


def test_reservation_is_idempotent_and_consumed_by_dispense(
    receive, cerulo, fridge, pharmacist, today
):
    early = receive(cerulo, fridge, 3, lot_number="EARLY", expiry_days=30)
    late = receive(cerulo, fridge, 3, lot_number="LATE", expiry_days=90)
    services.stock_reserve(presentation_id=cerulo.pk, quantity=2, on=today, reference="rx:1")
    assert (
        services.stock_reserve(presentation_id=cerulo.pk, quantity=2, on=today, reference="rx:1")
        == []
    )
    assert _level(early, fridge).reserved == 2
    # Raising the need reserves only the difference.
    more = services.stock_reserve(presentation_id=cerulo.pk, quantity=3, on=today, reference="rx:1")
    assert sum(m.quantity for m in more) == 1
    # Someone else's dispense cannot take the held vials: EARLY has none free.
    other = services.stock_dispense(
        presentation_id=cerulo.pk, quantity=1, on=today, user=pharmacist
    )
    assert [m.lot for m in other] == [late]
    dispensed = services.stock_dispense(
        presentation_id=cerulo.pk,
        quantity=3,
        on=today,
        user=pharmacist,
        reference="rx:1",
        recipient="MRN 0042 · course 7 dose 3",
    )
    assert sum(m.quantity for m in dispensed) == 3
    assert sum(-m.reserved_delta for m in dispensed) == 3
    assert _level(early, fridge).reserved == 0
    assert services.reservation_release(reference="rx:1") == 0


def test_dispensing_another_lot_gives_the_dose_reservation_back(
    receive, cerulo, fridge, pharmacist, today
):
    early = receive(cerulo, fridge, 3, lot_number="EARLY", expiry_days=30)
    late = receive(cerulo, fridge, 3, lot_number="LATE", expiry_days=90)
    services.stock_reserve(presentation_id=cerulo.pk, quantity=2, on=today, reference="rx:9")
    assert _level(early, fridge).reserved == 2
    # The nurse scans the later lot at the bedside and gives one vial.
    services.stock_dispense(
        presentation_id=cerulo.pk,
        quantity=1,
        on=today,
        user=pharmacist,
        lot_id=late.pk,
        reference="rx:9",
    )
    assert _level(early, fridge).reserved == 0  # no vial stays held for a dose already given
    assert _level(late, fridge).on_hand == 2
    assert selectors.ledger_mismatches() == []


def test_reserving_again_moves_a_hold_off_a_lot_that_became_unusable(
    receive, cerulo, fridge, pharmacist, today
):
    early = receive(cerulo, fridge, 3, lot_number="EARLY", expiry_days=30)
    late = receive(cerulo, fridge, 3, lot_number="LATE", expiry_days=90)
    services.stock_reserve(presentation_id=cerulo.pk, quantity=2, on=today, reference="rx:7")
    services.lot_quarantine(lot_id=early.pk, user=pharmacist, on=today, reason="Damaged pack")
    moved = services.stock_reserve(
        presentation_id=cerulo.pk, quantity=2, on=today, reference="rx:7"
    )
    assert [(m.lot, m.quantity) for m in moved] == [(late, 2)]
    assert _level(early, fridge).reserved == 0 and _level(late, fridge).reserved == 2


def test_reservation_release(receive, cerulo, fridge, today):
    lot = receive(cerulo, fridge, 4)
    services.stock_reserve(presentation_id=cerulo.pk, quantity=3, on=today, reference="rx:5")
    assert services.reservation_release(reference="rx:5", reason="dose cancelled") == 3
    assert _level(lot, fridge).reserved == 0
    assert services.reservation_release(reference="rx:5") == 0
    with pytest.raises(ValidationError):
        services.reservation_release(reference="  ")


def test_transfer_waste_adjust_return(receive, cerulo, fridge, pharmacist, today):
    ward_fridge = StorageLocationFactory(code="ward-fridge")
    lot = receive(cerulo, fridge, 10)
    common = {"user": pharmacist, "on": today}
    out, inbound = services.stock_transfer(
        lot_id=lot.pk,
        from_location_id=fridge.pk,
        to_location_id=ward_fridge.pk,
        quantity=4,
        **common,
    )
    assert (out.on_hand_delta, out.other_location, inbound.on_hand_delta) == (-4, ward_fridge, 4)
    services.stock_waste(
        lot_id=lot.pk, location_id=ward_fridge.pk, quantity=1, reason="broken", **common
    )
    services.stock_adjust(
        lot_id=lot.pk, location_id=fridge.pk, quantity_delta=-2, reason="stock take", **common
    )
    services.stock_dispense(
        presentation_id=cerulo.pk,
        quantity=2,
        location_id=ward_fridge.pk,
        reference="rx:3",
        **common,
    )
    services.stock_return(
        lot_id=lot.pk, location_id=ward_fridge.pk, quantity=1, reference="rx:3", **common
    )
    with pytest.raises(ValidationError) as exc:
        services.stock_return(
            lot_id=lot.pk, location_id=ward_fridge.pk, quantity=2, reference="rx:3", **common
        )
    assert "Only 1" in _fields(exc)["quantity"][0]
    assert (_level(lot, fridge).on_hand, _level(lot, ward_fridge).on_hand) == (4, 2)
    assert selectors.ledger_mismatches() == []


def test_stock_cannot_go_below_zero_or_below_reservations(
    receive, cerulo, fridge, pharmacist, today
):
    lot = receive(cerulo, fridge, 3)
    services.stock_reserve(presentation_id=cerulo.pk, quantity=2, on=today, reference="rx:1")
    common = {"lot_id": lot.pk, "location_id": fridge.pk, "user": pharmacist, "on": today}
    with pytest.raises(ValidationError) as exc:
        services.stock_waste(quantity=2, reason="dropped", **common)
    assert exc.value.error_dict["quantity"][0].code == "insufficient_stock"
    with pytest.raises(ValidationError):
        services.stock_adjust(quantity_delta=-2, reason="count", **common)
    with pytest.raises(ValidationError):
        services.stock_transfer(
            lot_id=lot.pk,
            from_location_id=fridge.pk,
            to_location_id=StorageLocationFactory().pk,
            quantity=2,
            user=pharmacist,
            on=today,
        )
    assert _level(lot, fridge).on_hand == 3
    assert selectors.ledger_mismatches() == []


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", True, None])
def test_quantities_must_be_whole_positive_vials(
    receive, cerulo, fridge, pharmacist, today, quantity
):
    receive(cerulo, fridge, 3)
    with pytest.raises(ValidationError) as exc:
        services.stock_dispense(
            presentation_id=cerulo.pk, quantity=quantity, on=today, user=pharmacist
        )
    assert "quantity" in _fields(exc)


def test_database_constraints_refuse_negative_and_over_reserved(receive, cerulo, fridge):
    lot = receive(cerulo, fridge, 2)
    level = _level(lot, fridge)
    for values in ({"on_hand": -1}, {"reserved": 3}, {"reserved": -1}):
        with pytest.raises(IntegrityError), transaction.atomic():
            StockLevel.objects.filter(pk=level.pk).update(**values)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockMovement.objects.create(
            lot=lot,
            location=fridge,
            kind=MovementKind.DISPENSE,
            quantity=1,
            on_hand_delta=1,
            effective_date=datetime.date.today(),
        )


def test_movements_are_immutable(receive, cerulo, fridge):
    lot = receive(cerulo, fridge, 2)
    movement = lot.movements.get()
    movement.quantity = 99
    with pytest.raises(ValueError, match="immutable"):
        movement.save()
    with pytest.raises(ValueError, match="immutable"):
        movement.delete()
    if connection.vendor == "postgresql":
        # Even a queryset update, which bypasses save(), is refused by the database trigger.
        with pytest.raises(IntegrityError), transaction.atomic():
            StockMovement.objects.filter(pk=movement.pk).update(quantity=99)
        with pytest.raises(IntegrityError), transaction.atomic():
            StockMovement.objects.filter(pk=movement.pk).delete()
    assert StockMovement.objects.get(pk=movement.pk).quantity == 2


def test_quarantine_release_recall_destroy(receive, cerulo, fridge, pharmacist, today):
    lot = receive(cerulo, fridge, 4)
    ward_fridge = StorageLocationFactory(code="ward")
    services.stock_transfer(
        lot_id=lot.pk,
        from_location_id=fridge.pk,
        to_location_id=ward_fridge.pk,
        quantity=1,
        user=pharmacist,
        on=today,
    )
    common = {"lot_id": lot.pk, "user": pharmacist, "on": today}
    movements = services.lot_quarantine(reason="box damaged", **common)
    assert {(m.location, m.quantity, m.on_hand_delta) for m in movements} == {
        (fridge, 3, 0),
        (ward_fridge, 1, 0),
    }
    with pytest.raises(ValidationError):
        services.lot_quarantine(reason="again", **common)
    with pytest.raises(ValidationError) as exc:
        services.lot_release(reason="", **common)
    assert "reason" in _fields(exc)
    services.lot_release(reason="box checked", **common)
    services.stock_reserve(presentation_id=cerulo.pk, quantity=2, on=today, reference="rx:1")
    services.lot_recall(reason="manufacturer recall 2026-04", **common)
    lot.refresh_from_db()
    assert lot.status == LotStatus.RECALLED
    with pytest.raises(ValidationError):
        services.lot_release(reason="no", **common)
    destroyed = services.lot_destroy(reason="recalled stock sent for destruction", **common)
    assert sum(-m.on_hand_delta for m in destroyed) == 4
    lot.refresh_from_db()
    assert lot.status == LotStatus.DESTROYED
    assert StockLevel.objects.filter(lot=lot, on_hand__gt=0).count() == 0
    assert selectors.ledger_mismatches() == []


def test_recall_lists_recipients(receive, cerulo, fridge, pharmacist, today):
    lot = receive(cerulo, fridge, 5)
    for dose, mrn in ((1, "0042"), (2, "0043")):
        services.stock_dispense(
            presentation_id=cerulo.pk,
            quantity=1,
            on=today,
            user=pharmacist,
            reference=f"rx:{dose}",
            recipient=f"MRN {mrn} · course 7 dose {dose}",
        )
    services.stock_return(
        lot_id=lot.pk,
        location_id=fridge.pk,
        quantity=1,
        user=pharmacist,
        on=today,
        reference="rx:2",
    )
    services.lot_recall(lot_id=lot.pk, user=pharmacist, on=today, reason="recall")
    recipients = selectors.lot_recipients(lot_id=lot.pk)
    assert [(r["reference"], r["recipient"], r["returned"]) for r in recipients] == [
        ("rx:1", "MRN 0042 · course 7 dose 1", 0),
        ("rx:2", "MRN 0043 · course 7 dose 2", 1),
    ]


def test_expiry_service_and_selector(receive, cerulo, fridge, today):
    soon = receive(cerulo, fridge, 1, lot_number="SOON", expiry_days=10)
    later = receive(cerulo, fridge, 1, lot_number="LATER", expiry_days=40)
    expiring = selectors.lots_expiring_within(on=today, days=30)
    assert list(expiring) == [(soon.pk, "SOON", soon.expiry_date, cerulo.pk)]
    assert [row[0] for row in selectors.lots_expiring_within(on=today, days=40)] == [
        soon.pk,
        later.pk,
    ]
    assert services.lots_expire(on=today + datetime.timedelta(days=10)) == 0
    assert services.lots_expire(on=today + datetime.timedelta(days=11)) == 1
    soon.refresh_from_db()
    assert soon.status == LotStatus.EXPIRED
    assert _level(soon, fridge).on_hand == 1  # still visible, no longer usable
    assert soon.movements.filter(kind=MovementKind.EXPIRY).count() == 1
    assert services.lots_expire(on=today + datetime.timedelta(days=11)) == 0


def test_stock_summary_counts_usable(
    receive, cerulo, fridge, pharmacist, today, django_assert_max_num_queries
):
    receive(cerulo, fridge, 5, lot_number="A")
    quarantined = receive(cerulo, fridge, 4, lot_number="B")
    services.lot_quarantine(lot_id=quarantined.pk, user=pharmacist, on=today, reason="QA")
    services.stock_reserve(presentation_id=cerulo.pk, quantity=2, on=today, reference="rx:1")
    with django_assert_max_num_queries(1):
        rows = selectors.stock_summary(on=today)
    assert [(r["on_hand"], r["reserved"], r["usable"]) for r in rows] == [(9, 2, 3)]


def test_ledger_sums_equal_levels_after_a_mixed_day(receive, cerulo, fridge, pharmacist, today):
    ward = StorageLocationFactory(code="ward")
    a = receive(cerulo, fridge, 20, lot_number="A", expiry_days=50)
    receive(cerulo, fridge, 10, lot_number="B", expiry_days=20)
    common = {"user": pharmacist, "on": today}
    for n in range(1, 6):
        services.stock_reserve(presentation_id=cerulo.pk, quantity=2, on=today, reference=f"rx:{n}")
    services.stock_transfer(
        lot_id=a.pk, from_location_id=fridge.pk, to_location_id=ward.pk, quantity=5, **common
    )
    for n in (1, 2, 3):
        services.stock_dispense(
            presentation_id=cerulo.pk, quantity=2, reference=f"rx:{n}", **common
        )
    services.reservation_release(reference="rx:4")
    services.stock_dispense(presentation_id=cerulo.pk, quantity=3, location_id=ward.pk, **common)
    services.stock_waste(lot_id=a.pk, location_id=ward.pk, quantity=1, reason="dropped", **common)
    services.stock_adjust(
        lot_id=a.pk, location_id=fridge.pk, quantity_delta=2, reason="found", **common
    )
    services.lot_quarantine(lot_id=a.pk, reason="check", **common)
    services.lot_destroy(lot_id=a.pk, location_id=ward.pk, reason="ward fridge fault", **common)
    assert selectors.ledger_mismatches() == []
    totals = {lvl.pk: (lvl.on_hand, lvl.reserved) for lvl in StockLevel.objects.all()}
    assert sum(on for on, _ in totals.values()) == 30 - 6 - 3 - 1 + 2 - 1


def test_daily_expiry_task_runs_the_service(receive, cerulo, fridge):
    from inventory.models import Lot
    from inventory.tasks import lots_expire

    lot = receive(cerulo, fridge, 1, expiry_days=0)
    Lot.objects.filter(pk=lot.pk).update(expiry_date=lot.expiry_date - datetime.timedelta(days=1))
    assert lots_expire.apply().get() == 1
    assert lots_expire.apply().get() == 0


def test_a_return_never_adds_vials_that_did_not_leave(receive, cerulo, fridge, pharmacist, today):
    lot = receive(cerulo, fridge, 5)
    with pytest.raises(ValidationError) as error:  # nothing was dispensed without a reference
        services.stock_return(
            lot_id=lot.pk, location_id=fridge.pk, quantity=500, user=pharmacist, on=today
        )
    assert "without a reference" in _fields(error)["quantity"][0]
    services.stock_dispense(
        presentation_id=cerulo.pk, quantity=2, on=today, user=pharmacist, lot_id=lot.pk
    )
    services.stock_return(
        lot_id=lot.pk, location_id=fridge.pk, quantity=2, user=pharmacist, on=today
    )
    assert _level(lot, fridge).on_hand == 5
