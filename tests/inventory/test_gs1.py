import datetime

import biip
import pytest
from django.core.exceptions import ValidationError

from inventory.gs1 import gs1_parse
from inventory.models import Lot, StockMovement
from inventory.services import lot_receive
from tests.factories import PresentationFactory

GTIN = "07032069804988"  # a valid GTIN-14 (check digit 8)
GS = "\x1d"


def test_biip_itself_reads_day_00_as_end_of_month():
    # Pin the parser's behaviour we rely on (and re-apply in gs1.py either way).
    message = biip.parse(f"01{GTIN}17280200").gs1_message
    assert message.element_strings.get(ai="17").date == datetime.date(2028, 2, 29)


@pytest.mark.parametrize(
    ("code", "expiry"),
    [
        (f"01{GTIN}17271100" + "10AB-123", datetime.date(2027, 11, 30)),
        (f"]d201{GTIN}1727021510AB-123", datetime.date(2027, 2, 15)),  # with symbology id
        (f"{GS}01{GTIN}10AB-123{GS}17270200", datetime.date(2027, 2, 28)),  # FNC1 + separator
        (f"(01){GTIN}(17)280200(10)AB-123", datetime.date(2028, 2, 29)),  # printed HRI, leap
        (f"(01){GTIN}(10)AB-123(17)271200", datetime.date(2027, 12, 31)),
    ],
)
def test_gs1_parse(code, expiry):
    pack = gs1_parse(code)
    assert (pack.gtin, pack.lot_number, pack.expiry_date) == (GTIN, "AB-123", expiry)


@pytest.mark.parametrize(
    ("code", "needle"),
    [
        ("", "Empty"),
        ("hello world", "Not a GS1"),
        (f"01{GTIN[:-1]}710AB", "is not valid"),  # bad GTIN check digit
        (f"01{GTIN}17271300" + "10AB", "Not a GS1"),  # month 13
        (f"01{GTIN}17271100", "no lot number"),
        (f"01{GTIN}10AB-1", "neither an expiry"),
        ("(17)271100(10)AB", "no GTIN"),
        (f"(01){GTIN}(10)AB(17)2711", "Not a GS1"),  # short date
        (f"(01){GTIN}(10)AB(17)271100(00)1", "Not a GS1"),  # bad SSCC
    ],
)
def test_gs1_parse_refuses_bad_codes(code, needle):
    with pytest.raises(ValidationError) as exc:
        gs1_parse(code)
    assert needle in exc.value.message_dict["gs1"][0]


@pytest.mark.django_db
def test_receive_by_scan(fridge, pharmacist, today):
    presentation = PresentationFactory(gtin=GTIN)
    expiry = today.replace(day=1) + datetime.timedelta(days=400)
    code = f"01{GTIN}17{expiry:%y%m}00" + "10SCAN-1"
    movement = lot_receive(gs1=code, quantity=5, location_id=fridge.pk, user=pharmacist, on=today)
    lot = movement.lot
    assert (lot.presentation, lot.lot_number, lot.gtin) == (presentation, "SCAN-1", GTIN)
    assert lot.expiry_date.month == expiry.month
    assert (lot.expiry_date + datetime.timedelta(days=1)).day == 1  # end of month


@pytest.mark.django_db
def test_receive_by_scan_refusals_write_nothing(fridge, pharmacist, today):
    PresentationFactory(gtin=GTIN)
    common = {"quantity": 5, "location_id": fridge.pk, "user": pharmacist, "on": today}
    with pytest.raises(ValidationError) as exc:
        lot_receive(gs1="(01)00000000000017(17)300100(10)X", **common)
    assert "Unknown GTIN" in exc.value.message_dict["gs1"][0]
    with pytest.raises(ValidationError) as exc:
        lot_receive(gs1=f"(01){GTIN}(17)200100(10)OLD", **common)
    assert "expired" in exc.value.message_dict["expiry_date"][0]
    with pytest.raises(ValidationError) as exc:
        lot_receive(gs1=f"(01){GTIN}(17)300100(10)X", lot_number="Y", **common)
    assert "scanned code" in exc.value.message_dict["lot_number"][0]
    assert not Lot.objects.exists() and not StockMovement.objects.exists()
