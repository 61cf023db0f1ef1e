"""Every main list and page costs the same number of queries at two data sizes (issue 14, 4).

Each page is requested once with a little data and again after several times more rows of what
it lists (courses, doses, lots, stock levels, readings); the second count may not exceed the
first, so a query per row (N+1) fails here long before a large hospital notices it.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import Presentation
from inventory.services import readings_ingest
from tests.courses.helpers import seven_doses
from tests.factories import PatientFactory, StorageLocationFactory

pytestmark = pytest.mark.django_db


def _pages(today):
    day = today.isoformat()
    return [
        "/",  # Today, every ward (the pharmacist's default)
        f"/?date={day}&ward=ward-3a",
        "/courses/",
        "/stock/",
        "/stock/forecast/?days=120",
        "/cold-chain/",
        f"/api/v1/doses/?date={day}&page_size=500",
        "/api/v1/lots/?expiring_within_days=400&page_size=100",
        "/api/v1/courses/",
        "/api/v1/readings/",
        "/api/v1/lots/?page_size=100",
        "/api/v1/stock/forecast/?days=120",
    ]


def _add(*, n, ward, fridge, physician, receive, today, start):
    """n more courses (a dose each today), n lots of each presentation, n hours of readings."""
    for _ in range(n):
        seven_doses("ceruloplasmin-postop", physician, ward, today)
    for presentation in Presentation.objects.all():
        for k in range(n):
            receive(presentation, fridge, 5, lot_number=f"Q{start}-{k}", expiry_days=30 + 10 * k)
    # Readings in the past: the ingest refuses readings from the future.
    t0 = timezone.now() - datetime.timedelta(hours=3)
    readings_ingest(
        readings=[
            {
                "location_id": fridge.pk,
                "sensor_id": "s1",
                "taken_at": t0 + datetime.timedelta(minutes=start * 60 + m),
                "temperature_c": Decimal("5.0"),
            }
            for m in range(n * 10)
        ]
    )


def test_pages_and_lists_query_counts_do_not_grow_with_rows(
    client, formulary, ward, physician, pharmacist, receive, today
):
    fridge = StorageLocationFactory(code="ward-3a-fridge", ward=ward)
    PatientFactory(ward=ward)
    client.force_login(pharmacist)
    counts, sizes = {}, {}
    for n, start in ((1, 0), (4, 1)):
        _add(
            n=n,
            ward=ward,
            fridge=fridge,
            physician=physician,
            receive=receive,
            today=today,
            start=start,
        )
        for url in _pages(today):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            counts.setdefault(url, []).append(len(queries))
            sizes.setdefault(url, []).append(len(response.content))
    # The second size really listed more: every response is longer.
    assert all(s[1] > s[0] for s in sizes.values()), sizes
    grown = {url: c for url, c in counts.items() if c[1] > c[0]}
    assert not grown, grown
