"""GS1 as scanners send it: round trips of one pack through 24 scanner forms, each read by our
`gs1_parse` and independently by `biip` (the outside parser), plus the refusals a pharmacist sees.
"""

import datetime
from urllib.parse import quote

import biip
import pytest
from biip.gs1_messages import GS1Message
from django.core.exceptions import ValidationError
from django.test import Client

from config.roles import Role
from inventory.demo import demo_gtin, inventory_demo_seed
from inventory.gs1 import gs1_parse, gtin_check_digit_error
from inventory.models import Lot, Presentation, StockMovement
from inventory.services import lot_receive
from tests.factories import PresentationFactory, UserFactory

GTIN = "07032069804988"  # a valid GTIN-14 (check digit 8)
GS = "\x1d"
LOT = "AB-123"
EXPIRY = datetime.date(2027, 11, 30)
MADE = datetime.date(2025, 11, 3)


def test_biip_itself_reads_day_00_as_end_of_month():
    # Pin the parser's behaviour we rely on (and re-apply in gs1.py either way).
    message = biip.parse(f"01{GTIN}17280200").gs1_message
    assert message.element_strings.get(ai="17").date == datetime.date(2028, 2, 29)


def _forms(gtin: str, lot: str, expiry: datetime.date, made: datetime.date) -> dict[str, str]:
    exp, mfg = f"{expiry:%y%m%d}", f"{made:%y%m%d}"
    dl_lot = quote(lot, safe="")
    return {
        # GS1-128 / DataMatrix element strings, as a keyboard-wedge scanner types them.
        "fixed first, lot last": f"01{gtin}17{exp}10{lot}",
        "leading FNC1": f"{GS}01{gtin}17{exp}10{lot}",
        "GS1-128 ]C1": f"]C101{gtin}17{exp}10{lot}",
        "DataMatrix ]d2": f"]d201{gtin}17{exp}10{lot}",
        "QR ]Q3 element string": f"]Q301{gtin}17{exp}10{lot}",
        "DataBar expanded ]e0": f"]e001{gtin}17{exp}10{lot}",
        "lot in the middle, FNC1 as GS": f"01{gtin}10{lot}{GS}17{exp}",
        "]d2, lot in the middle": f"]d201{gtin}10{lot}{GS}17{exp}",
        "with production date": f"01{gtin}11{mfg}17{exp}10{lot}",
        "with serial after GS": f"01{gtin}17{exp}10{lot}{GS}21SN0001",
        "]d2, serial then lot": f"]d201{gtin}17{exp}21SN0001{GS}10{lot}",
        "scanner suffix CR LF": f"01{gtin}17{exp}10{lot}\r\n",
        "trailing GS": f"01{gtin}17{exp}10{lot}{GS}",
        # The printed human-readable text under the symbol.
        "HRI 01 17 10": f"(01){gtin}(17){exp}(10){lot}",
        "HRI 01 10 17": f"(01){gtin}(10){lot}(17){exp}",
        "HRI with 11 and 21": f"(01){gtin}(11){mfg}(17){exp}(10){lot}(21)SN0001",
        # GS1 Digital Link URIs (QR / DataMatrix on newer packs).
        "Digital Link": f"https://id.gs1.org/01/{gtin}/10/{dl_lot}?17={exp}",
        "Digital Link, own resolver with path": (
            f"https://pharmacy.example/gs1/01/{gtin}/10/{dl_lot}?17={exp}"
        ),
        "Digital Link with serial": f"https://id.gs1.org/01/{gtin}/10/{dl_lot}/21/SN1?17={exp}",
        "Digital Link, 11 and 17 in the query": (
            f"https://id.gs1.org/01/{gtin}/10/{dl_lot}?11={mfg}&17={exp}"
        ),
        "Digital Link, QR ]Q1 prefix": f"]Q1https://id.gs1.org/01/{gtin}/10/{dl_lot}?17={exp}",
        "Digital Link, http": f"http://id.gs1.org/01/{gtin}/10/{dl_lot}?17={exp}",
        "Digital Link, extra non-GS1 query": (
            f"https://id.gs1.org/01/{gtin}/10/{dl_lot}?17={exp}&linkType=gs1:epil"
        ),
        "Digital Link, lot with a slash": (
            f"https://id.gs1.org/01/{gtin}/10/{quote(lot + '/2', safe='')}?17={exp}"
        ),
    }


FORMS = _forms(GTIN, LOT, EXPIRY, MADE)


def _biip_elements(code: str) -> dict[str, str]:
    """What the outside parser reads: AI → value."""
    code = code.strip()
    if code.startswith("]Q1http"):
        code = code[3:]  # biip 5.2 reads a URI only after ]Q3; gs1.py drops any QR prefix too
    if code.startswith("("):
        strings = GS1Message.parse_hri(code).element_strings
    else:
        result = biip.parse(code)
        message = (
            result.gs1_digital_link_uri.as_gs1_message()
            if result.gs1_digital_link_uri
            else result.gs1_message
        )
        strings = message.element_strings
    return {element.ai.ai: element.value for element in strings}


def test_there_are_at_least_twenty_scanner_forms():
    assert len(FORMS) >= 20


@pytest.mark.parametrize("form", list(FORMS))
def test_round_trip_through_each_scanner_form(form):
    code = FORMS[form]
    lot = LOT + "/2" if "slash" in form else LOT
    pack = gs1_parse(code)
    assert (pack.gtin, pack.lot_number, pack.expiry_date) == (GTIN, lot, EXPIRY)
    if "11" in _biip_elements(code):
        assert pack.manufacture_date == MADE
    # The outside parser reads the same pack from the same characters.
    elements = _biip_elements(code)
    assert (elements["01"], elements["10"], elements["17"]) == (GTIN, lot, f"{EXPIRY:%y%m%d}")


@pytest.mark.parametrize(
    ("code", "expiry"),
    [
        (f"01{GTIN}17271100" + "10AB-123", datetime.date(2027, 11, 30)),  # day 00: month end
        (f"(01){GTIN}(17)280200(10)AB-123", datetime.date(2028, 2, 29)),  # leap year
        (f"https://id.gs1.org/01/{GTIN}/10/AB-123?17=271200", datetime.date(2027, 12, 31)),
    ],
)
def test_expiry_day_00_is_the_end_of_the_month(code, expiry):
    assert gs1_parse(code).expiry_date == expiry


@pytest.mark.parametrize(
    ("code", "needles"),
    [
        ("", ["Empty"]),
        ("hello world", ["not a GS1 pack code", "(01)"]),
        (f"01{GTIN[:-1]}710AB", ["GTIN 07032069804987", "last digit should be 8"]),
        (f"https://id.gs1.org/01/{GTIN[:-1]}7/10/AB?17=271100", ["last digit should be 8"]),
        (f"01{GTIN}17271300" + "10AB", ["(17)", "expiry date", "YYMMDD"]),  # month 13
        (f"01{GTIN}17271100", ["no lot number (10)"]),
        ("(17)271100(10)AB", ["no GTIN (01)"]),
        (f"(01){GTIN}(10)AB(17)2711", ["(17)", "expiry date"]),  # short date
        (f"(01){GTIN}(10)AB(17)271100(00)1", ["(00)", "SSCC"]),
        (f"01{GTIN[:-3]}", ["(01)", "14 digits"]),
        ("https://example.com/products/42", ["not a GS1 Digital Link", "/01/"]),
        (f"https://id.gs1.org/01/{GTIN}/10/AB?17=271399", ["(17)", "expiry date"]),
        # The lot came first and the scanner sent no separator: it swallowed the expiry.
        (f"01{GTIN}10AB-1" + "17271100", ["separator", "expiry date (17) 271100", "ASCII 29"]),
    ],
)
def test_refusals_name_the_element_and_never_the_parser(code, needles):
    with pytest.raises(ValidationError) as exc:
        gs1_parse(code)
    message = exc.value.message_dict["gs1"][0]
    for needle in needles:
        assert needle in message, message
    for internal in ("pattern", "^", "\\d", "Failed to", "Application Identifier", "ParseError"):
        assert internal not in message, message


def test_gtin_check_digits():
    assert gtin_check_digit_error(GTIN) is None
    assert "should be 8, not 7" in gtin_check_digit_error(GTIN[:-1] + "7")
    assert gtin_check_digit_error("0703206980498") is not None  # 13 digits, wrong check
    assert demo_gtin(1).startswith("02099999") and gtin_check_digit_error(demo_gtin(1)) is None


@pytest.mark.django_db
def test_a_presentation_refuses_a_wrong_check_digit_in_model_api_and_admin(roles, formulary):
    presentation = Presentation.objects.order_by("code").first()
    presentation.gtin = GTIN[:-1] + "7"
    with pytest.raises(ValidationError) as exc:
        presentation.full_clean()
    assert "check digit" in exc.value.message_dict["gtin"][0]

    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(UserFactory(roles=[Role.PHARMACIST]))
    url = f"/api/v1/presentations/{presentation.pk}/"
    response = api.patch(url, {"gtin": GTIN[:-1] + "7"}, format="json")
    assert response.status_code == 400
    assert "last digit should be 8" in response.json()["error"]["fields"]["gtin"][0]
    assert api.patch(url, {"gtin": GTIN}, format="json").status_code == 200

    admin = Client()
    admin.force_login(UserFactory(roles=[Role.PHARMACIST], is_staff=True, is_superuser=True))
    page = admin.get(f"/admin/inventory/presentation/{presentation.pk}/change/")
    form = page.context["adminform"].form
    data = {
        name: ("" if value is None else value)
        for name, value in form.initial.items()
        if name in form.fields
    }
    data["product"] = presentation.product_id
    data["gtin"] = "02099999000017"  # check digit should be 6
    response = admin.post(f"/admin/inventory/presentation/{presentation.pk}/change/", data)
    assert response.status_code == 200  # the form again, with the error
    assert "check digit" in response.content.decode()
    presentation.refresh_from_db()
    assert presentation.gtin == GTIN


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
def test_receive_by_digital_link(fridge, pharmacist, today):
    PresentationFactory(gtin=GTIN)
    expiry = today + datetime.timedelta(days=400)
    code = f"https://id.gs1.org/01/{GTIN}/10/DL-7?17={expiry:%y%m%d}"
    movement = lot_receive(gs1=code, quantity=2, location_id=fridge.pk, user=pharmacist, on=today)
    assert (movement.lot.lot_number, movement.lot.expiry_date) == ("DL-7", expiry)


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


@pytest.mark.django_db
def test_demo_presentations_carry_valid_gtins_and_receive_by_scan(
    formulary, pharmacist, fridge, today
):
    inventory_demo_seed(user=pharmacist)
    gtins = list(Presentation.objects.values_list("gtin", flat=True))
    assert len(gtins) == 7 and all(gtin_check_digit_error(g) is None for g in gtins)
    assert all(g.startswith("02099999") for g in gtins)  # restricted-circulation prefix
    expiry = today + datetime.timedelta(days=300)
    code = f"]d201{gtins[0]}17{expiry:%y%m%d}10SCAN-DEMO"
    movement = lot_receive(gs1=code, quantity=5, location_id=fridge.pk, user=pharmacist, on=today)
    assert movement.lot.presentation.gtin == gtins[0]
