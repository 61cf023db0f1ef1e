"""Temperature charts as server-side SVG: no chart library, no script, nothing fetched.

Pure functions of their arguments (no database, no settings) so that the geometry is tested
alone. A week of one-minute readings is ~10,000 points; the line keeps each bucket's lowest and
highest reading (in time order) so a short spike out of range stays visible while the SVG stays a
few hundred points.
"""

import datetime
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from zoneinfo import ZoneInfo

WIDTH = 960
HEIGHT = 300
MARGIN_LEFT = 48
MARGIN_RIGHT = 12
MARGIN_TOP = 12
MARGIN_BOTTOM = 36
EDGE_LABEL_ROOM = 20  # half a tick label ("09:00", "1 гру") and a little, in viewBox units
BUCKETS = 240

# Candidate spacings of time ticks, smallest first; the first giving at most MAX_X_TICKS wins.
_TICK_STEPS = [
    datetime.timedelta(minutes=m)
    for m in (15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080, 20160, 43200)
]
MAX_X_TICKS = 9


@dataclass(frozen=True)
class Band:
    """An allowed temperature range to shade; `low` None means no lower limit."""

    low: Decimal | None
    high: Decimal
    css_class: str
    label: str


@dataclass(frozen=True)
class Span:
    """A stretch of time to shade across the whole plot (an excursion)."""

    start: datetime.datetime
    end: datetime.datetime
    css_class: str
    label: str


@dataclass(frozen=True)
class Scale:
    """Maps time and °C onto the plot area (y grows downwards in SVG)."""

    start: datetime.datetime
    end: datetime.datetime
    low_c: float
    high_c: float
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def left(self) -> float:
        return MARGIN_LEFT

    @property
    def right(self) -> float:
        return self.width - MARGIN_RIGHT

    @property
    def top(self) -> float:
        return MARGIN_TOP

    @property
    def bottom(self) -> float:
        return self.height - MARGIN_BOTTOM

    def x(self, at: datetime.datetime) -> float:
        total = (self.end - self.start).total_seconds()
        share = (at - self.start).total_seconds() / total
        return self.left + min(max(share, 0.0), 1.0) * (self.right - self.left)

    def y(self, celsius: float) -> float:
        share = (float(celsius) - self.low_c) / (self.high_c - self.low_c)
        return self.bottom - min(max(share, 0.0), 1.0) * (self.bottom - self.top)


def downsample(
    points: Iterable[tuple[datetime.datetime, Decimal]],
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    buckets: int = BUCKETS,
) -> list[list[tuple[datetime.datetime, float]]]:
    """Time-ordered points reduced to each bucket's min and max, split where readings stop.

    Returns segments (lists of points); a bucket with no reading between two that have some ends
    a segment, so a sensor that was offline shows as a gap rather than a straight line across it.
    """
    width = (end - start) / buckets
    kept: dict[int, list] = {}
    for at, value in points:
        if at < start or at > end:
            continue
        index = min(int((at - start) / width), buckets - 1)
        celsius = float(value)
        slot = kept.get(index)
        if slot is None:
            kept[index] = [(at, celsius), (at, celsius)]
            continue
        if celsius < slot[0][1]:
            slot[0] = (at, celsius)
        if celsius > slot[1][1]:
            slot[1] = (at, celsius)
    segments: list[list[tuple[datetime.datetime, float]]] = []
    previous = None
    for index in sorted(kept):
        low, high = kept[index]
        pair = sorted({low, high})
        if previous is None or index - previous > 1:
            segments.append([])
        segments[-1].extend(pair)
        previous = index
    return segments


def _nice_step(span: float) -> float:
    """The smallest of 0.5, 1, 2, 5, 10, 20, 50, 100, … giving at most 8 steps over `span`.

    Unbounded: a forecast chart's axis spans a hospital's 250,000 vials, and a step stopping at
    50 drew 5,000 ticks per chart (4 MB of forecast page)."""
    if span / 0.5 <= 8:
        return 0.5
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            if span / step <= 8:
                return step
        magnitude *= 10


def value_range(values: Sequence[float]) -> tuple[float, float]:
    """A y range holding every value with some air, on whole degrees."""
    low, high = min(values), max(values)
    if high - low < 4:
        middle = (high + low) / 2
        low, high = middle - 2, middle + 2
    return math.floor(low - 1), math.ceil(high + 1)


def y_ticks(low: float, high: float) -> list[float]:
    step = _nice_step(high - low)
    first = math.ceil(low / step) * step
    count = int((high - first) // step) + 1
    return [round(first + i * step, 1) for i in range(count)]


def x_ticks(
    start: datetime.datetime, end: datetime.datetime, tz: ZoneInfo
) -> list[datetime.datetime]:
    """Tick times on round local hours or local midnights (DST-safe: stepped in wall time)."""
    span = end - start
    step = next((s for s in _TICK_STEPS if span / s <= MAX_X_TICKS), _TICK_STEPS[-1])
    local = start.astimezone(tz)
    # Aware datetimes sharing a ZoneInfo add timedeltas in wall-clock time, so ticks stay on round
    # local hours and midnights across a DST change while comparisons stay exact.
    if step >= datetime.timedelta(days=1):
        at = datetime.datetime.combine(local.date(), datetime.time(), tzinfo=tz)
        if at < start:
            at += datetime.timedelta(days=1)
    else:
        at = datetime.datetime.combine(local.date(), datetime.time(), tzinfo=tz)
    ticks = []
    while at <= end:
        if at >= start:
            ticks.append(at)
        at += step
    return ticks


_C_LOCALE_MOMENTS = {
    "weekday": "%a %d %b",
    "day_time": "%d %b %H:%M",
    "day": "%d %b",
    "time": "%H:%M",
}


@dataclass(frozen=True)
class AxisText:
    """How the axes read. A page passes its reader's language and locale (Django's
    `date_format` / `number_format`: "Вт 1 гру", "2,5 °C" in Ukrainian) so that this module
    stays free of settings; the defaults are the C locale, for tests and scripts.

    `moment(local, kind)` writes a tick's local time, `kind` being "weekday" (a midnight on a
    chart of several days), "day_time", "day" (a midnight) or "time"; `number(value)` writes a
    temperature without its unit; `empty` is said when there is no reading."""

    moment: Callable[[datetime.datetime, str], str] = lambda local, kind: local.strftime(
        _C_LOCALE_MOMENTS[kind]
    )
    number: Callable[[float], str] = lambda value: f"{value:g}"
    empty: str = "No readings in this period"


def _tick_label(
    at: datetime.datetime, tz: ZoneInfo, span: datetime.timedelta, text: AxisText
) -> str:
    local = at.astimezone(tz)
    if span > datetime.timedelta(days=2):
        return text.moment(local, "weekday" if local.hour == 0 else "day_time")
    if local.hour == 0 and local.minute == 0:
        return text.moment(local, "day")
    return text.moment(local, "time")


def _f(value: float) -> str:
    """A coordinate as the SVG charts write it (one decimal). Shared by every chart."""
    return f"{value:.1f}"


def label_stride(count: int, most: int) -> int:
    """Label every n-th of `count` positions, so that at most `most` labels show."""
    return max(1, -(-count // most))


def temperature_svg(
    *,
    points: Iterable[tuple[datetime.datetime, Decimal]],
    start: datetime.datetime,
    end: datetime.datetime,
    bands: Sequence[Band],
    spans: Sequence[Span],
    tz: ZoneInfo,
    title: str,
    width: int = WIDTH,
    height: int = HEIGHT,
    buckets: int = BUCKETS,
    text: AxisText = AxisText(),
) -> str:
    """The chart as an <svg> element (a string of trusted markup; labels are escaped), its axes
    written as `text` says."""
    if end <= start:
        raise ValueError("The chart's end must come after its start.")
    segments = downsample(points, start=start, end=end, buckets=buckets)
    values = [c for segment in segments for _, c in segment]
    values += [float(b.high) for b in bands] + [float(b.low) for b in bands if b.low is not None]
    low_c, high_c = value_range(values or [0.0, 10.0])
    scale = Scale(start=start, end=end, low_c=low_c, high_c=high_c, width=width, height=height)
    out = [
        f'<svg class="temp-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}"'
        f' role="img" aria-label="{escape(title)}" data-start="{start.isoformat()}"'
        f' data-end="{end.isoformat()}"><title>{escape(title)}</title>',
        f'<rect class="plot" x="{_f(scale.left)}" y="{_f(scale.top)}"'
        f' width="{_f(scale.right - scale.left)}" height="{_f(scale.bottom - scale.top)}"/>',
    ]
    for band in bands:
        top = scale.y(float(band.high))
        bottom = scale.y(float(band.low)) if band.low is not None else scale.bottom
        out.append(
            f'<rect class="band {escape(band.css_class)}" x="{_f(scale.left)}" y="{_f(top)}"'
            f' width="{_f(scale.right - scale.left)}" height="{_f(bottom - top)}"'
            f' data-low="{band.low if band.low is not None else ""}" data-high="{band.high}">'
            f"<title>{escape(band.label)}</title></rect>"
        )
    for span in spans:
        if span.end < start or span.start > end:
            continue
        x0, x1 = scale.x(span.start), scale.x(span.end)
        out.append(
            f'<rect class="{escape(span.css_class)}" x="{_f(x0)}" y="{_f(scale.top)}"'
            f' width="{_f(max(x1 - x0, 2.0))}" height="{_f(scale.bottom - scale.top)}"'
            f' data-start="{span.start.isoformat()}" data-end="{span.end.isoformat()}">'
            f"<title>{escape(span.label)}</title></rect>"
        )
    out.append('<g class="axis axis-y">')
    for tick in y_ticks(low_c, high_c):
        y = scale.y(tick)
        out.append(
            f'<line class="grid" x1="{_f(scale.left)}" x2="{_f(scale.right)}"'
            f' y1="{_f(y)}" y2="{_f(y)}"/>'
            f'<text x="{_f(scale.left - 6)}" y="{_f(y + 4)}" text-anchor="end">'
            f"{escape(text.number(tick))} °C</text>"
        )
    out.append("</g>")
    out.append('<g class="axis axis-x">')
    for tick in x_ticks(start, end, tz):
        x = scale.x(tick)
        # A label centred on a tick near the right edge would be cut off by the frame.
        anchor = "end" if x > scale.right - EDGE_LABEL_ROOM else "middle"
        out.append(
            f'<line class="grid" x1="{_f(x)}" x2="{_f(x)}" y1="{_f(scale.top)}"'
            f' y2="{_f(scale.bottom + 4)}"/><text x="{_f(x)}" y="{_f(scale.bottom + 18)}"'
            f' text-anchor="{anchor}" data-at="{tick.isoformat()}">'
            f"{escape(_tick_label(tick, tz, end - start, text))}</text>"
        )
    out.append("</g>")
    if segments:
        path = " ".join(
            "M" + " L".join(f"{_f(scale.x(at))},{_f(scale.y(c))}" for at, c in segment)
            for segment in segments
        )
        out.append(f'<path class="reading-line" d="{path}"/>')
    else:
        out.append(
            f'<text class="empty" x="{_f((scale.left + scale.right) / 2)}"'
            f' y="{_f((scale.top + scale.bottom) / 2)}" text-anchor="middle">'
            f"{escape(text.empty)}</text>"
        )
    out.append("</svg>")
    return "".join(out)
