"""The stock forecast as server-side SVG, one chart per presentation: usable vials on hand (a
step line) against the doses' scheduled demand (bars) for each day, shortage days shaded and
hatched, and vials that will expire unused marked on their expiry day.

Pure functions of their arguments, like `inventory.charts` (no database, no settings):
`forecast_geometry` computes what is drawn (tested alone), `forecast_svg` writes it out.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

from inventory.charts import _f, _nice_step, label_stride

WIDTH = 960
HEIGHT = 240
MARGIN_LEFT = 48
MARGIN_RIGHT = 16
MARGIN_TOP = 28
MARGIN_BOTTOM = 40
MAX_X_LABELS = 12


@dataclass(frozen=True)
class Bar:
    day: datetime.date
    x: float
    width: float
    y: float
    height: float
    needed: int


@dataclass(frozen=True)
class Marker:
    """Vials that expire unused on a day, drawn as a downward triangle on that day: one marker
    a day, however many lots expire then (a hospital's stock has dozens a day), naming the lot
    when there is one."""

    day: datetime.date
    x: float
    y: float
    unused: int
    lot_number: str  # the first lot's, in the order given
    lots: int = 1


@dataclass
class Geometry:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    y_max: int
    y_ticks: list[int] = field(default_factory=list)
    x_labels: list[tuple[float, datetime.date]] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    usable_path: list[tuple[float, float]] = field(default_factory=list)
    shortages: list[tuple[datetime.date, float, float, int]] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)


def forecast_geometry(
    *,
    days: Sequence[dict],
    expiring_unused: Sequence[dict] = (),
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Geometry:
    """`days`: every day of the period in order, each {"date", "needed", "usable", "short"};
    `expiring_unused`: {"expiry_date", "unused", "lot_number"}. Each day is a column: the bar is
    that day's demand, the step line the vials usable that morning."""
    if not days:
        raise ValueError("The forecast chart needs at least one day.")
    left, right = MARGIN_LEFT, width - MARGIN_RIGHT
    top, bottom = MARGIN_TOP, height - MARGIN_BOTTOM
    column = (right - left) / len(days)
    peak = max([1] + [d["usable"] for d in days] + [d["needed"] for d in days])
    step = max(1, int(_nice_step(peak)))
    y_max = -(-peak // step) * step  # rounded up to a whole tick
    geometry = Geometry(width, height, left, right, top, bottom, y_max)
    geometry.y_ticks = list(range(0, y_max + 1, step))

    def y(vials: float) -> float:
        return bottom - (bottom - top) * vials / y_max

    index = {d["date"]: i for i, d in enumerate(days)}
    every = label_stride(len(days), MAX_X_LABELS)
    for i, day in enumerate(days):
        x0 = left + i * column
        if i % every == 0:
            geometry.x_labels.append((x0 + column / 2, day["date"]))
        if day["needed"]:
            bar_width = max(column * 0.5, 1.0)
            geometry.bars.append(
                Bar(
                    day=day["date"],
                    x=x0 + (column - bar_width) / 2,
                    width=bar_width,
                    y=y(day["needed"]),
                    height=bottom - y(day["needed"]),
                    needed=day["needed"],
                )
            )
        if day["short"]:
            geometry.shortages.append((day["date"], x0, column, day["short"]))
        # A step: level across the day's column, then a vertical to the next day's level.
        geometry.usable_path += [(x0, y(day["usable"])), (x0 + column, y(day["usable"]))]
    on_day: dict[datetime.date, list[dict]] = {}
    for lot in expiring_unused:
        # A lot expiring after the period's end or before its start is not on this chart.
        if lot["expiry_date"] in index:
            on_day.setdefault(lot["expiry_date"], []).append(lot)
    for expiry, lots in sorted(on_day.items()):
        geometry.markers.append(
            Marker(
                day=expiry,
                x=left + index[expiry] * column + column / 2,
                y=top - 4,
                unused=sum(lot["unused"] for lot in lots),
                lot_number=lots[0]["lot_number"],
                lots=len(lots),
            )
        )
    return geometry


def forecast_svg(
    *,
    days: Sequence[dict],
    expiring_unused: Sequence[dict] = (),
    title: str,
    labels: dict,
    day_text: Callable[[datetime.date], str] = datetime.date.isoformat,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """The chart as an <svg> element (trusted markup; every text is escaped). `labels` holds the
    page's translated words: "vials", "needed", "usable", "short", "expire_unused", a function
    of (count, lot number) giving the text of a marker for one lot, and "expire_unused_lots",
    of (count, lots) for a day when several lots expire unused; `day_text` writes a day in the
    reader's format (the `data-date` attributes stay ISO, for scripts and tests)."""
    g = forecast_geometry(days=days, expiring_unused=expiring_unused, width=width, height=height)
    out = [
        f'<svg class="forecast-chart" xmlns="http://www.w3.org/2000/svg"'
        f' viewBox="0 0 {g.width} {g.height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>",
        '<defs><pattern id="hatch-short" width="6" height="6" patternUnits="userSpaceOnUse"'
        ' patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" class="hatch"/>'
        "</pattern></defs>",
        f'<rect class="plot" x="{_f(g.left)}" y="{_f(g.top)}" width="{_f(g.right - g.left)}"'
        f' height="{_f(g.bottom - g.top)}"/>',
    ]
    for day, x, w, short in g.shortages:
        text = f"{day_text(day)}: {labels['short']} {short}"
        for css in ("shortage", "shortage-hatch"):
            fill = ' fill="url(#hatch-short)"' if css == "shortage-hatch" else ""
            out.append(
                f'<rect class="{css}" x="{_f(x)}" y="{_f(g.top)}" width="{_f(w)}"'
                f' height="{_f(g.bottom - g.top)}" data-date="{day.isoformat()}"{fill}>'
                f"<title>{escape(text)}</title></rect>"
            )
    out.append('<g class="axis axis-y">')
    for tick in g.y_ticks:
        ty = g.bottom - (g.bottom - g.top) * tick / g.y_max
        out.append(
            f'<line class="grid" x1="{_f(g.left)}" x2="{_f(g.right)}" y1="{_f(ty)}"'
            f' y2="{_f(ty)}"/><text x="{_f(g.left - 6)}" y="{_f(ty + 4)}"'
            f' text-anchor="end">{tick}</text>'
        )
    out.append(
        f'<text class="axis-title" x="{_f(g.left - 40)}" y="{_f(g.top - 12)}">'
        f"{escape(labels['vials'])}</text></g>"
    )
    out.append('<g class="axis axis-x">')
    for x, day in g.x_labels:
        out.append(
            f'<text x="{_f(x)}" y="{_f(g.bottom + 16)}" text-anchor="middle"'
            f' data-date="{day.isoformat()}">{day.day:02d}.{day.month:02d}</text>'
        )
    out.append("</g>")
    for bar in g.bars:
        text = f"{day_text(bar.day)}: {labels['needed']} {bar.needed}"
        out.append(
            f'<rect class="demand" x="{_f(bar.x)}" y="{_f(bar.y)}" width="{_f(bar.width)}"'
            f' height="{_f(bar.height)}" data-date="{bar.day.isoformat()}"'
            f' data-needed="{bar.needed}"><title>{escape(text)}</title></rect>'
        )
    path = "M" + " L".join(f"{_f(x)},{_f(y)}" for x, y in g.usable_path)
    out.append(f'<path class="usable-line" d="{path}"><title>{escape(labels["usable"])}</title>')
    out.append("</path>")
    for marker in g.markers:
        text = (
            labels["expire_unused"](marker.unused, marker.lot_number)
            if marker.lots == 1
            else labels["expire_unused_lots"](marker.unused, marker.lots)
        )
        x, y = marker.x, marker.y
        out.append(
            f'<path class="expiry-marker" d="M{_f(x - 6)},{_f(y - 10)} L{_f(x + 6)},{_f(y - 10)}'
            f' L{_f(x)},{_f(y)} Z" data-date="{marker.day.isoformat()}"'
            f' data-unused="{marker.unused}"><title>{escape(text)}</title></path>'
            f'<line class="expiry-rule" x1="{_f(x)}" x2="{_f(x)}" y1="{_f(y)}"'
            f' y2="{_f(g.bottom)}"/>'
        )
    out.append("</svg>")
    return "".join(out)
