"""The demand summed in SQL (`scheduled_demand_totals`, what the shortage counter and the expiry
alert read) against the straightforward sum of `scheduled_demand`'s lines, dose by dose."""

import datetime as dt
import random
from collections import defaultdict

import pytest
from django.db import connection

from courses.demand import scheduled_demand, scheduled_demand_totals
from courses.models import Course, Dose
from inventory import selectors
from inventory.demand import demand_totals
from inventory.models import StockLevel
from tests.courses.helpers import seven_doses
from tests.factories import LotFactory, PresentationFactory, StorageLocationFactory

pytestmark = pytest.mark.django_db

ZONES = ["Europe/Kyiv", "UTC", "America/New_York", "Asia/Tokyo"]


def _presentations(n: int) -> list:
    # Distinct codes: the factory gets or creates by code.
    return [PresentationFactory(code=f"ceruloplasmin-{100 * (i + 1)}mg-vial-5") for i in range(n)]


def _straightforward(start, end) -> dict:
    totals = defaultdict(int)
    for line in scheduled_demand(start, end):
        if start <= line.on <= end:
            totals[(line.presentation_id, line.on)] += line.quantity
    return dict(totals)


def _shuffle(rng: random.Random, presentations, start: dt.date) -> None:
    """Random zones, holds, times (some near midnight), statuses and vials on every dose."""
    for course in Course.objects.all():
        held = rng.random() < 0.3
        Course.objects.filter(pk=course.pk).update(
            time_zone=rng.choice(ZONES),
            status="on_hold" if held else "active",
            held_since=start + dt.timedelta(days=rng.randint(0, 5)) if held else None,
        )
    base = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    for dose in Dose.objects.all():
        Dose.objects.filter(pk=dose.pk).update(
            scheduled_at=base + dt.timedelta(minutes=rng.randint(-12 * 60, 8 * 24 * 60)),
            status=rng.choice(["scheduled", "scheduled", "scheduled", "cancelled"]),
            vials=[
                {"presentation_id": p.pk, "count": rng.randint(1, 3)}
                for p in rng.sample(presentations, rng.randint(0, 2))
            ],
        )


@pytest.mark.parametrize("seed", range(4))
def test_sql_totals_equal_the_lines_summed_on_random_layouts(
    seed, formulary, physician, ward, today
):
    rng = random.Random(seed)
    presentations = _presentations(3)
    for _ in range(4):
        seven_doses("ceruloplasmin-postop", physician, ward, today)
    _shuffle(rng, presentations, today)
    for days in (1, 3, 7):
        end = today + dt.timedelta(days=days - 1)
        expected = _straightforward(today, end)
        rows = [
            (p, on, n) for p, on, n in scheduled_demand_totals(today, end) if today <= on <= end
        ]
        assert len(rows) == len({(p, on) for p, on, _ in rows})  # one row per presentation-day
        assert {(p, on): n for p, on, n in rows} == expected
        assert {
            (p, on): n
            for p, by_day in demand_totals(today, end).items()
            for on, n in by_day.items()
        } == expected


@pytest.mark.parametrize("seed", range(3))
def test_shortage_counter_agrees_with_the_forecast_on_scheduled_doses(
    seed, formulary, physician, ward, today, django_assert_max_num_queries
):
    rng = random.Random(seed)
    presentations = _presentations(3)
    for _ in range(4):
        seven_doses("ceruloplasmin-postop", physician, ward, today)
    _shuffle(rng, presentations, today)
    fridge = StorageLocationFactory()
    for presentation in presentations:
        for _ in range(rng.randint(0, 3)):
            lot = LotFactory(
                presentation=presentation, expiry_date=today + dt.timedelta(rng.randint(0, 9))
            )
            StockLevel.objects.create(lot=lot, location=fridge, on_hand=rng.randint(1, 6))
    forecast = selectors.stock_forecast(start=today, days=7)
    expected = sorted(row["presentation"] for row in forecast["presentations"] if row["shortages"])
    # Demand (one aggregate query), lots expiring in the horizon, lasting stock (every
    # presentation's first batch in one query; one each where the database allows no LIMIT
    # inside a UNION, SQLite): flat in doses.
    lasting = 1 if connection.features.supports_slicing_ordering_in_compound else 3
    with django_assert_max_num_queries(2 + lasting):
        assert selectors.presentations_short(start=today, days=7) == expected
