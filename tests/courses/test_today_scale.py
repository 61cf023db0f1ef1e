"""Today at a large hospital's scale: a handful of lots offered per dose, and pages of doses."""

import random
import re
from types import SimpleNamespace

import pytest

from courses import selectors
from courses.views import today as today_view
from inventory.models import Presentation, StockLevel
from inventory.selectors import usable_q
from tests.courses.test_views_today import _course_now, _first_dose
from tests.factories import PatientFactory, StorageLocationFactory

pytestmark = pytest.mark.django_db


def _all_stock(on):
    """Every usable level in the hospital, FEFO: what suggestions were once picked from."""
    return list(
        StockLevel.objects.filter(usable_q(on), on_hand__gt=0)
        .values(*selectors._STOCK_FIELDS)
        .order_by("lot__expiry_date", "lot_id", "location__name")
    )


def _dose(ward_id, presentation_id, count):
    """What lot_stock reads of a dose: its ward, and the containers it takes."""
    return SimpleNamespace(
        course=SimpleNamespace(patient=SimpleNamespace(ward_id=ward_id)),
        vials=[{"presentation_id": presentation_id, "count": count}],
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lot_stock_suggests_what_all_the_stock_would(
    seed, formulary, ward, other_ward, receive, today
):
    rng = random.Random(seed)
    vial, ampoule = Presentation.objects.order_by("pk")[:2]
    places = [
        StorageLocationFactory(ward=ward),
        StorageLocationFactory(ward=ward),
        StorageLocationFactory(ward=other_ward),
        StorageLocationFactory(ward=None),  # the pharmacy
    ]
    for n in range(40):
        receive(
            rng.choice([vial, ampoule]),
            rng.choice(places),
            rng.randint(1, 6),
            lot_number=f"L{n}",
            expiry_days=rng.randint(5, 60),
        )
    full = _all_stock(today)
    keys = [
        (w, p, c)
        for w in (ward.pk, other_ward.pk)
        for p in (vial.pk, ampoule.pk)
        for c in range(1, 8)
    ]
    scoped = selectors.lot_stock(on=today, doses=[_dose(*key) for key in keys])
    assert len(scoped) < len(full)  # a few levels, not all of them
    for w, p, c in keys:
        expected = selectors.lot_suggestion(full, presentation_id=p, count=c, ward_id=w)
        got = selectors.lot_suggestion(scoped, presentation_id=p, count=c, ward_id=w)
        assert got == expected, (w, p, c)
    # Read for one ward's single-vial doses, the other ward's fridge is left out entirely.
    one_ward = selectors.lot_stock(on=today, doses=[_dose(ward.pk, vial.pk, 1)])
    assert len(one_ward) <= 2


def _datalist(page: str, dose_id: int) -> list[str]:
    body = re.search(rf'<datalist id="lots-{dose_id}">(.*?)</datalist>', page, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"', body)


def test_today_offers_the_first_few_lots_of_the_wards_own_fridges(
    client, nurse, stocked, receive, ward, other_ward, physician, today
):
    course = _course_now(PatientFactory(ward=ward), physician, today)
    vial = Presentation.objects.get(code="biocerulin-100mg-vial-5")
    own = StorageLocationFactory(ward=ward)
    for n in range(7):
        receive(vial, own, 2, lot_number=f"OWN{n}", expiry_days=20 + n)
    receive(vial, StorageLocationFactory(ward=other_ward), 5, lot_number="THEIRS", expiry_days=3)
    receive(vial, StorageLocationFactory(ward=None), 5, lot_number="PHARMACY", expiry_days=4)
    client.force_login(nurse)
    page = client.get("/").content.decode()
    offered = _datalist(page, _first_dose(course).pk)
    assert offered == [f"OWN{n}" for n in range(selectors.LOTS_OFFERED)]
    # The suggestion is still the ward's own fridge first.
    assert "Suggested: lot OWN0" in page


def test_all_wards_day_comes_in_pages_with_each_wards_total(
    client, pharmacist, stocked, ward, other_ward, physician, today, monkeypatch
):
    monkeypatch.setattr(today_view, "DOSES_PER_PAGE", 2)
    courses = [
        _course_now(PatientFactory(ward=w, name=f"Patient {n}"), physician, today)
        for n, w in enumerate([ward, ward, ward, other_ward, other_ward])
    ]
    client.force_login(pharmacist)
    pages = [client.get("/", {"page": n}).content.decode() for n in (1, 2, 3)]
    rows = [page.count('class="dose-row') for page in pages]
    assert rows == [2, 2, 1]
    assert "Page 2 of 3 · 5 in all" in pages[1]
    # Ward 3A's heading counts its three doses on page 2 too, where only one of them is.
    assert 'Ward 3A <span class="muted">· 3 doses' in pages[1]
    assert all(f"Patient {n}" in "".join(pages) for n in range(5))
    # A scanned label (?open=) lands on the page that holds its dose.
    last = _first_dose(courses[4]).pk
    page = client.get("/", {"open": last}).content.decode()
    assert f'id="dose-{last}"' in page and "Page 3 of 3" in page
