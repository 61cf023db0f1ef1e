"""Geometry of the server-side temperature chart (pure functions, no database)."""

import datetime
import xml.etree.ElementTree as ET
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from inventory import charts

NS = {"svg": "http://www.w3.org/2000/svg"}
TZ = ZoneInfo("Europe/Berlin")
T0 = datetime.datetime(2026, 3, 2, 0, 0, tzinfo=TZ)
DAY = datetime.timedelta(days=1)


def _svg(**kwargs) -> ET.Element:
    defaults = {
        "points": [],
        "start": T0,
        "end": T0 + DAY,
        "bands": [],
        "spans": [],
        "tz": TZ,
        "title": "Fridge & co",
    }
    return ET.fromstring(charts.temperature_svg(**{**defaults, **kwargs}))


def _minutes(n, celsius=Decimal("5")):
    return [(T0 + datetime.timedelta(minutes=i), celsius) for i in range(n)]


def test_scale_maps_the_period_and_range_onto_the_plot():
    scale = charts.Scale(start=T0, end=T0 + DAY, low_c=0, high_c=10)
    assert scale.x(T0) == charts.MARGIN_LEFT
    assert scale.x(T0 + DAY) == charts.WIDTH - charts.MARGIN_RIGHT
    assert scale.x(T0 + DAY / 2) == pytest.approx((scale.left + scale.right) / 2)
    assert scale.y(0) == scale.bottom and scale.y(10) == scale.top
    assert scale.x(T0 - DAY) == scale.left  # clipped, never drawn outside the plot


def test_downsample_keeps_each_buckets_extremes_and_spikes():
    points = _minutes(7 * 24 * 60)  # a week of one-minute readings
    spike_at = T0 + datetime.timedelta(days=3, minutes=17)
    points[3 * 24 * 60 + 17] = (spike_at, Decimal("12.4"))
    segments = charts.downsample(points, start=T0, end=T0 + 7 * DAY, buckets=240)
    (segment,) = segments
    assert len(segment) <= 2 * 240
    assert (spike_at, 12.4) in segment
    assert [at for at, _ in segment] == sorted(at for at, _ in segment)


def test_downsample_breaks_the_line_where_readings_stop():
    before = _minutes(60)
    after = [(at + datetime.timedelta(hours=6), c) for at, c in _minutes(60)]
    segments = charts.downsample(before + after, start=T0, end=T0 + DAY, buckets=96)
    assert len(segments) == 2


def test_a_week_of_minutes_stays_light():
    svg = charts.temperature_svg(
        points=_minutes(7 * 24 * 60),
        start=T0,
        end=T0 + 7 * DAY,
        bands=[],
        spans=[],
        tz=TZ,
        title="t",
    )
    assert len(svg) < 25_000


def test_bands_and_excursions_are_placed_by_value_and_time():
    start = T0 + datetime.timedelta(hours=6)
    end = T0 + datetime.timedelta(hours=9)
    root = _svg(
        points=_minutes(24 * 60),
        bands=[
            charts.Band(Decimal("2"), Decimal("8"), "band-location", "2–8"),
            charts.Band(None, Decimal("6"), "band-product", "≤ 6"),
        ],
        spans=[charts.Span(start, end, "excursion", "out")],
    )
    # 2–8 °C bands and 5 °C readings: one degree of air either side.
    scale = charts.Scale(start=T0, end=T0 + DAY, low_c=1, high_c=9)
    location = root.find("svg:rect[@class='band band-location']", NS)
    assert float(location.get("y")) == pytest.approx(scale.y(8), abs=0.1)
    assert float(location.get("height")) == pytest.approx(scale.y(2) - scale.y(8), abs=0.1)
    product = root.find("svg:rect[@class='band band-product']", NS)
    assert float(product.get("y")) + float(product.get("height")) == pytest.approx(scale.bottom)
    excursion = root.find("svg:rect[@class='excursion']", NS)
    assert float(excursion.get("x")) == pytest.approx(scale.x(start), abs=0.1)
    assert float(excursion.get("width")) == pytest.approx(scale.x(end) - scale.x(start), abs=0.1)
    assert excursion.get("data-start") == start.isoformat()
    assert excursion.find("svg:title", NS).text == "out"


def test_spans_outside_the_period_are_left_out():
    span = charts.Span(T0 - 3 * DAY, T0 - 2 * DAY, "excursion", "old")
    assert _svg(spans=[span]).find("svg:rect[@class='excursion']", NS) is None


def test_time_ticks_are_local_round_hours_and_survive_dst():
    # Europe/Berlin springs forward on 29 March 2026: that day has 23 hours.
    start = datetime.datetime(2026, 3, 29, 0, 0, tzinfo=TZ)
    ticks = charts.x_ticks(start, start + DAY, TZ)
    assert [t.astimezone(TZ).hour for t in ticks][:3] == [0, 3, 6]
    assert all(t.astimezone(TZ).minute == 0 for t in ticks)
    week = charts.x_ticks(T0 + datetime.timedelta(hours=5), T0 + 7 * DAY, TZ)
    assert [t.astimezone(TZ).day for t in week] == [3, 4, 5, 6, 7, 8, 9]
    labels = [t.text for t in _svg().findall("svg:g[@class='axis axis-x']/svg:text", NS)]
    assert labels[:3] == ["02 Mar", "03:00", "06:00"]


def test_temperature_ticks_are_round_and_labelled():
    root = _svg(points=_minutes(10, Decimal("4.3")))
    labels = [t.text for t in root.findall("svg:g[@class='axis axis-y']/svg:text", NS)]
    assert labels[0] == "1 °C" and all(label.endswith(" °C") for label in labels)


def test_no_readings_says_so_and_labels_are_escaped():
    root = _svg()
    assert root.find("svg:text[@class='empty']", NS).text == "No readings in this period"
    assert root.get("aria-label") == "Fridge & co"
    with pytest.raises(ValueError):
        _svg(end=T0)


def test_the_axes_read_as_the_given_axis_text_says():
    """The page passes its reader's locale (Django's date and number formats); the chart only
    chooses which kind of moment each tick is."""
    text = charts.AxisText(
        moment=lambda local, kind: f"{kind}:{local:%d %H}",
        number=lambda value: f"{value:.1f}".replace(".", ","),
        empty="Немає показів",
    )
    three_days = _svg(end=T0 + 3 * DAY, text=text)
    x_labels = [t.text for t in three_days.findall("svg:g[@class='axis axis-x']/svg:text", NS)]
    assert x_labels[:2] == ["weekday:02 00", "day_time:02 12"]
    y_labels = [t.text for t in three_days.findall("svg:g[@class='axis axis-y']/svg:text", NS)]
    assert y_labels and all("," in label and label.endswith(" °C") for label in y_labels)
    assert three_days.find("svg:text[@class='empty']", NS).text == "Немає показів"
    one_day = _svg(text=text)
    x_labels = [t.text for t in one_day.findall("svg:g[@class='axis axis-x']/svg:text", NS)]
    assert x_labels[0] == "day:02 00" and x_labels[1].startswith("time:")


def test_a_tick_label_at_the_right_edge_ends_there_instead_of_being_cut_off():
    """The period ends on a round hour: its tick sits on the frame's right edge, and a label
    centred on it would run past the picture (seen at 800 px: "09:0")."""
    root = _svg(start=T0, end=T0 + datetime.timedelta(hours=24))
    texts = root.findall("svg:g[@class='axis axis-x']/svg:text", NS)
    width = float(root.get("viewBox").split()[2])
    last = texts[-1]
    assert float(last.get("x")) > width - charts.MARGIN_RIGHT - charts.EDGE_LABEL_ROOM
    assert last.get("text-anchor") == "end"
    assert {t.get("text-anchor") for t in texts[:-1]} == {"middle"}
