"""Benchmark: planning and re-planning many courses with the pure engine (`make bench`)."""

import datetime as dt

from courses.formulary import BETALEUKIN_CYCLES, DAILY, EVERY_OTHER_DAY, THREE_PER_WEEK
from courses.schedule import (
    Pattern,
    PhasePlan,
    Slot,
    course_plan,
    course_replan,
    local_datetime,
)

START = dt.date(2025, 3, 1)
COURSES = [
    [PhasePlan(Pattern.from_dict(BETALEUKIN_CYCLES), 15)],
    [PhasePlan(Pattern.from_dict(THREE_PER_WEEK), 14)],
    [PhasePlan(Pattern.from_dict(DAILY), 10)],
    [
        PhasePlan(Pattern.from_dict({"kind": "every_n_days", "n": 3}), 3),
        PhasePlan(Pattern.from_dict(EVERY_OTHER_DAY), 7),
    ],
]


def _plan_many(n: int) -> int:
    doses = 0
    for i in range(n):
        start = START + dt.timedelta(days=i % 365)
        for days in course_plan(COURSES[i % len(COURSES)], start=start):
            doses += len([local_datetime(d, dt.time(10), "Europe/Berlin") for d in days])
    return doses


def test_plan_1000_courses(benchmark):
    assert benchmark(_plan_many, 1000) == 250 * (15 + 14 + 10 + 10)


def test_replan_1000_courses_after_a_hold(benchmark):
    def replan_many():
        for i in range(1000):
            phases = COURSES[i % len(COURSES)]
            (first, *_) = course_plan(phases, start=START)
            recorded = [Slot(0, d, given=True, consumed=True) for d in first[:2]]
            course_replan(
                phases, anchors={}, recorded=recorded, earliest=first[1] + dt.timedelta(9)
            )

    benchmark(replan_many)
