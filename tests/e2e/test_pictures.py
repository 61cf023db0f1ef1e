"""The pictures in the browser: the course timeline and calendar key, the stock forecast chart
and the cold-chain line, drawn from the demo's data at both widths (element screenshots kept in
test-artifacts/screenshots/pictures/)."""

import datetime as dt

import pytest
from django.utils import timezone

from courses.models import Course
from inventory.selectors import stock_forecast
from tests.e2e.conftest import ARTIFACTS, signed_in

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = ARTIFACTS / "pictures"


def shoot(page, selector, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 800):
        page.set_viewport_size({"width": width, "height": 900})
        page.locator(selector).first.screenshot(path=str(SHOTS / f"{name}-{width}.png"))
        box = page.locator(selector).first.bounding_box()
        assert box["x"] + box["width"] <= width, f"{name} wider than {width} px"


def test_course_timeline_and_calendar_key(page, demo):
    signed_in(page, "pharmacist")
    for course in Course.objects.order_by("pk"):
        page.goto(page.base_url + f"/courses/{course.pk}/")
        timeline = page.locator("svg.course-timeline")
        assert timeline.get_attribute("role") == "img"
        marks = timeline.locator(".dose-mark")
        statuses = [marks.nth(i).get_attribute("data-status") for i in range(marks.count())]
        shown = course.doses.exclude(status="cancelled").count()
        assert len(statuses) == shown
        given = course.doses.filter(status="given").count()
        assert statuses.count("given") == given
        assert timeline.locator(".shape-circle-filled").count() == given
        # Every status on the page has its entry in the key.
        legend = page.inner_text("#calendar-legend")
        for word in ("given", "planned or due", "overdue", "held", "refused", "missed", "today"):
            assert word in legend
        # Today is marked once, in its own month (not again in the next month's leading week).
        today = timezone.localdate()
        first, last = (
            course.doses.order_by("scheduled_at")[0],
            course.doses.order_by("-scheduled_at")[0],
        )
        if first.scheduled_at.date() <= today + dt.timedelta(days=1) and today <= (
            last.scheduled_at.date()
        ):
            assert page.locator("table.calendar td.today").count() == 1
            assert page.locator("table.calendar td[aria-current=date] .day").inner_text() == str(
                today.day
            )
        shoot(page, "svg.course-timeline", f"course-{course.pk}-timeline")
        shoot(page, "section:has(> h2:text('Calendar'))", f"course-{course.pk}-calendar")


def test_stock_forecast_chart(page, demo):
    signed_in(page, "pharmacist")
    page.goto(page.base_url + "/stock/forecast/?days=28")
    report = stock_forecast(start=timezone.localdate(), days=28)
    drawn = 0
    for row in report["presentations"]:
        if not (row["needed"] or row["expiring_unused"]):
            continue
        drawn += 1
        chart = page.locator(f"section[data-presentation='{row['presentation_code']}'] svg")
        bars = chart.locator("rect.demand")
        assert bars.count() == sum(1 for d in row["by_day"] if d["needed"])
        assert sorted(
            int(bars.nth(i).get_attribute("data-needed")) for i in range(bars.count())
        ) == sorted(d["needed"] for d in row["by_day"] if d["needed"])
        assert chart.locator("rect.shortage").count() == len(row["shortages"])
        assert chart.locator("path.usable-line").count() == 1
        in_period = {lot["expiry_date"] for lot in row["expiring_unused"]}  # one marker a day
        assert chart.locator("path.expiry-marker").count() == len(in_period)
    assert drawn == page.locator("svg.forecast-chart").count() > 0
    shoot(page, "figure.forecast-figure", "forecast")


def test_cold_chain_chart_is_a_continuous_line(page, demo):
    signed_in(page, "pharmacist")
    page.goto(page.base_url + f"/cold-chain/?location={demo['fridge'].pk}&period=24h")
    charts = page.locator("svg.temp-chart:has(rect.excursion)")
    assert charts.count() == 1  # the pharmacy fridge's 20 minutes out of range
    assert "Pharmacy fridge" in charts.first.get_attribute("aria-label")
    path = charts.first.locator("path.reading-line").get_attribute("d")
    # One segment per unbroken run of readings: a line, not disconnected ticks.
    assert path.count("M") <= 3 and path.count("L") > 10
    labels = charts.first.locator(".axis-x text")
    assert labels.count() >= 3
    shoot(page, "svg.temp-chart:has(rect.excursion)", "cold-chain")
