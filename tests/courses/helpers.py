"""Shared helpers for the courses tests."""

import datetime as dt

from dateutil.relativedelta import relativedelta

from courses.models import Protocol
from courses.schedule import local_date
from courses.services import course_create
from tests.factories import PatientFactory


def born(today: dt.date, **age) -> dt.date:
    return today - relativedelta(**age)


def prescribe(patient, code: str, user, on: dt.date, **choices):
    return course_create(
        patient=patient, protocol=Protocol.objects.get(code=code), user=user, on=on, **choices
    )


def seven_doses(code: str, user, ward, on: dt.date, **choice):
    """A Ceruloplasmin course of 7 doses of 2 mg/kg for a new patient of `ward`."""
    return prescribe(
        PatientFactory(ward=ward), code, user, on, phases=[{"dose": "2", "count": 7, **choice}]
    )


def day_numbers(course) -> list[int]:
    """Dose days counted from 1 = the course start, for active (not cancelled) doses."""
    return [
        (local_date(d.scheduled_at, course.time_zone) - course.start_date).days + 1
        for d in course.doses.exclude(status="cancelled").order_by("scheduled_at")
    ]


def prescribe_daily_at(patient, user, on: dt.date, at: dt.time):
    """A daily Biocerulin course (80 mg: one 100 mg vial, so Today shows its lot box) whose first
    dose is at `at` on `on`."""
    return prescribe(
        patient,
        "biocerulin-general",
        user,
        on,
        phases=[{"pattern": {"kind": "daily"}, "dose": "80"}],
        administration_time=at,
    )
