"""The scheduling engine: which days a course's doses fall on, and when exactly. No Django imports.

A course is a list of phases; a phase is a `Pattern` and a prescribed count. The engine plans the
days of every dose (`course_plan`), re-plans the rest of a course around what has really happened
(`course_replan`: nothing recorded ever moves, minimum gaps are kept) and turns days into
timezone-aware datetimes at the course's administration time (`local_datetime`).

Pattern dicts are the ones in `courses/formulary.py`; the readings of the leaflets' wording are
design.md's ("The formulary comes from the leaflets").

Words a reader sees — a pattern's description, an error — are `courses.preparation.Msg`s (an
English msgid and its parameters, extracted by `makemessages` through the `_`/`ngettext` markers):
`describe()` and `ScheduleError.message` are their English, `courses.preparation_text` writes
them in the reader's language when they are shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from courses.preparation import Day, Joined, Msg, _, ngettext

KINDS = ("daily", "every_n_days", "per_week", "weekly", "cycles", "dates", "anchor_offsets")
WEEKDAYS = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))

# The formulary's anchor dates (courses/formulary.py) as a description names them; another name
# is said with its underscores as spaces.
ANCHOR_NAMES = {
    "surgery": _("surgery"),
    "chemotherapy_dates": _("chemotherapy dates"),
    "procedure_dates": _("procedure dates"),
    "radiotherapy_start": _("radiotherapy start"),
    "radiotherapy_end": _("radiotherapy end"),
}


def anchor_name(name: str) -> Msg | str:
    return ANCHOR_NAMES.get(name) or name.replace("_", " ")


# "3 injections per week" = days 1, 3, 5 of each 7-day block from the start (design.md); other
# k spread the doses as evenly as whole days allow, never on consecutive days where avoidable.
_DEFAULT_WEEK_OFFSETS = {1: (0,), 2: (0, 3), 3: (0, 2, 4), 4: (0, 2, 4, 6)}

Anchors = Mapping[str, "dt.date | Sequence[dt.date]"]


class ScheduleError(ValueError):
    """A pattern or its anchors cannot give a schedule; `field` names the input at fault.

    `msg` is the reason as words to translate; `message` its English."""

    def __init__(self, msg: Msg, field: str = "pattern"):
        self.msg = msg
        self.message = str(msg)
        self.field = field
        super().__init__(self.message)


def _positive_int(spec: Mapping, name: str, default: int | None = None) -> int:
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ScheduleError(
            _(
                "Pattern '%(kind)s' needs '%(name)s' as a positive integer.",
                kind=str(spec.get("kind")),
                name=name,
            )
        )
    return value


@dataclass(frozen=True)
class Pattern:
    """One schedule pattern. Prescriber choices (`weekdays`) are part of the chosen pattern."""

    kind: str
    n: int = 1
    k: int = 0
    weekdays: tuple[int, ...] = ()
    on_days: int = 0
    rest_days: int = 0
    anchor: str = ""
    offsets: tuple[int, ...] = ()
    from_anchor: str = ""
    until_anchor: str = ""
    min_gap_days: int = 0

    @classmethod
    def from_dict(cls, spec: Mapping) -> Pattern:
        if not isinstance(spec, Mapping) or spec.get("kind") not in KINDS:
            raise ScheduleError(
                _("A pattern needs a 'kind' among %(kinds)s.", kinds=", ".join(KINDS))
            )
        kind = spec["kind"]
        if kind == "every_n_days":
            return cls(kind, n=_positive_int(spec, "n"))
        if kind == "per_week":
            k = _positive_int(spec, "k")
            if k > 7:
                raise ScheduleError(_("A week has 7 days: 'k' must be 1–7."))
            weekdays = spec.get("weekdays") or ()
            if weekdays:
                if (
                    not isinstance(weekdays, list | tuple)
                    or any(isinstance(d, bool) or d not in range(7) for d in weekdays)
                    or len(set(weekdays)) != len(weekdays)
                ):
                    raise ScheduleError(
                        _("'weekdays' are distinct numbers 0 (Monday) to 6 (Sunday)."), "weekdays"
                    )
                if len(weekdays) != k:
                    raise ScheduleError(
                        ngettext(
                            "%(count)s injection per week needs exactly %(count)s weekday.",
                            "%(count)s injections per week need exactly %(count)s weekdays.",
                            k,
                        ),
                        "weekdays",
                    )
            return cls(kind, k=k, weekdays=tuple(sorted(weekdays)))
        if kind == "weekly":
            return cls(
                kind,
                from_anchor=spec.get("from_anchor", ""),
                until_anchor=spec.get("until_anchor", ""),
            )
        if kind == "cycles":
            rest = spec.get("rest_days")
            if isinstance(rest, bool) or not isinstance(rest, int) or rest < 0:
                raise ScheduleError(_("Pattern 'cycles' needs 'rest_days' as a whole number ≥ 0."))
            return cls(kind, on_days=_positive_int(spec, "on_days"), rest_days=rest)
        if kind == "dates":
            gap = spec.get("min_gap_days") or 0
            if isinstance(gap, bool) or not isinstance(gap, int) or gap < 0:
                raise ScheduleError(
                    _("Pattern 'dates' needs 'min_gap_days' as a whole number ≥ 0.")
                )
            return cls(kind, anchor=spec.get("anchor", "dates"), min_gap_days=gap)
        if kind == "anchor_offsets":
            offsets = spec.get("offsets")
            if not offsets or not all(
                isinstance(o, int) and not isinstance(o, bool) for o in offsets
            ):
                raise ScheduleError(
                    _("Pattern 'anchor_offsets' needs a list of whole-day offsets.")
                )
            if len(set(offsets)) != len(offsets):
                raise ScheduleError(_("Anchor offsets must be distinct."))
            return cls(kind, anchor=spec.get("anchor", "anchor"), offsets=tuple(sorted(offsets)))
        return cls(kind)

    def to_dict(self) -> dict:
        spec: dict = {"kind": self.kind}
        if self.kind == "every_n_days":
            spec["n"] = self.n
        elif self.kind == "per_week":
            spec["k"] = self.k
            if self.weekdays:
                spec["weekdays"] = list(self.weekdays)
        elif self.kind == "weekly" and self.from_anchor:
            spec |= {"from_anchor": self.from_anchor, "until_anchor": self.until_anchor}
        elif self.kind == "cycles":
            spec |= {"on_days": self.on_days, "rest_days": self.rest_days}
        elif self.kind == "dates":
            spec["anchor"] = self.anchor
            if self.min_gap_days:
                spec["min_gap_days"] = self.min_gap_days
        elif self.kind == "anchor_offsets":
            spec |= {"anchor": self.anchor, "offsets": list(self.offsets)}
        return spec

    @property
    def anchored(self) -> bool:
        """Tied to calendar events (surgery, chemotherapy days): never shifted by re-planning."""
        return self.kind in {"dates", "anchor_offsets"} or bool(self.from_anchor)

    @property
    def anchor_names(self) -> tuple[str, ...]:
        if self.kind == "weekly" and self.from_anchor:
            return (self.from_anchor, self.until_anchor)
        return (self.anchor,) if self.anchored else ()

    def allows(self, chosen: Pattern) -> bool:
        """Whether `chosen` is this allowed pattern, up to the prescriber's own choices."""
        return self == chosen or (
            self.kind == chosen.kind == "per_week" and self.k == chosen.k and not self.weekdays
        )

    def with_weekdays_from(self, start: dt.date) -> Pattern:
        """A k-per-week pattern fixed to weekdays: chosen ones, else days 1, 3, 5… from start."""
        if self.kind != "per_week" or self.weekdays:
            return self
        offsets = _DEFAULT_WEEK_OFFSETS.get(self.k, tuple(range(self.k)))
        weekdays = tuple(sorted((start.weekday() + o) % 7 for o in offsets))
        return Pattern("per_week", k=self.k, weekdays=weekdays)

    def min_gap(self) -> int:
        """Fewest days between two consecutive doses of this pattern."""
        if self.kind == "every_n_days":
            return self.n
        if self.kind == "weekly":
            return 7
        if self.kind == "per_week":
            days = sorted(self.weekdays or _DEFAULT_WEEK_OFFSETS.get(self.k, range(self.k)))
            return min(
                ((b - a) for a, b in zip(days, [*days[1:], days[0] + 7], strict=True)),
                default=7,
            )
        if self.kind == "dates":
            return max(self.min_gap_days, 1)
        if self.kind == "anchor_offsets":
            return min((b - a for a, b in pairwise(self.offsets)), default=1)
        return 1  # daily, and the days within a cycle

    def describe(self) -> str:
        """The description in English (FHIR's `text`, logs); pages and the API's text fields
        write `description()` in the reader's language."""
        return str(self.description())

    def description(self) -> Msg:
        if self.kind == "daily":
            return _("daily")
        if self.kind == "every_n_days":
            if self.n == 2:
                return _("every other day")
            return ngettext("every %(count)s day", "every %(count)s days", self.n)
        if self.kind == "per_week":
            if not self.weekdays:
                return _("%(count)s per week", count=self.k)
            days = Joined(tuple(WEEKDAYS[d] for d in self.weekdays), "/")
            return _("%(count)s per week (%(days)s)", count=self.k, days=days)
        if self.kind == "weekly":
            if not self.from_anchor:
                return _("weekly")
            return _(
                "weekly from %(start)s to %(end)s",
                start=anchor_name(self.from_anchor),
                end=anchor_name(self.until_anchor),
            )
        if self.kind == "cycles":
            return _(
                "cycles of %(doses)s, %(rest)s between",
                doses=ngettext("%(count)s daily dose", "%(count)s daily doses", self.on_days),
                rest=ngettext(
                    "%(count)s dose-free day", "%(count)s dose-free days", self.rest_days
                ),
            )
        if self.kind == "dates":
            return _("on each of the %(dates)s", dates=anchor_name(self.anchor))
        offsets = ", ".join(f"{o:+d}" for o in self.offsets)
        return _(
            "days %(offsets)s from %(anchor)s", offsets=offsets, anchor=anchor_name(self.anchor)
        )


@dataclass(frozen=True)
class PhasePlan:
    """A phase as the engine sees it: the chosen pattern and the prescribed number of doses.

    `count` is None for anchored patterns, whose anchors decide how many doses there are.
    """

    pattern: Pattern
    count: int | None


@dataclass(frozen=True)
class Slot:
    """A recorded dose, as far as planning cares.

    `given`: a dose went in (minimum gaps count from it). `consumed`: it counts against the
    prescribed number (given, or not given and dropped rather than re-added at the end).
    """

    phase: int
    on: dt.date
    given: bool
    consumed: bool


@dataclass
class _State:
    last: dt.date | None = None
    done: int = 0
    in_phase: bool = False


# Dose days by direct date arithmetic: the engine's hot loop (issue 14) — no recurrence-rule
# objects, no datetimes, one timedelta per dose.


_OFFSETS = tuple(dt.timedelta(days=n) for n in range(1_000))  # built once, not per dose


def _every(first: dt.date, step: int, count: int) -> list[dt.date]:
    """`count` days from `first`, `step` days apart."""
    if step * count <= len(_OFFSETS):
        return [first + offset for offset in _OFFSETS[0 : step * count : step]]
    gap = dt.timedelta(days=step)
    return [first + gap * k for k in range(count)]


def _on_weekdays(first: dt.date, weekdays: Sequence[int], count: int) -> list[dt.date]:
    """The first `count` days on or after `first` that fall on `weekdays` (0 = Monday)."""
    offsets = sorted({(w - first.weekday()) % 7 for w in weekdays})
    per_week = len(offsets)
    return [first + _offset(7 * (k // per_week) + offsets[k % per_week]) for k in range(count)]


def _offset(days: int) -> dt.timedelta:
    return _OFFSETS[days] if days < len(_OFFSETS) else dt.timedelta(days=days)


def _anchor_date(anchors: Anchors, name: str) -> dt.date:
    value = anchors.get(name)
    if value in (None, "", []):
        raise ScheduleError(
            _("The '%(name)s' date is required for this protocol.", name=name), f"anchors.{name}"
        )
    if not isinstance(value, dt.date):
        raise ScheduleError(_("'%(name)s' is one date, not a list.", name=name), f"anchors.{name}")
    return value


def _anchor_dates(anchors: Anchors, name: str, min_gap: int) -> list[dt.date]:
    values = anchors.get(name)
    if not values or isinstance(values, dt.date | str):
        raise ScheduleError(
            _("The '%(name)s' list of dates is required.", name=name), f"anchors.{name}"
        )
    days = sorted(values)
    for a, b in pairwise(days):
        if (b - a).days < min_gap:
            raise ScheduleError(
                ngettext(
                    "'%(name)s': %(first)s and %(second)s are %(count)s day apart; at least "
                    "%(needed)s needed.",
                    "'%(name)s': %(first)s and %(second)s are %(count)s days apart; at least "
                    "%(needed)s needed.",
                    (b - a).days,
                    name=name,
                    first=Day(a),
                    second=Day(b),
                    needed=min_gap,
                ),
                f"anchors.{name}",
            )
    return days


def anchored_dates(pattern: Pattern, anchors: Anchors) -> list[dt.date]:
    """Every dose day of an anchored pattern, from the prescriber's anchor dates."""
    if pattern.kind == "dates":
        return _anchor_dates(anchors, pattern.anchor, max(pattern.min_gap_days, 1))
    if pattern.kind == "anchor_offsets":
        day = _anchor_date(anchors, pattern.anchor)
        return [day + dt.timedelta(days=o) for o in pattern.offsets]
    first = _anchor_date(anchors, pattern.from_anchor)
    last = _anchor_date(anchors, pattern.until_anchor)
    if last < first:
        raise ScheduleError(
            _(
                "'%(end)s' (%(last)s) is before '%(start)s' (%(first)s).",
                end=pattern.until_anchor,
                last=Day(last),
                start=pattern.from_anchor,
                first=Day(first),
            ),
            f"anchors.{pattern.until_anchor}",
        )
    return _every(first, 7, (last - first).days // 7 + 1)


def _cycle_days(first: dt.date, pattern: Pattern, count: int, position: int) -> list[dt.date]:
    """`count` doses of a cycles pattern, the first on `first`, `position` doses into a cycle."""
    days: list[dt.date] = []
    day = first
    while len(days) < count:
        run = min(pattern.on_days - position, count - len(days))
        days += _every(day, 1, run)
        # The next cycle begins after `rest_days` dose-free days ("repeat at intervals of 2 weeks").
        day = days[-1] + dt.timedelta(days=pattern.rest_days + 1)
        position = 0
    return days


def _continue(pattern: Pattern, count: int, floor: dt.date, state: _State) -> list[dt.date]:
    """The next `count` days of a pattern, none before `floor`, keeping the minimum gap."""
    if count <= 0:
        return []
    earliest = floor
    if pattern.kind == "cycles":
        position = state.done % pattern.on_days if state.in_phase else 0
        if state.last is not None:
            gap = 1 if position or not state.in_phase else pattern.rest_days + 1
            earliest = max(floor, state.last + dt.timedelta(days=gap))
        return _cycle_days(earliest, pattern, count, position)
    if state.last is not None:
        earliest = max(floor, state.last + dt.timedelta(days=pattern.min_gap()))
    if pattern.kind == "per_week":
        pattern = pattern.with_weekdays_from(earliest)
        return _on_weekdays(earliest, pattern.weekdays, count)
    if pattern.kind == "weekly":
        return _every(earliest, 7, count)
    return _every(earliest, pattern.min_gap(), count)


def course_replan(
    phases: Sequence[PhasePlan],
    *,
    anchors: Anchors,
    recorded: Sequence[Slot],
    earliest: dt.date,
) -> list[list[dt.date]]:
    """Days of every dose still to give, per phase, around what has been recorded.

    No day is before `earliest` or on/before the last recorded dose; each phase keeps its
    pattern's minimum gap from the last dose given (≥ rest days between cycles); a later phase
    starts where its own pattern would next fall after the previous phase's last dose. Anchored
    phases keep their event days; the ones that fell before `earliest` are dropped.
    """
    floor = earliest
    if recorded:
        floor = max(floor, max(s.on for s in recorded) + dt.timedelta(days=1))
    plan: list[list[dt.date]] = []
    previous_last: dt.date | None = None
    for index, phase in enumerate(phases):
        slots = [s for s in recorded if s.phase == index]
        given = [s.on for s in slots if s.given]
        if phase.pattern.anchored:
            taken = {s.on for s in slots}
            days = [
                d for d in anchored_dates(phase.pattern, anchors) if d not in taken and d >= floor
            ]
        else:
            if phase.count is None:
                raise ScheduleError(_("A phase that is not anchored needs a count."), "count")
            state = _State(
                last=max(given) if given else previous_last,
                done=sum(s.consumed for s in slots),
                in_phase=bool(given),
            )
            days = _continue(phase.pattern, phase.count - state.done, floor, state)
        plan.append(days)
        previous_last = max([*given, *days], default=previous_last)
        if days:
            floor = max(floor, days[-1] + dt.timedelta(days=1))
    return plan


def course_plan(
    phases: Sequence[PhasePlan], *, start: dt.date, anchors: Anchors | None = None
) -> list[list[dt.date]]:
    """Days of every dose of a new course, per phase."""
    if any(phase.count is None or phase.pattern.anchored for phase in phases):
        return course_replan(phases, anchors=anchors or {}, recorded=(), earliest=start)
    # Nothing recorded and nothing anchored (every prescription but a few): course_replan's
    # walk without its bookkeeping — each phase continues from the previous one's last day.
    plan: list[list[dt.date]] = []
    floor, last = start, None
    for phase in phases:
        days = _continue(phase.pattern, phase.count, floor, _State(last=last))
        plan.append(days)
        if days:
            last = days[-1]
            floor = max(floor, last + _OFFSETS[1])
    return plan


def local_datetime(day: dt.date, at: dt.time, tz: ZoneInfo | str) -> dt.datetime:
    """The dose moment: `day` at wall-clock time `at` in the hospital's zone.

    On the autumn change a wall time that happens twice means its first occurrence (fold=0);
    on the spring change a wall time that does not exist moves forward by the gap, as clocks do.
    """
    if at.tzinfo is not None:
        at = at.replace(tzinfo=None)
    return _wall_moment(day, at, tz)


# A hospital's doses fall on a few hundred days at a few administration times: each (day, time,
# zone) is worked out once (the zone arithmetic is most of the engine's cost per dose), then
# shared — datetimes are immutable.
@lru_cache(maxsize=65_536)
def _wall_moment(day: dt.date, at: dt.time, tz: ZoneInfo | str) -> dt.datetime:
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    moment = dt.datetime.combine(day, at, tzinfo=zone)
    return moment.astimezone(dt.UTC).astimezone(zone)


def local_moment(moment: dt.datetime, tz: ZoneInfo | str) -> dt.datetime:
    """`moment` on the wall clock of zone `tz` — a course's `time_zone`, which is authoritative
    for every date and time of its doses (pages, e-mails, stock dates)."""
    return moment.astimezone(ZoneInfo(tz) if isinstance(tz, str) else tz)


def local_date(moment: dt.datetime, tz: ZoneInfo | str) -> dt.date:
    """The calendar day of `moment` in zone `tz` (see `local_moment`)."""
    return local_moment(moment, tz).date()


def phases_resolved(
    phases: Sequence[PhasePlan], plan: Sequence[Sequence[dt.date]]
) -> list[PhasePlan]:
    """Fix each k-per-week phase to the weekdays of its first planned day, so that re-planning
    after a hold keeps the course's weekdays instead of counting blocks from the resume day."""
    return [
        PhasePlan(phase.pattern.with_weekdays_from(days[0]), phase.count) if days else phase
        for phase, days in zip(phases, plan, strict=True)
    ]
