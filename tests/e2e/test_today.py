"""Today in real Chromium: a nurse records a dose with the FEFO lot suggested, stock goes down."""

import datetime as dt

import pytest
from django.utils import timezone

from courses.models import DoseStatus
from inventory.models import StockLevel
from tests.courses.helpers import prescribe
from tests.e2e.conftest import ARTIFACTS
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_nurse_records_a_dose_on_today(page, sign_in, roles, stocked, ward, physician, today):
    nurse = UserFactory(username="nina", first_name="Nina", last_name="Ward", roles=["nurse"])
    ward.members.add(nurse)
    now = timezone.localtime()
    course = prescribe(
        PatientFactory(ward=ward, name="Ada Lovelace", mrn="MRN-4711"),
        "biocerulin-general",
        physician,
        today,
        phases=[{"pattern": {"kind": "daily"}, "dose": "80"}],
        administration_time=dt.time(now.hour, now.minute),
    )
    dose = course.doses.order_by("sequence").first()
    lot = stocked["biocerulin-100mg-vial-5"]
    before = sum(StockLevel.objects.filter(lot=lot).values_list("on_hand", flat=True))

    sign_in(nurse)  # Today is the home page
    row = page.locator(f"#dose-{dose.pk}")
    assert "Ada Lovelace" in row.inner_text() and "MRN-4711" in row.inner_text()
    assert "1 × 100 mg vial (20 mg waste)" in row.inner_text()
    assert row.locator(".badge").inner_text() == "Due"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 800, "height": 1000})
    page.screenshot(path=str(ARTIFACTS / "today_tablet_800.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    scan = page.locator(f"#lot-{dose.pk}")
    # The FEFO lot is offered beside the box, not typed into it: the nurse scans the vial.
    assert scan.input_value() == ""
    assert f"Suggested: lot {lot.lot_number}" in row.inner_text() or (
        f"Suggested: lot {lot.lot_number}" in page.inner_text(f"form:has(#lot-{dose.pk})")
    )
    scan.fill(lot.lot_number)
    form = page.locator(f"form:has(input[name=dose][value='{dose.pk}'])")
    form.locator("button[value=given]").click()

    page.wait_for_selector(".msg.success")
    assert "recorded as given from lot " + lot.lot_number in page.inner_text(".msg.success")
    assert page.locator(f"#dose-{dose.pk} .badge").inner_text() == "Given"
    dose.refresh_from_db()
    assert dose.status == DoseStatus.GIVEN and dose.lot_number == lot.lot_number
    after = sum(StockLevel.objects.filter(lot=lot).values_list("on_hand", flat=True))
    assert after == before - 1


def test_refused_needs_a_reason_shown_in_place(
    page, sign_in, roles, stocked, ward, physician, today
):
    nurse = UserFactory(username="nora", roles=["nurse"])
    ward.members.add(nurse)
    course = prescribe(
        PatientFactory(ward=ward, name="Grace Hopper"),
        "biocerulin-general",
        physician,
        today,
        phases=[{"pattern": {"kind": "daily"}, "dose": "80"}],
    )
    dose = course.doses.order_by("sequence").first()
    sign_in(nurse)
    form = page.locator(f"form:has(input[name=dose][value='{dose.pk}'])")
    form.locator("button[value=refused]").click()
    page.wait_for_selector(".record-row.has-error")
    assert "Say why the dose was not given." in page.inner_text(".record-row.has-error")
    # Re-adding the dose is a required answer, never a default (issue 11).
    assert "Say whether the dose is re-added" in page.inner_text(".record-row.has-error")
    page.fill(f"#reason-{dose.pk}", "Patient declined today")
    row = page.locator(f"form:has(input[name=dose][value='{dose.pk}'])")
    row.locator("input[name=replace][value=no]").check()
    row.locator("button[value=refused]").click()
    page.wait_for_selector(".msg.success")
    assert page.locator(f"#dose-{dose.pk} .badge").inner_text() == "Refused"
