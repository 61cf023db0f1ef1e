import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from inventory import selectors, services
from inventory.models import Excursion, LotStatus, StockLevel, TemperatureReading
from tests.factories import PresentationFactory, StorageLocationFactory

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(datetime.datetime(2026, 3, 2, 8, 0))


def _reading(location, minutes, celsius, sensor="s1"):
    return {
        "location_id": location.pk,
        "sensor_id": sensor,
        "taken_at": T0 + datetime.timedelta(minutes=minutes),
        "temperature_c": Decimal(celsius),
    }


def _ingest(location, *pairs):
    return services.readings_ingest(readings=[_reading(location, m, c) for m, c in pairs])


def test_in_range_readings_open_nothing(receive, cerulo, fridge):
    receive(cerulo, fridge, 3)
    result = _ingest(fridge, (0, "4.5"), (10, "7.9"), (20, "2.0"))
    assert (result.created, result.excursions) == (3, [])
    assert not Excursion.objects.exists()


def test_excursion_opens_extends_closes_and_quarantines(receive, cerulo, fridge, pharmacist, today):
    lot = receive(cerulo, fridge, 3)
    other = StorageLocationFactory(code="other")
    elsewhere = receive(cerulo, other, 2, lot_number="ELSEWHERE")
    _ingest(fridge, (0, "5"), (10, "9.5"))
    excursion = Excursion.objects.get()
    assert (excursion.status, excursion.started_at, excursion.max_c) == (
        "open",
        T0 + datetime.timedelta(minutes=10),
        Decimal("9.5"),
    )
    lot.refresh_from_db()
    elsewhere.refresh_from_db()
    assert lot.status == LotStatus.QUARANTINED
    assert elsewhere.status == LotStatus.AVAILABLE
    assert list(excursion.lots.all()) == [lot]
    _ingest(fridge, (20, "11.0"), (30, "10.0"))  # repeated out-of-range: the same excursion
    assert Excursion.objects.count() == 1
    excursion.refresh_from_db()
    assert (excursion.max_c, excursion.minutes_out_of_range, excursion.status) == (
        Decimal("11.0"),
        20,
        "open",
    )
    with pytest.raises(ValidationError):  # nothing goes into an out-of-range fridge
        receive(cerulo, fridge, 1, lot_number="NEW")
    with pytest.raises(ValidationError):  # the excursion is still running
        services.excursion_resolve(
            excursion_id=excursion.pk, resolution="release", user=pharmacist, on=today, reason="x"
        )
    _ingest(fridge, (40, "6.0"))
    excursion.refresh_from_db()
    assert (excursion.status, excursion.minutes_out_of_range) == ("closed", 30)
    assert excursion.ended_at == T0 + datetime.timedelta(minutes=40)


def test_excursion_below_minimum_and_betaleukin_has_none(receive, cerulo, fridge):
    betaleukin = PresentationFactory(product__betaleukin=True)
    cold_room = StorageLocationFactory(code="cold", min_c=Decimal("8"), max_c=Decimal("15"))
    receive(betaleukin, cold_room, 2)
    _ingest(cold_room, (0, "-4.0"))  # no lower limit on the Betaleukin label
    assert not Excursion.objects.exists()
    _ingest(cold_room, (10, "15.5"))
    assert Excursion.objects.get().limit_min_c is None
    receive(cerulo, fridge, 2)
    _ingest(fridge, (0, "1.5"))
    assert Excursion.objects.get(location=fridge).min_c == Decimal("1.5")


def test_reopened_while_unresolved_accumulates_minutes(receive, cerulo, fridge):
    receive(cerulo, fridge, 2)
    _ingest(fridge, (0, "9"), (15, "5"), (60, "9.2"), (70, "9.4"), (75, "4"))
    excursion = Excursion.objects.get()
    assert excursion.minutes_out_of_range == 15 + 15
    assert excursion.status == "closed"


def test_late_reading_does_not_rewrite_history(receive, cerulo, fridge):
    receive(cerulo, fridge, 2)
    _ingest(fridge, (0, "5"), (30, "5"))
    _ingest(fridge, (10, "12"))  # arrives late: stored, but the fridge was in range since
    assert TemperatureReading.objects.count() == 3
    assert not Excursion.objects.exists()


@pytest.mark.parametrize("celsius", ["-50.01", "60.5", "-273"])
def test_implausible_readings_rejected_and_batch_not_half_written(fridge, celsius):
    with pytest.raises(ValidationError) as exc:
        services.readings_ingest(readings=[_reading(fridge, 0, "5"), _reading(fridge, 1, celsius)])
    assert "plausible" in exc.value.message_dict["1.temperature_c"][0]
    assert not TemperatureReading.objects.exists()


def test_duplicate_readings_are_skipped(fridge):
    services.readings_ingest(readings=[_reading(fridge, 0, "5")])
    result = services.readings_ingest(readings=[_reading(fridge, 0, "5"), _reading(fridge, 5, "5")])
    assert (result.created, result.duplicates) == (1, 1)


def test_resolve_by_release(receive, cerulo, fridge, pharmacist, today):
    lot = receive(cerulo, fridge, 3)
    _ingest(fridge, (0, "9"), (20, "5"))
    excursion = Excursion.objects.get()
    with pytest.raises(ValidationError):  # a held lot is released by resolving the excursion
        services.lot_release(lot_id=lot.pk, user=pharmacist, on=today, reason="looks fine")
    services.excursion_resolve(
        excursion_id=excursion.pk,
        resolution="release",
        user=pharmacist,
        on=today,
        reason="20 min at 9 °C: within the manufacturer's stability data",
    )
    lot.refresh_from_db()
    excursion.refresh_from_db()
    assert lot.status == LotStatus.AVAILABLE
    assert (excursion.status, excursion.resolved_by) == ("resolved", pharmacist)
    with pytest.raises(ValidationError):
        services.excursion_resolve(
            excursion_id=excursion.pk,
            resolution="release",
            user=pharmacist,
            on=today,
            reason="again",
        )


def test_resolve_by_discard_destroys_only_the_stock_there(
    receive, cerulo, fridge, pharmacist, today
):
    lot = receive(cerulo, fridge, 5)
    ward = StorageLocationFactory(code="ward")
    services.stock_transfer(
        lot_id=lot.pk,
        from_location_id=fridge.pk,
        to_location_id=ward.pk,
        quantity=2,
        user=pharmacist,
        on=today,
    )
    only_here = receive(cerulo, fridge, 1, lot_number="ONLY-HERE")
    services.stock_reserve(
        presentation_id=cerulo.pk, quantity=1, on=today, reference="rx:1", location_id=fridge.pk
    )
    _ingest(fridge, (0, "14"), (90, "5"))
    excursion = Excursion.objects.get()
    with pytest.raises(ValidationError) as exc:
        services.excursion_resolve(
            excursion_id=excursion.pk, resolution="freeze", user=pharmacist, on=today, reason="x"
        )
    assert "resolution" in exc.value.message_dict
    services.excursion_resolve(
        excursion_id=excursion.pk,
        resolution="discard",
        user=pharmacist,
        on=today,
        reason="90 min at 14 °C",
    )
    lot.refresh_from_db()
    only_here.refresh_from_db()
    assert StockLevel.objects.get(lot=lot, location=fridge).on_hand == 0
    assert StockLevel.objects.get(lot=lot, location=ward).on_hand == 2
    assert lot.status == LotStatus.AVAILABLE  # the ward's vials never left their range
    assert only_here.status == LotStatus.DESTROYED
    assert services.reservation_release(reference="rx:1") == 0
    assert selectors.ledger_mismatches() == []


def test_a_lot_quarantined_by_hand_in_an_excursion_fridge_stays_held_until_resolution(
    receive, cerulo, fridge, pharmacist, today
):
    lot = receive(cerulo, fridge, 4)
    services.lot_quarantine(lot_id=lot.pk, user=pharmacist, on=today, reason="Label check")
    _ingest(fridge, (0, "12.0"))  # out of range while the lot is already quarantined
    with pytest.raises(ValidationError):
        services.lot_release(lot_id=lot.pk, user=pharmacist, on=today, reason="Label fine")
    # Nor can new stock be counted into the fridge while it is out of range.
    with pytest.raises(ValidationError) as error:
        services.stock_adjust(
            lot_id=lot.pk,
            location_id=fridge.pk,
            quantity_delta=2,
            user=pharmacist,
            on=today,
            reason="Found in the back",
        )
    assert "out of its temperature range" in str(error.value)


def test_an_excursion_that_never_ends_can_be_discarded_and_stops_holding_the_fridge(
    receive, cerulo, fridge, pharmacist, today
):
    lot = receive(cerulo, fridge, 3)
    _ingest(fridge, (0, "14.0"))  # the fridge died; no reading will come back in range
    excursion = Excursion.objects.get()
    with pytest.raises(ValidationError):  # releasing needs the readings back in range
        services.excursion_resolve(
            excursion_id=excursion.pk,
            resolution="release",
            user=pharmacist,
            on=today,
            reason="Looks fine",
        )
    services.excursion_resolve(
        excursion_id=excursion.pk,
        resolution="discard",
        user=pharmacist,
        on=today,
        reason="Fridge failed; stock destroyed",
    )
    excursion.refresh_from_db()
    assert excursion.resolved_at is not None and excursion.ended_at is not None
    assert StockLevel.objects.get(lot=lot, location=fridge).on_hand == 0


@pytest.mark.parametrize("celsius", ["4.5", "12.0"])  # in range; out of range (one excursion)
def test_ingest_queries_do_not_grow_with_the_batch(receive, cerulo, fridge, celsius):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    receive(cerulo, fridge, 3)
    counts = []
    for offset, size in ((0, 5), (1000, 200)):
        with CaptureQueriesContext(connection) as queries:
            _ingest(fridge, *[(offset + n, celsius) for n in range(size)])
        counts.append(len(queries))
    # 40× the readings: a constant few more at most (batched writes), never one per reading.
    assert counts[1] <= counts[0] + 2, counts
