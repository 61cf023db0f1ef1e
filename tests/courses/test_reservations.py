"""Vials held ahead for scheduled doses by the hourly reservation scan."""

import datetime as dt

from django.conf import settings
from django.db.models import Sum

from courses.schedule import local_date
from courses.tasks import doses_reserve_scan
from inventory.models import StockLevel
from tests.courses.helpers import seven_doses


def _reserved() -> int:
    return StockLevel.objects.aggregate(held=Sum("reserved"))["held"] or 0


def test_the_scan_reserves_the_next_two_days_once(formulary, physician, ward, today, stocked):
    course = seven_doses("ceruloplasmin-postop", physician, ward, today)  # daily from today
    due = [
        d
        for d in course.doses.all()
        if local_date(d.scheduled_at, course.time_zone) <= today + dt.timedelta(days=1)
    ]
    assert len(due) == 2
    assert doses_reserve_scan() == 2
    assert _reserved() == sum(line["count"] for d in due for line in d.vials) > 0
    assert doses_reserve_scan() == 0
    assert _reserved() == sum(line["count"] for d in due for line in d.vials)


def test_the_scan_runs_hourly_from_beat():
    entry = settings.CELERY_BEAT_SCHEDULE["doses-reserve"]
    assert entry["task"] == doses_reserve_scan.name == "courses.doses_reserve_scan"
    assert entry["schedule"].minute == {40} and len(entry["schedule"].hour) == 24
