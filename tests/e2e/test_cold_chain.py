"""Cold chain in Chromium: an excursion shaded on the chart, then released by a pharmacist."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import Excursion, LotStatus
from inventory.services import lot_receive, readings_ingest
from tests.e2e.conftest import ARTIFACTS
from tests.factories import PresentationFactory, StorageLocationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_excursion_is_shaded_on_the_chart_and_released_with_a_reason(page, sign_in, roles):
    pharmacist = UserFactory(username="phil", roles=["pharmacist"])
    fridge = StorageLocationFactory(code="main-fridge", name="Main fridge")
    StorageLocationFactory(code="spare-fridge", name="Spare fridge")
    today = timezone.localdate()
    lot = lot_receive(
        presentation_id=PresentationFactory().pk,
        location_id=fridge.pk,
        quantity=8,
        lot_number="COLD-1",
        expiry_date=today + datetime.timedelta(days=200),
        user=pharmacist,
        on=today,
    ).lot
    now = timezone.now().replace(microsecond=0)
    # A reading a minute over six hours, one out-of-range spell of 20 minutes an hour ago.

    def celsius(minute):
        if -60 <= minute < -40:
            return Decimal("12.5")
        return Decimal("4.5" if minute % 20 else "5.5")

    readings_ingest(
        readings=[
            {
                "location_id": fridge.pk,
                "sensor_id": "probe-1",
                "taken_at": now + datetime.timedelta(minutes=m),
                "temperature_c": celsius(m),
            }
            for m in range(-360, 0)
        ]
    )
    excursion = Excursion.objects.get()
    lot.refresh_from_db()
    assert lot.status == LotStatus.QUARANTINED

    sign_in(pharmacist)
    page.click("header.top nav >> text=Cold chain")
    chart = page.locator("svg.temp-chart")
    assert chart.count() == 1
    shaded = page.locator("svg.temp-chart rect.excursion")
    assert shaded.count() == 1
    start = datetime.datetime.fromisoformat(shaded.get_attribute("data-start"))
    end = datetime.datetime.fromisoformat(shaded.get_attribute("data-end"))
    assert (start, end) == (excursion.started_at, excursion.ended_at)
    assert end - start == datetime.timedelta(minutes=20)
    # Within the last 24 hours: the shaded spell sits near the right edge of the plot.
    plot = page.locator("svg.temp-chart rect.plot")
    plot_x, plot_w = float(plot.get_attribute("x")), float(plot.get_attribute("width"))
    x, w = float(shaded.get_attribute("x")), float(shaded.get_attribute("width"))
    assert plot_x + 0.9 * plot_w < x < plot_x + plot_w
    assert w == pytest.approx(plot_w * 20 / (24 * 60), abs=0.2)
    assert page.locator("svg.temp-chart path.reading-line").count() == 1
    assert page.locator("svg.temp-chart rect.band-location").count() == 1
    assert page.locator("svg.temp-chart rect.band-product").count() == 1
    assert "COLD-1" in page.inner_text("#excursions-pending")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cold_chain_excursion.png"), full_page=True)

    page.click("label.chip:has-text('Last 7 days')")
    page.click(".chart-period button")
    page.wait_for_url("**period=7d**")
    assert page.locator("svg.temp-chart rect.excursion").count() == 1
    page.set_viewport_size({"width": 800, "height": 1000})
    page.screenshot(path=str(ARTIFACTS / "cold_chain_7d_tablet.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    # The reason is required: the error shows on the row and the choice is kept.
    row = page.locator(f"#excursion-{excursion.pk}")
    row.locator("input[value=release]").check()
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button").click()
    page.wait_for_selector(f"#excursion-{excursion.pk} .errorlist")
    row = page.locator(f"#excursion-{excursion.pk}")
    assert row.locator("input[value=release]").is_checked()
    row.locator("input[type=text]").fill("Probe in door; product core stayed cold")
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button").click()
    page.wait_for_selector(".msg.success")
    assert "stock released" in page.inner_text(".msg.success")
    assert "Probe in door" in page.inner_text("#excursions-resolved")
    assert page.locator("#excursions-pending").count() == 0
    lot.refresh_from_db()
    assert lot.status == LotStatus.AVAILABLE
