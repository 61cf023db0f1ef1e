"""A course's doses as a timeline (server-side SVG, no script): one lane per phase, cycles of a
cycles pattern shaded apart within their lane, each dose a mark on its date whose *shape* says
its status (given ●, planned/due ○, overdue ◆, held ■, refused ▲, missed ✕), so the picture reads
without colour too. Today is a vertical rule.

No Django import: `timeline_geometry` computes what is drawn (tested alone), `timeline_svg`
writes it. The page passes translated words in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

from inventory.charts import _f, label_stride

WIDTH = 960
LANE_HEIGHT = 44
MARGIN_LEFT = 150
MARGIN_RIGHT = 16
MARGIN_TOP = 10
MARGIN_BOTTOM = 34
MAX_X_LABELS = 12

# Status → shape. Every status has its own shape; colour only repeats what the shape says.
SHAPES = {
    "given": "circle-filled",
    "planned": "circle-open",
    "due": "circle-open",
    "scheduled": "circle-open",
    "overdue": "diamond",
    "held": "square",
    "refused": "triangle",
    "missed": "cross",
}


@dataclass(frozen=True)
class TimelineDose:
    day: dt.date
    sequence: int
    status: str  # as the page shows it: given / due / planned / overdue / held / refused / missed
    status_label: str
    phase: int  # the phase's order in the course, from 1
    dose_id: int = 0


@dataclass(frozen=True)
class Mark:
    dose: TimelineDose
    x: float
    y: float
    shape: str


@dataclass(frozen=True)
class Cycle:
    phase: int
    number: int
    start: dt.date
    end: dt.date
    x0: float
    x1: float


@dataclass
class Geometry:
    width: int
    height: int
    left: float
    right: float
    first: dt.date
    last: dt.date
    lanes: list[tuple[int, float]] = field(default_factory=list)  # (phase, lane centre y)
    cycles: list[Cycle] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    x_labels: list[tuple[float, dt.date]] = field(default_factory=list)
    today_x: float | None = None


def cycles_of(days: Sequence[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Runs of doses on consecutive days (a cycle of daily doses), in order."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def timeline_geometry(
    *,
    doses: Sequence[TimelineDose],
    cycle_phases: frozenset[int] = frozenset(),
    today: dt.date | None = None,
    width: int = WIDTH,
) -> Geometry:
    """`cycle_phases`: the phases whose pattern is cycles (their runs of daily doses are shaded
    and numbered). Cancelled doses are not drawn."""
    shown = [d for d in doses if d.status in SHAPES]
    if not shown:
        raise ValueError("The timeline needs at least one dose.")
    first = min(d.day for d in shown)
    last = max(d.day for d in shown)
    phases = sorted({d.phase for d in shown})
    height = MARGIN_TOP + LANE_HEIGHT * len(phases) + MARGIN_BOTTOM
    left, right = MARGIN_LEFT, width - MARGIN_RIGHT
    span_days = (last - first).days + 1
    column = (right - left) / span_days

    def x(day: dt.date) -> float:
        return left + ((day - first).days + 0.5) * column

    geometry = Geometry(width, height, left, right, first, last)
    lane_y = {}
    for i, phase in enumerate(phases):
        lane_y[phase] = MARGIN_TOP + LANE_HEIGHT * i + LANE_HEIGHT / 2
        geometry.lanes.append((phase, lane_y[phase]))
    for phase in sorted(cycle_phases & set(phases)):
        days = [d.day for d in shown if d.phase == phase]
        for number, (start, end) in enumerate(cycles_of(days), start=1):
            geometry.cycles.append(
                Cycle(phase, number, start, end, x(start) - column / 2, x(end) + column / 2)
            )
    for dose in sorted(shown, key=lambda d: (d.day, d.sequence)):
        geometry.marks.append(Mark(dose, x(dose.day), lane_y[dose.phase], SHAPES[dose.status]))
    every = label_stride(span_days, MAX_X_LABELS)
    for i in range(0, span_days, every):
        day = first + dt.timedelta(days=i)
        geometry.x_labels.append((x(day), day))
    if today is not None and first <= today <= last:
        geometry.today_x = x(today)
    return geometry


def _shape(mark: Mark, size: float = 7.0) -> str:
    x, y, s = mark.x, mark.y, size
    common = f'class="dose-mark status-{escape(mark.dose.status)} shape-{mark.shape}"'
    if mark.shape in ("circle-filled", "circle-open"):
        return f'<circle {common} cx="{_f(x)}" cy="{_f(y)}" r="{_f(s)}"'
    if mark.shape == "square":
        return f'<rect {common} x="{_f(x - s)}" y="{_f(y - s)}" width="{_f(2 * s)}" height="{_f(2 * s)}"'
    if mark.shape == "diamond":
        d = f"M{_f(x)},{_f(y - s - 1)} L{_f(x + s + 1)},{_f(y)} L{_f(x)},{_f(y + s + 1)} L{_f(x - s - 1)},{_f(y)} Z"
        return f'<path {common} d="{d}"'
    if mark.shape == "triangle":
        d = f"M{_f(x)},{_f(y - s - 1)} L{_f(x + s + 1)},{_f(y + s)} L{_f(x - s - 1)},{_f(y + s)} Z"
        return f'<path {common} d="{d}"'
    # cross
    d = f"M{_f(x - s)},{_f(y - s)} L{_f(x + s)},{_f(y + s)} M{_f(x + s)},{_f(y - s)} L{_f(x - s)},{_f(y + s)}"
    return f'<path {common} d="{d}"'


def timeline_svg(
    *,
    doses: Sequence[TimelineDose],
    phase_labels: dict[int, str],
    cycle_phases: frozenset[int] = frozenset(),
    today: dt.date | None = None,
    title: str,
    words: dict[str, str],
    day_text: Callable[[dt.date], str] = dt.date.isoformat,
    width: int = WIDTH,
) -> str:
    """The timeline as an <svg> element (trusted markup; every text escaped). `words`: "dose"
    ("Dose %(n)s"), "cycle" ("Cycle %(n)s"), "today"; `day_text` writes a day in the reader's
    format (the `data-date` attributes stay ISO)."""
    g = timeline_geometry(doses=doses, cycle_phases=cycle_phases, today=today, width=width)
    bottom = g.height - MARGIN_BOTTOM
    out = [
        f'<svg class="course-timeline" xmlns="http://www.w3.org/2000/svg"'
        f' viewBox="0 0 {g.width} {g.height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    ]
    for phase, y in g.lanes:
        top = y - LANE_HEIGHT / 2
        out.append(
            f'<rect class="lane" x="{_f(g.left)}" y="{_f(top + 2)}" width="{_f(g.right - g.left)}"'
            f' height="{LANE_HEIGHT - 4}" data-phase="{phase}"/>'
            f'<text class="lane-label" x="{_f(g.left - 8)}" y="{_f(y + 4)}" text-anchor="end">'
            f"{escape(phase_labels.get(phase, str(phase)))}</text>"
        )
    for cycle in g.cycles:
        y = dict(g.lanes)[cycle.phase]
        label = words["cycle"] % {"n": cycle.number}
        out.append(
            f'<rect class="cycle cycle-{"odd" if cycle.number % 2 else "even"}"'
            f' x="{_f(cycle.x0)}" y="{_f(y - LANE_HEIGHT / 2 + 4)}"'
            f' width="{_f(cycle.x1 - cycle.x0)}" height="{LANE_HEIGHT - 8}"'
            f' data-cycle="{cycle.number}" data-start="{cycle.start.isoformat()}"'
            f' data-end="{cycle.end.isoformat()}"><title>{escape(label)}</title></rect>'
            f'<text class="cycle-label" x="{_f(cycle.x0 + 2)}" y="{_f(y - LANE_HEIGHT / 2 + 13)}">'
            f"{escape(label)}</text>"
        )
    out.append('<g class="axis axis-x">')
    for x, day in g.x_labels:
        out.append(
            f'<line class="grid" x1="{_f(x)}" x2="{_f(x)}" y1="{MARGIN_TOP}" y2="{_f(bottom + 3)}"/>'
            f'<text x="{_f(x)}" y="{_f(bottom + 16)}" text-anchor="middle"'
            f' data-date="{day.isoformat()}">{day.day:02d}.{day.month:02d}</text>'
        )
    out.append("</g>")
    if g.today_x is not None:
        out.append(
            f'<line class="today-rule" x1="{_f(g.today_x)}" x2="{_f(g.today_x)}"'
            f' y1="{MARGIN_TOP}" y2="{_f(bottom)}"/><text class="today-label"'
            f' x="{_f(g.today_x)}" y="{_f(bottom + 30)}" text-anchor="middle">'
            f"{escape(words['today'])}</text>"
        )
    for mark in g.marks:
        text = (
            f"{words['dose'] % {'n': mark.dose.sequence}} · {day_text(mark.dose.day)}"
            f" · {mark.dose.status_label}"
        )
        out.append(
            _shape(mark)
            + f' data-dose="{mark.dose.dose_id}" data-date="{mark.dose.day.isoformat()}"'
            f' data-status="{escape(mark.dose.status)}"><title>{escape(text)}</title>'
            + (
                "</circle>"
                if mark.shape.startswith("circle")
                else "</rect>"
                if mark.shape == "square"
                else "</path>"
            )
        )
    out.append("</svg>")
    return "".join(out)
