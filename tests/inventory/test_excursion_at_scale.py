"""An excursion at a pharmacy fridge holds thousands of lots (10,930 at the bench's large size):
quarantining, releasing and discarding them take queries that do not grow with the lots, and the
e-mail and the cold-chain page name a bounded number of them, the rest on the stock page."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from inventory import selectors, services
from inventory.models import Excursion, Lot, LotStatus, MovementKind, StockLevel, StockMovement
from notifications.models import Notification, NotificationKind
from tests.factories import StorageLocationFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(datetime.datetime(2026, 3, 2, 8, 0))


def _ingest(location, minutes, celsius):
    return services.readings_ingest(
        readings=[
            {
                "location_id": location.pk,
                "sensor_id": "s1",
                "taken_at": T0 + datetime.timedelta(minutes=minutes),
                "temperature_c": Decimal(celsius),
            }
        ]
    )


def _fridge_with_lots(receive, cerulo, pharmacist, today, *, code: str, lots: int):
    """A fridge holding `lots` lots; the first also has vials on a ward, the second is reserved
    there (a destruction releases the hold first)."""
    fridge = StorageLocationFactory(code=code)
    ward = StorageLocationFactory(code=f"{code}-ward")
    held = [receive(cerulo, fridge, 3, lot_number=f"{code.upper()}-{n}") for n in range(lots)]
    services.stock_transfer(
        lot_id=held[0].pk,
        from_location_id=fridge.pk,
        to_location_id=ward.pk,
        quantity=1,
        user=pharmacist,
        on=today,
    )
    services.stock_reserve(
        presentation_id=cerulo.pk,
        quantity=1,
        on=today,
        reference=f"rx:{code}",
        location_id=fridge.pk,
    )
    return fridge, held


def _queries(function) -> int:
    with CaptureQueriesContext(connection) as queries:
        function()
    return len(queries)


@pytest.mark.parametrize("resolution", ["release", "discard"])
def test_quarantine_and_resolution_take_the_same_queries_for_3_or_30_lots(
    receive, cerulo, pharmacist, today, resolution
):
    opened, resolved = [], []
    for code, size in (("small", 3), ("large", 30)):
        fridge, lots = _fridge_with_lots(receive, cerulo, pharmacist, today, code=code, lots=size)
        opened.append(_queries(lambda fridge=fridge: _ingest(fridge, 0, "12.5")))
        excursion = Excursion.objects.get(location=fridge)
        assert excursion.lots.count() == size
        assert set(Lot.objects.filter(pk__in=[lot.pk for lot in lots]).values_list("status")) == {
            (LotStatus.QUARANTINED,)
        }
        # One quarantine line per level holding the lot (the first lot: the fridge and the ward).
        lines = StockMovement.objects.filter(kind=MovementKind.QUARANTINE, lot__in=lots)
        assert lines.count() == size + 1
        assert lines.get(lot=lots[0], location=fridge).quantity == 2
        assert lines.exclude(reason__startswith=f"Temperature excursion at {fridge}").count() == 0
        _ingest(fridge, 30, "5.0")  # back in range: now it may be released
        resolved.append(
            _queries(
                lambda excursion=excursion: services.excursion_resolve(
                    excursion_id=excursion.pk,
                    resolution=resolution,
                    user=pharmacist,
                    on=today,
                    reason="30 min at 12.5 °C",
                )
            )
        )
        statuses = dict(
            Lot.objects.filter(pk__in=[lot.pk for lot in lots]).values_list("pk", "status")
        )
        if resolution == "release":
            assert set(statuses.values()) == {LotStatus.AVAILABLE}
            assert StockLevel.objects.filter(location=fridge, on_hand=3).count() == size - 1
        else:
            # The ward's vial never left its range: that lot returns to use; the rest are gone.
            assert statuses.pop(lots[0].pk) == LotStatus.AVAILABLE
            assert set(statuses.values()) == {LotStatus.DESTROYED}
            assert not StockLevel.objects.filter(location=fridge, on_hand__gt=0).exists()
            assert StockLevel.objects.get(lot=lots[0], location__code=f"{code}-ward").on_hand == 1
            assert services.reservation_release(reference=f"rx:{code}") == 0
    assert selectors.ledger_mismatches() == []
    assert opened[1] == opened[0], opened
    assert resolved[1] == resolved[0], resolved


def test_release_keeps_a_lot_another_unresolved_excursion_holds(receive, cerulo, pharmacist, today):
    fridge, lots = _fridge_with_lots(receive, cerulo, pharmacist, today, code="a", lots=3)
    _ingest(fridge, 0, "12.5")
    _ingest(fridge, 30, "5.0")
    # The first lot's ward fridge goes out of range too, and stays unresolved.
    ward = lots[0].levels.exclude(location=fridge).get().location
    _ingest(ward, 10, "14.0")
    services.excursion_resolve(
        excursion_id=Excursion.objects.get(location=fridge).pk,
        resolution="release",
        user=pharmacist,
        on=today,
        reason="fine",
    )
    statuses = dict(Lot.objects.filter(pk__in=[lot.pk for lot in lots]).values_list("pk", "status"))
    assert statuses == {
        lots[0].pk: LotStatus.QUARANTINED,
        lots[1].pk: LotStatus.AVAILABLE,
        lots[2].pk: LotStatus.AVAILABLE,
    }


def test_expired_lots_are_marked_in_one_go_each_with_its_own_date(receive, cerulo, fridge, today):
    first = receive(cerulo, fridge, 2, lot_number="OLD-1", expiry_days=0)
    second = receive(cerulo, fridge, 2, lot_number="OLD-2", expiry_days=1)
    later = today + datetime.timedelta(days=3)
    assert services.lots_expire(on=later) == 2
    for lot in (first, second):
        lot.refresh_from_db()
        assert (lot.status, lot.status_reason) == (
            LotStatus.EXPIRED,
            f"Expired on {lot.expiry_date}.",
        )
        line = StockMovement.objects.get(lot=lot, kind=MovementKind.EXPIRY)
        assert (line.location, line.quantity, line.reason) == (fridge, 2, lot.status_reason)


def test_the_alert_and_the_cold_chain_page_name_a_bounded_number_of_lots(
    receive, cerulo, fridge, settings
):
    settings.EXCURSION_LOTS_LISTED = 2
    for n in range(5):
        receive(cerulo, fridge, 1, lot_number=f"FRIDGE-{n}")
    _ingest(fridge, 0, "12.5")
    alert = Notification.objects.get(kind=NotificationKind.EXCURSION_ALERT)
    listed = [line for line in alert.body_text.splitlines() if line.startswith("- ")]
    assert [line.split()[1] for line in listed] == ["FRIDGE-0", "FRIDGE-1"]
    stock_link = f"{reverse('stock')}?location={fridge.pk}"
    assert "And 3 more lots, not listed here" in alert.body_text
    assert stock_link in alert.body_text and stock_link in alert.body_html
    client = Client()
    client.force_login(UserFactory(roles=[Role.PHARMACIST]))
    page = client.get(reverse("cold-chain")).content.decode()
    assert "FRIDGE-1" in page and "FRIDGE-2" not in page
    assert "and 3 more lots: the stock at this location" in page
    assert f'href="{reverse("stock")}?location={fridge.pk}"' in page
