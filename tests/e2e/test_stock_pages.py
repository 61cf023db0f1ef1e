"""Stock pages in Chromium: receiving by scan, the stock list, a lot page, the forecast."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS
from tests.factories import PresentationFactory, StorageLocationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

GTIN = "07032069804988"


def _shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_pharmacist_receives_a_lot_by_scanning_and_sees_it_in_stock(page, sign_in, roles):
    PresentationFactory(code="cerulo-100", gtin=GTIN)
    fridge = StorageLocationFactory(code="main-fridge", name="Main fridge")
    expiry = timezone.localdate() + datetime.timedelta(days=300)
    sign_in(UserFactory(username="phil", roles=["pharmacist"]))
    page.click("header.top nav >> text=Stock")
    with page.expect_navigation():
        page.click(".subnav >> text=Receive")
    # The scan box has the focus, as a scanner needs (waited for: the page focuses it on load).
    expect(page.locator("#id_gs1")).to_be_focused()
    page.fill("#id_quantity", "5")
    page.select_option("#id_location", str(fridge.pk))
    page.focus("#id_gs1")
    page.keyboard.type(f"(01){GTIN}(17){expiry:%y%m%d}(10)E2E-LOT-1")
    page.keyboard.press("Enter")
    page.wait_for_selector(".msg.success")
    assert "Received 5 ×" in page.inner_text(".msg.success")
    assert "E2E-LOT-1" in page.inner_text("#recent-receipts")
    _shot(page, "stock_receive_after_scan")
    # Ready for the next pack: the box is empty and focused, the vial count and place stay.
    assert page.input_value("#id_gs1") == ""
    expect(page.locator("#id_gs1")).to_be_focused()
    assert page.input_value("#id_quantity") == "5"
    assert page.input_value("#id_location") == str(fridge.pk)

    # A scan of an unknown GTIN: the error is shown with the code read, the box is empty again.
    unknown = f"(01)07032069804971(17){expiry:%y%m%d}(10)E2E-LOT-2"
    page.keyboard.type(unknown)
    page.keyboard.press("Enter")
    page.wait_for_selector(".field.has-error")
    assert "Unknown GTIN" in page.inner_text(".field.has-error")
    assert page.input_value("#id_gs1") == ""
    expect(page.locator("#id_gs1")).to_be_focused()
    assert unknown in page.inner_text("#last-scan")
    assert "unknown GTIN" in page.inner_text(".scan-preview")
    _shot(page, "stock_receive_unknown_gtin")

    # The next pack straight away, as a scanner types a GS1-128 element string.
    page.keyboard.type(f"01{GTIN}17{expiry:%y%m%d}10E2E-LOT-3")
    page.keyboard.press("Enter")
    page.wait_for_selector(".msg.success")
    assert "Received 5 ×" in page.inner_text(".msg.success")
    assert "E2E-LOT-3" in page.inner_text("#recent-receipts")

    with page.expect_navigation():  # read the new page, not the one being left
        page.click(".subnav >> text=Stock")
    summary = page.inner_text("#stock-summary")
    assert "Main fridge" in summary and "Ceruloplasmin 100 mg vial" in summary
    assert "E2E-LOT-1" in page.inner_text("#stock-lots")
    _shot(page, "stock_list")
    page.set_viewport_size({"width": 800, "height": 1000})
    _shot(page, "stock_list_tablet")
    page.set_viewport_size({"width": 1280, "height": 900})

    with page.expect_navigation():
        page.click("#stock-lots >> text=E2E-LOT-1")
    assert "Lot E2E-LOT-1" in page.inner_text("h1")
    assert "Receipt" in page.inner_text("#lot-ledger")
    assert "phil" in page.inner_text("#lot-ledger")
    # Quarantine asks first, then records the reason.
    page.once("dialog", lambda dialog: dialog.accept())
    page.fill("#id_quarantine-reason", "Damaged outer pack")
    page.click("#form-quarantine button")
    page.wait_for_selector(".msg.success")
    assert "Quarantined" in page.inner_text("h1")
    assert "Damaged outer pack" in page.inner_text("#lot-ledger")
    _shot(page, "stock_lot")

    page.click(".subnav >> text=Forecast")
    page.wait_for_selector("h1:has-text('Stock forecast')")


def test_nurse_dispenses_and_sees_no_adjustment(page, sign_in, roles, ward):
    from inventory.services import lot_receive

    presentation = PresentationFactory()
    fridge = StorageLocationFactory(code="ward-fridge", name="Ward fridge", ward=ward)
    pharmacist = UserFactory(roles=["pharmacist"])
    lot = lot_receive(
        presentation_id=presentation.pk,
        location_id=fridge.pk,
        quantity=6,
        lot_number="WARD-1",
        expiry_date=timezone.localdate() + datetime.timedelta(days=90),
        user=pharmacist,
        on=timezone.localdate(),
    ).lot
    nurse = UserFactory(username="nina", roles=["nurse"])
    ward.members.add(nurse)
    sign_in(nurse)
    page.goto(f"{page.base_url}/stock/lots/{lot.pk}/")
    assert page.locator("#form-adjust").count() == 0
    assert page.locator("#form-quarantine").count() == 0
    page.fill("#id_dispense-quantity", "2")
    page.fill("#id_dispense-recipient", "Ward 3A trolley")
    page.click("#form-dispense button")
    page.wait_for_selector(".msg.success")
    assert "4" in page.inner_text("#lot-levels")
    page.set_viewport_size({"width": 800, "height": 1000})
    _shot(page, "stock_lot_nurse_tablet")
