"""The forecast chart and the course timeline: what is drawn, from the data, before any SVG."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from courses.timeline import SHAPES, TimelineDose, cycles_of, timeline_geometry, timeline_svg
from inventory.forecast_chart import forecast_geometry, forecast_svg

D0 = dt.date(2026, 3, 2)
SVG = "{http://www.w3.org/2000/svg}"
LABELS = {
    "vials": "vials",
    "needed": "needed",
    "usable": "usable",
    "short": "short by",
    "expire_unused": lambda count, lot: f"{count} of lot {lot} expire unused",
    "expire_unused_lots": lambda count, lots: f"{count} of {lots} lots expire unused",
}


def day(i):
    return D0 + dt.timedelta(days=i)


def forecast_days():
    # 5 usable at the start; 2 needed on days 1 and 3; day 3 finds only 1 (short 1).
    return [
        {"date": day(0), "needed": 0, "usable": 5, "short": 0},
        {"date": day(1), "needed": 2, "usable": 5, "short": 0},
        {"date": day(2), "needed": 0, "usable": 3, "short": 0},
        {"date": day(3), "needed": 2, "usable": 1, "short": 1},
        {"date": day(4), "needed": 0, "usable": 0, "short": 0},
    ]


def test_forecast_geometry_follows_the_data():
    g = forecast_geometry(
        days=forecast_days(),
        expiring_unused=[{"expiry_date": day(2), "unused": 2, "lot_number": "L-1"}],
    )
    assert [(b.day, b.needed) for b in g.bars] == [(day(1), 2), (day(3), 2)]
    assert [(s[0], s[3]) for s in g.shortages] == [(day(3), 1)]
    assert [(m.day, m.unused, m.lot_number) for m in g.markers] == [(day(2), 2, "L-1")]
    # The step line: two points a day, at the day's usable level; higher vials draw higher up.
    ys = [y for _, y in g.usable_path]
    assert len(ys) == 10 and ys[0] == ys[1] and ys[4] > ys[2] and ys[8] == g.bottom
    assert g.y_ticks[0] == 0 and g.y_ticks[-1] == g.y_max >= 5
    # Bars stand on the axis; a bar's height scales with its demand.
    assert all(abs(b.y + b.height - g.bottom) < 0.01 for b in g.bars)


def test_forecast_markers_outside_the_period_are_left_out():
    g = forecast_geometry(
        days=forecast_days(),
        expiring_unused=[{"expiry_date": day(30), "unused": 4, "lot_number": "L-9"}],
    )
    assert g.markers == []


def test_forecast_svg_is_well_formed_and_escaped():
    svg = forecast_svg(
        days=forecast_days(),
        expiring_unused=[{"expiry_date": day(2), "unused": 2, "lot_number": "<L&1>"}],
        title="Biocerulin <100 mg>",
        labels=LABELS,
    )
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.get("aria-label") == "Biocerulin <100 mg>"
    demand = root.findall(f".//{SVG}rect[@class='demand']")
    assert [r.get("data-needed") for r in demand] == ["2", "2"]
    assert [r.get("data-date") for r in root.findall(f".//{SVG}rect[@class='shortage']")] == [
        day(3).isoformat()
    ]
    marker = root.find(f".//{SVG}path[@class='expiry-marker']")
    assert marker.find(f"{SVG}title").text == "2 of lot <L&1> expire unused"


def test_forecast_one_marker_a_day_however_many_lots_expire_then():
    lots = [
        {"expiry_date": day(2), "unused": 2, "lot_number": "L-1"},
        {"expiry_date": day(2), "unused": 3, "lot_number": "L-2"},
        {"expiry_date": day(4), "unused": 1, "lot_number": "L-3"},
    ]
    g = forecast_geometry(days=forecast_days(), expiring_unused=lots)
    assert [(m.day, m.unused, m.lots) for m in g.markers] == [(day(2), 5, 2), (day(4), 1, 1)]
    root = ET.fromstring(
        forecast_svg(days=forecast_days(), expiring_unused=lots, title="t", labels=LABELS)
    )
    titles = [
        m.find(f"{SVG}title").text for m in root.findall(f".//{SVG}path[@class='expiry-marker']")
    ]
    assert titles == ["5 of 2 lots expire unused", "1 of lot L-3 expire unused"]


def test_forecast_axis_has_a_few_ticks_at_a_hospitals_scale():
    """A presentation's 250,000 vials: the y axis has at most 9 ticks (one every 5 vials up to
    50 drew 5,000 per chart, 4 MB of page)."""
    days = [{**d, "usable": d["usable"] * 50_000} for d in forecast_days()]
    g = forecast_geometry(days=days)
    assert 2 <= len(g.y_ticks) <= 9 and g.y_ticks[-1] == g.y_max >= 250_000
    svg = forecast_svg(days=days, title="t", labels=LABELS)
    assert len(svg) < 5_000


def test_forecast_needs_days():
    with pytest.raises(ValueError):
        forecast_geometry(days=[])


def test_cycles_are_runs_of_consecutive_days():
    days = [day(0), day(1), day(2), day(17), day(18)]
    assert cycles_of(days) == [(day(0), day(2)), (day(17), day(18))]


def course_doses():
    # Phase 1: one dose; phase 2: two cycles of 3 daily doses, 14 days apart (Betaleukin-like).
    statuses = ["given", "given", "held", "missed", "refused", "overdue", "due"]
    days = [day(0), day(2), day(3), day(4), day(19), day(20), day(21)]
    phases = [1, 2, 2, 2, 2, 2, 2]
    return [
        TimelineDose(day=d, sequence=i + 1, status=s, status_label=s.title(), phase=p, dose_id=i)
        for i, (d, s, p) in enumerate(zip(days, statuses, phases, strict=True))
    ]


def test_timeline_lanes_cycles_and_shapes():
    g = timeline_geometry(doses=course_doses(), cycle_phases=frozenset({2}), today=day(20))
    assert [phase for phase, _ in g.lanes] == [1, 2]
    assert [(c.number, c.start, c.end) for c in g.cycles] == [
        (1, day(2), day(4)),
        (2, day(19), day(21)),
    ]
    shapes = {m.dose.status: m.shape for m in g.marks}
    assert shapes == {
        "given": "circle-filled",
        "held": "square",
        "missed": "cross",
        "refused": "triangle",
        "overdue": "diamond",
        "due": "circle-open",
    }
    # No two recorded statuses share a shape (not colour alone).
    recorded = ["given", "held", "missed", "refused", "overdue", "planned"]
    assert len({SHAPES[s] for s in recorded}) == len(recorded)
    # Marks sit in their phase's lane, in date order left to right.
    lane = dict(g.lanes)
    assert all(m.y == lane[m.dose.phase] for m in g.marks)
    xs = [m.x for m in g.marks]
    assert xs == sorted(xs)
    assert g.today_x == next(m.x for m in g.marks if m.dose.day == day(20))


def test_timeline_leaves_today_out_when_outside_the_course():
    g = timeline_geometry(doses=course_doses(), today=day(40))
    assert g.today_x is None and g.cycles == []


def test_timeline_svg_is_well_formed():
    svg = timeline_svg(
        doses=course_doses(),
        phase_labels={1: "Phase 1", 2: "Phase 2"},
        cycle_phases=frozenset({2}),
        today=day(3),
        title="Doses & phases",
        words={"dose": "Dose %(n)s", "cycle": "Cycle %(n)s", "today": "today"},
    )
    root = ET.fromstring(svg)
    marks = [el for el in root.iter() if "dose-mark" in (el.get("class") or "")]
    assert [el.get("data-status") for el in marks] == [
        "given",
        "given",
        "held",
        "missed",
        "refused",
        "overdue",
        "due",
    ]
    assert marks[2].tag == f"{SVG}rect" and marks[0].tag == f"{SVG}circle"
    assert [el.get("data-cycle") for el in root.iter(f"{SVG}rect") if el.get("data-cycle")] == [
        "1",
        "2",
    ]
    assert root.find(f".//{SVG}line[@class='today-rule']") is not None
