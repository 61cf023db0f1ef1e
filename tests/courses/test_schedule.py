"""The pure scheduling engine: exact date lists from the leaflets' regimens, DST, re-planning."""

import datetime as dt
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from courses.formulary import BETALEUKIN_CYCLES, DAILY, EVERY_OTHER_DAY, THREE_PER_WEEK
from courses.schedule import (
    Pattern,
    PhasePlan,
    ScheduleError,
    Slot,
    course_plan,
    course_replan,
    local_datetime,
    phases_resolved,
)

MONDAY = dt.date(2025, 1, 6)


def _days(start: dt.date, *numbers: int) -> list[dt.date]:
    """Course days counted from 1 = `start` (the leaflets' and clinicians' way)."""
    return [start + dt.timedelta(days=n - 1) for n in numbers]


def _plan(spec: dict, count: int | None, start=MONDAY, anchors=None) -> list[dt.date]:
    (days,) = course_plan([PhasePlan(Pattern.from_dict(spec), count)], start=start, anchors=anchors)
    return days


def test_betaleukin_cycles_days_1_to_5_20_to_24_39_to_43():
    # Leaflet 002 "Dosing regimen": 5 daily, repeated at intervals of 2 weeks (14 dose-free days).
    days = _plan(BETALEUKIN_CYCLES, 15)
    assert days == _days(MONDAY, 1, 2, 3, 4, 5, 20, 21, 22, 23, 24, 39, 40, 41, 42, 43)
    assert (days[5] - days[4]).days - 1 == 14


def test_daily_and_every_other_day():
    assert _plan(DAILY, 5) == _days(MONDAY, 1, 2, 3, 4, 5)
    assert _plan(EVERY_OTHER_DAY, 5) == _days(MONDAY, 1, 3, 5, 7, 9)
    assert _plan({"kind": "every_n_days", "n": 3}, 3) == _days(MONDAY, 1, 4, 7)


@pytest.mark.parametrize("weekday", range(7))
def test_three_per_week_is_days_1_3_5_of_each_block_from_any_weekday(weekday):
    start = MONDAY + dt.timedelta(days=weekday)
    days = _plan(THREE_PER_WEEK, 10, start=start)
    assert days == _days(start, 1, 3, 5, 8, 10, 12, 15, 17, 19, 22)


def test_three_per_week_from_monday_is_mon_wed_fri():
    days = _plan(THREE_PER_WEEK, 14)
    assert {d.strftime("%a") for d in days} == {"Mon", "Wed", "Fri"}
    assert len(days) == 14 and days[-1] == dt.date(2025, 2, 5)  # 4 weeks of 3, then Mon+Wed


def test_three_per_week_on_chosen_weekdays_starts_on_the_first_one_not_before_start():
    # Thursday start, prescriber chose Tue/Thu/Sat.
    days = _plan({**THREE_PER_WEEK, "weekdays": [1, 3, 5]}, 5, start=dt.date(2025, 1, 9))
    assert days == [
        dt.date(2025, 1, 9),
        dt.date(2025, 1, 11),
        dt.date(2025, 1, 14),
        dt.date(2025, 1, 16),
        dt.date(2025, 1, 18),
    ]


def test_weekday_choice_must_match_k():
    with pytest.raises(ScheduleError) as error:
        Pattern.from_dict({**THREE_PER_WEEK, "weekdays": [0, 2]})
    assert error.value.field == "weekdays"
    with pytest.raises(ScheduleError):
        Pattern.from_dict({**THREE_PER_WEEK, "weekdays": [0, 2, 9]})


def test_weekly_and_weekly_through_radiotherapy():
    assert _plan({"kind": "weekly"}, 3) == _days(MONDAY, 1, 8, 15)
    spec = {
        "kind": "weekly",
        "from_anchor": "radiotherapy_start",
        "until_anchor": "radiotherapy_end",
    }
    anchors = {"radiotherapy_start": dt.date(2025, 2, 3), "radiotherapy_end": dt.date(2025, 3, 3)}
    assert _plan(spec, None, start=dt.date(2025, 2, 3), anchors=anchors) == _days(
        dt.date(2025, 2, 3), 1, 8, 15, 22, 29
    )
    with pytest.raises(ScheduleError, match="before"):
        _plan(spec, None, anchors={**anchors, "radiotherapy_end": dt.date(2025, 1, 1)})


def test_explicit_dates_sorted_and_gap_checked():
    spec = {"kind": "dates", "anchor": "chemotherapy_dates"}
    chemo = [dt.date(2025, 1, 20), dt.date(2025, 1, 6), dt.date(2025, 1, 13)]
    assert _plan(spec, None, anchors={"chemotherapy_dates": chemo}) == sorted(chemo)
    weekly_only = {"kind": "dates", "anchor": "procedure_dates", "min_gap_days": 7}
    with pytest.raises(ScheduleError, match="at least 7") as error:
        _plan(weekly_only, None, anchors={"procedure_dates": [MONDAY, MONDAY + dt.timedelta(3)]})
    assert error.value.field == "anchors.procedure_dates"
    with pytest.raises(ScheduleError, match="required"):
        _plan(spec, None, anchors={})


def test_surgery_anchored_minus_2_0_then_daily_2_to_10():
    # Leaflet 001, children, posthaemorrhagic anaemia; design.md reading.
    spec = {"kind": "anchor_offsets", "anchor": "surgery", "offsets": [-2, 0, *range(2, 11)]}
    surgery = dt.date(2025, 3, 12)
    days = _plan(spec, None, start=surgery - dt.timedelta(2), anchors={"surgery": surgery})
    assert days == [surgery + dt.timedelta(days=o) for o in (-2, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10)]


@pytest.mark.parametrize(
    ("loading", "loading_count", "continuation_count", "expected"),
    [
        # 2-3 doses with 1 dose-free day between, then every other day starting 2 days later.
        (2, 3, 3, (1, 3, 5, 7, 9, 11)),
        (2, 2, 7, (1, 3, 5, 7, 9, 11, 13, 15, 17)),
        # …or with 2 dose-free days between.
        (3, 3, 3, (1, 4, 7, 9, 11, 13)),
        (3, 2, 5, (1, 4, 6, 8, 10, 12, 14)),
    ],
)
def test_chronic_osteomyelitis_two_phases(loading, loading_count, continuation_count, expected):
    phases = [
        PhasePlan(Pattern.from_dict({"kind": "every_n_days", "n": loading}), loading_count),
        PhasePlan(Pattern.from_dict(EVERY_OTHER_DAY), continuation_count),
    ]
    first, second = course_plan(phases, start=MONDAY)
    assert first + second == _days(MONDAY, *expected)
    assert len(first) == loading_count and len(second) == continuation_count


def test_daily_phase_after_every_other_day_phase_starts_the_next_day():
    phases = [
        PhasePlan(Pattern.from_dict(EVERY_OTHER_DAY), 2),
        PhasePlan(Pattern.from_dict(DAILY), 2),
    ]
    assert course_plan(phases, start=MONDAY) == [_days(MONDAY, 1, 3), _days(MONDAY, 4, 5)]


@pytest.mark.parametrize(
    ("zone", "day", "utc_offsets"),
    [
        # Europe/Berlin springs forward on 30 March 2025, falls back on 26 October 2025.
        ("Europe/Berlin", dt.date(2025, 3, 29), ["+0100", "+0200", "+0200"]),
        ("Europe/Berlin", dt.date(2025, 10, 25), ["+0200", "+0100", "+0100"]),
        ("America/New_York", dt.date(2025, 3, 8), ["-0500", "-0400", "-0400"]),
    ],
)
def test_daily_doses_keep_the_wall_clock_time_across_dst(zone, day, utc_offsets):
    days = _plan(DAILY, 3, start=day)
    moments = [local_datetime(d, dt.time(9, 0), zone) for d in days]
    assert [m.strftime("%H:%M") for m in moments] == ["09:00"] * 3
    assert [m.strftime("%z") for m in moments] == utc_offsets
    gaps = {(b - a).total_seconds() / 3600 for a, b in pairwise(moments)}
    assert gaps == {24.0} or 23.0 in gaps or 25.0 in gaps


def test_wall_times_in_the_dst_gap_and_overlap():
    berlin = "Europe/Berlin"
    skipped = local_datetime(dt.date(2025, 3, 30), dt.time(2, 30), berlin)
    assert (skipped.hour, skipped.minute, skipped.strftime("%z")) == (3, 30, "+0200")
    twice = local_datetime(dt.date(2025, 10, 26), dt.time(2, 30), berlin)
    assert (twice.hour, twice.strftime("%z")) == (2, "+0200")  # the first of the two 02:30s
    assert twice.utcoffset() == dt.timedelta(hours=2)


# --- Re-planning ------------------------------------------------------------------------------


def _given(phase, day, consumed=True):
    return Slot(phase=phase, on=day, given=True, consumed=consumed)


def test_hold_mid_cycle_then_resume_keeps_14_dose_free_days_before_the_next_cycle():
    phases = [PhasePlan(Pattern.from_dict(BETALEUKIN_CYCLES), 10)]
    recorded = [_given(0, d) for d in _days(MONDAY, 1, 2, 3)]
    # Held from day 4, resumed on day 8: the cycle's last two doses, then 14 dose-free days.
    (days,) = course_replan(phases, anchors={}, recorded=recorded, earliest=_days(MONDAY, 8)[0])
    assert days == _days(MONDAY, 8, 9, 24, 25, 26, 27, 28)


def test_resume_after_a_complete_cycle_never_shortens_the_rest():
    phases = [PhasePlan(Pattern.from_dict(BETALEUKIN_CYCLES), 10)]
    recorded = [_given(0, d) for d in _days(MONDAY, 1, 2, 3, 4, 5)]
    (days,) = course_replan(phases, anchors={}, recorded=recorded, earliest=_days(MONDAY, 10)[0])
    assert days == _days(MONDAY, 20, 21, 22, 23, 24)


def test_missed_dose_re_added_at_the_end_or_dropped():
    phases = [PhasePlan(Pattern.from_dict(EVERY_OTHER_DAY), 5)]
    missed = Slot(phase=0, on=_days(MONDAY, 3)[0], given=False, consumed=False)
    recorded = [_given(0, MONDAY), missed]
    (kept,) = course_replan(phases, anchors={}, recorded=recorded, earliest=_days(MONDAY, 5)[0])
    assert kept == _days(MONDAY, 5, 7, 9, 11)  # four more: the prescribed five are given
    dropped = [_given(0, MONDAY), Slot(0, missed.on, given=False, consumed=True)]
    (fewer,) = course_replan(phases, anchors={}, recorded=dropped, earliest=_days(MONDAY, 5)[0])
    assert fewer == _days(MONDAY, 5, 7, 9)


def test_replan_keeps_the_gap_from_the_last_given_dose():
    phases = [PhasePlan(Pattern.from_dict({"kind": "every_n_days", "n": 3}), 3)]
    (days,) = course_replan(phases, anchors={}, recorded=[_given(0, MONDAY)], earliest=MONDAY)
    assert days == _days(MONDAY, 4, 7)


def test_replan_of_three_per_week_keeps_the_course_weekdays():
    thursday = dt.date(2025, 1, 9)
    phases = [PhasePlan(Pattern.from_dict(THREE_PER_WEEK), 6)]
    plan = course_plan(phases, start=thursday)
    resolved = phases_resolved(phases, plan)
    assert resolved[0].pattern.weekdays == (0, 3, 5)  # Thu, Sat, Mon
    recorded = [_given(0, plan[0][0])]
    (days,) = course_replan(resolved, anchors={}, recorded=recorded, earliest=dt.date(2025, 1, 14))
    assert [d.strftime("%a") for d in days] == ["Thu", "Sat", "Mon", "Thu", "Sat"]


def test_anchored_days_are_not_shifted_by_a_hold():
    spec = {"kind": "dates", "anchor": "chemotherapy_dates"}
    chemo = _days(MONDAY, 1, 8, 15, 22)
    phases = [PhasePlan(Pattern.from_dict(spec), None)]
    (days,) = course_replan(
        phases,
        anchors={"chemotherapy_dates": chemo},
        recorded=[_given(0, chemo[0])],
        earliest=_days(MONDAY, 10)[0],
    )
    assert days == chemo[2:]


# --- Properties -------------------------------------------------------------------------------

patterns = st.one_of(
    st.just(DAILY),
    st.integers(2, 4).map(lambda n: {"kind": "every_n_days", "n": n}),
    st.just({"kind": "weekly"}),
    st.integers(1, 5).map(lambda k: {"kind": "per_week", "k": k}),
    st.builds(
        lambda on, rest: {"kind": "cycles", "on_days": on, "rest_days": rest},
        st.integers(1, 6),
        st.integers(0, 20),
    ),
)
starts = st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31))


def _gaps_hold(pattern: Pattern, days: list[dt.date]) -> bool:
    gaps = [(b - a).days for a, b in pairwise(days)]
    if pattern.kind == "cycles":
        # Within a cycle doses are daily; between cycles at least `rest_days` dose-free days.
        return all(g == 1 or g >= pattern.rest_days + 1 for g in gaps)
    return all(g >= pattern.min_gap() for g in gaps)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(patterns, st.integers(1, 15)), min_size=1, max_size=3), starts)
def test_plans_strictly_increase_with_exact_counts_and_gaps(phase_specs, start):
    phases = [PhasePlan(Pattern.from_dict(spec), count) for spec, count in phase_specs]
    plan = course_plan(phases, start=start)
    flat = [d for days in plan for d in days]
    assert flat[0] == start if phases[0].pattern.kind != "per_week" else flat[0] >= start
    assert all(a < b for a, b in pairwise(flat))
    for phase, days in zip(phases, plan, strict=True):
        assert len(days) == phase.count
        assert _gaps_hold(phase.pattern, days)


@settings(max_examples=200, deadline=None)
@given(
    patterns,
    st.integers(2, 15),
    starts,
    st.lists(st.sampled_from(["given", "missed_readd", "missed_drop"]), max_size=10),
    st.integers(0, 30),
)
def test_replanning_never_moves_a_recorded_dose(spec, count, start, outcomes, pause_days):
    phases = phases_resolved(
        [PhasePlan(Pattern.from_dict(spec), count)],
        course_plan([PhasePlan(Pattern.from_dict(spec), count)], start=start),
    )
    pattern = phases[0].pattern
    (planned,) = course_plan(phases, start=start)
    recorded = [
        Slot(0, day, given=outcome == "given", consumed=outcome != "missed_readd")
        for day, outcome in zip(planned, outcomes, strict=False)
    ]
    earliest = (recorded[-1].on if recorded else start) + dt.timedelta(days=pause_days)
    (days,) = course_replan(phases, anchors={}, recorded=recorded, earliest=earliest)

    assert all(d >= earliest for d in days)
    assert all(d > slot.on for d in days for slot in recorded)
    assert len(days) == count - sum(s.consumed for s in recorded)
    given_days = [s.on for s in recorded if s.given]
    if pattern.kind != "cycles":
        assert _gaps_hold(pattern, given_days + days)
    else:
        assert all(a < b for a, b in pairwise(days))
        assert not given_days or not days or (days[0] - given_days[-1]).days >= 1
