"""Preparation labels in real Chromium: the print layout (100 × 70 mm pages, A4 sheets) and the
bedside scan of a label into Today's scan box (a keyboard-wedge scanner types, then Enter)."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from courses import services
from tests.courses.helpers import prescribe
from tests.e2e.conftest import ARTIFACTS
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

MM_IN_PT = 72 / 25.4


def _course(ward, physician, today, name, mrn):
    now = timezone.localtime()
    return prescribe(
        PatientFactory(ward=ward, name=name, mrn=mrn, birth_date=today - dt.timedelta(days=8 * 31)),
        "ceruloplasmin-child-purulent-surgical",
        physician,
        today,
        phases=[{"count": 7}],
        administration_time=dt.time(now.hour, now.minute),
    )


def _pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    return [(float(w), float(h)) for w, h in boxes]


def test_day_labels_print_one_per_100_by_70_mm_page_or_eight_per_a4(
    page, sign_in, roles, stocked, ward, physician, today
):
    nurse = UserFactory(username="lena", roles=["nurse"])
    ward.members.add(nurse)
    _course(ward, physician, today, "Baby Ada", "M-1001")
    _course(ward, physician, today, "Baby Bo", "M-1002")
    sign_in(nurse)
    page.goto(f"{page.base_url}/labels/?date={today}&ward=ward-3a")
    labels = page.locator("article.label")
    assert labels.count() == 2
    first = labels.first.inner_text()
    assert "Baby Ada" in first and "MRN M-1001" in first
    assert "Give 100 ml of 200 ml at 30 drops/min" in first and "discard 100 ml" in first
    assert labels.first.locator("svg").count() == 1  # the QR code, inline
    box = labels.first.bounding_box()  # CSS mm at 96 dpi: 100 mm = 378 px, 70 mm = 265 px
    assert round(box["width"]) == 378 and round(box["height"]) == 265
    page.emulate_media(media="print")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "labels_print_100x70.png"), full_page=True)
    assert page.locator("header.top").is_hidden() and page.locator(".label-tools").is_hidden()

    sizes = _pdf_pages(page.pdf(prefer_css_page_size=True))
    assert len(sizes) == 2  # one label a page
    assert all(abs(w - 100 * MM_IN_PT) < 1 and abs(h - 70 * MM_IN_PT) < 1 for w, h in sizes)

    page.emulate_media(media="screen")
    page.click("text=A4 sheet (8 labels)")
    page.wait_for_url(re.compile(r"format=a4"))
    sizes = _pdf_pages(page.pdf(prefer_css_page_size=True))
    assert len(sizes) == 1 and abs(sizes[0][0] - 210 * MM_IN_PT) < 1
    page.emulate_media(media="print")
    page.screenshot(path=str(ARTIFACTS / "labels_print_a4.png"), full_page=True)
    page.emulate_media(media="screen")


def test_scanning_a_label_opens_the_dose_and_refuses_another_patients_or_a_cancelled_one(
    page, sign_in, roles, stocked, ward, physician, today
):
    nurse = UserFactory(username="mia", roles=["nurse"])
    ward.members.add(nurse)
    course = _course(ward, physician, today, "Baby Cy", "M-2001")
    dose = course.doses.order_by("sequence").first()
    stopped = _course(ward, physician, today, "Baby Di", "M-2002")
    stopped_dose = stopped.doses.order_by("sequence").first()
    services.course_cancel(course=stopped, user=physician, reason="Transferred")

    sign_in(nurse)
    page.keyboard.type(f"dose:{dose.pk}")  # the scan box has the focus; the scanner types
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"open={dose.pk}"))
    assert "Label scanned: dose 1 for Baby Cy" in page.inner_text(".msg")
    assert "opened" in (page.locator(f"#dose-{dose.pk}").get_attribute("class") or "")
    # Focus moves to the opened dose's lot box: the next scan is the vial.
    page.wait_for_function(
        f"document.activeElement && document.activeElement.id === 'lot-{dose.pk}'"
    )

    # At Baby Cy's bedside, another patient's label is refused before anything else.
    page.fill("#scan", f"dose:{stopped_dose.pk}")
    page.press("#scan", "Enter")
    page.wait_for_selector(".msg.error")
    message = page.inner_text(".msg.error")
    assert "Label refused" in message and "is for another patient (MRN M-2002)" in message
    # From the ward's list, the same label is refused because its course was stopped.
    page.goto(page.base_url + "/")
    page.fill("#scan", f"dose:{stopped_dose.pk}")
    page.press("#scan", "Enter")
    page.wait_for_selector(".msg.error")
    message = page.inner_text(".msg.error")
    assert "Label refused" in message and "was cancelled" in message
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "today_label_refused.png"), full_page=True)
