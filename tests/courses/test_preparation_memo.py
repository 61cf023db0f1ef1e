"""What a list's preparations share (`dose_preparation(memo=…)`, the bound renderers): each
shared piece is keyed by everything it reads, so two doses, languages or lots that differ in one
input never get each other's text. Each test here differs in exactly one input of one key."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import translation

from courses import preparation_text, selectors
from courses.preparation import Opened, Quantity, named
from courses.units import Mass
from tests.courses.helpers import born, prescribe
from tests.factories import PatientFactory, StorageLocationFactory

pytestmark = pytest.mark.django_db

CHILD = "ceruloplasmin-child-purulent-surgical"  # fixed doses by age band: 50, 100, 200 mg


def _first_dose(patient, physician, today):
    course = prescribe(patient, CHILD, physician, today, phases=[{"count": 7}])
    return selectors.doses_visible(physician).get(pk=course.doses.order_by("sequence")[0].pk)


def _preparations(doses, *, stock, memo, page=False):
    presentations = selectors.presentations_by_id()
    return [
        selectors.dose_preparation(
            dose, presentations=presentations, stock=stock, page=page, memo=memo
        )
        for dose in doses
    ]


def _lot(prep) -> str | None:
    lot = prep["containers"][0]["suggested_lot"]
    return lot and lot["lot_number"]


def test_two_wards_doses_alike_but_for_the_ward_get_their_own_fridges_lot(
    formulary, ward, other_ward, physician, receive, today
):
    infants = [PatientFactory(ward=w, birth_date=born(today, months=8)) for w in (ward, other_ward)]
    doses = [_first_dose(p, physician, today) for p in infants]
    assert doses[0].vials == doses[1].vials and doses[0].amount == doses[1].amount
    vial = doses[0].vials[0]["presentation_id"]
    from inventory.models import Presentation

    presentation = Presentation.objects.get(pk=vial)
    receive(presentation, StorageLocationFactory(ward=ward), 5, lot_number="OWN-3A")
    receive(presentation, StorageLocationFactory(ward=other_ward), 5, lot_number="OWN-5B")
    stock = selectors.lot_stock(on=today, doses=doses)
    preps = _preparations(doses, stock=stock, memo={})
    assert [_lot(p) for p in preps] == ["OWN-3A", "OWN-5B"]


def test_a_dose_of_two_vials_is_not_given_the_lot_holding_one(
    formulary, ward, physician, receive, today
):
    # An infant's 50 mg opens one 100 mg vial, a 14-year-old's 200 mg two: the first-expiry lot
    # holds one vial only, so the second dose is suggested the next lot.
    doses = [
        _first_dose(PatientFactory(ward=ward, birth_date=born(today, **age)), physician, today)
        for age in ({"months": 8}, {"years": 14})
    ]
    counts = [dose.vials[0]["count"] for dose in doses]
    assert counts[0] < counts[1]
    assert doses[0].vials[0]["presentation_id"] == doses[1].vials[0]["presentation_id"]
    from inventory.models import Presentation

    presentation = Presentation.objects.get(pk=doses[0].vials[0]["presentation_id"])
    fridge = StorageLocationFactory(ward=ward)
    receive(presentation, fridge, 1, lot_number="ONE-LEFT", expiry_days=30)
    receive(presentation, fridge, 9, lot_number="PLENTY", expiry_days=60)
    stock = selectors.lot_stock(on=today, doses=doses)
    preps = _preparations(doses, stock=stock, memo={})
    assert [_lot(p) for p in preps] == ["ONE-LEFT", "PLENTY"]


def test_a_suggestion_follows_the_stock_it_was_read_from(
    formulary, ward, physician, receive, today
):
    dose = _first_dose(
        PatientFactory(ward=ward, birth_date=born(today, months=8)), physician, today
    )
    from inventory.models import Presentation

    presentation = Presentation.objects.get(pk=dose.vials[0]["presentation_id"])
    receive(presentation, StorageLocationFactory(ward=ward), 5, lot_number="NEW")
    memo = {}
    # SuggestionStock replaces its list when it reads more: the memo answers for the new rows.
    assert _lot(_preparations([dose], stock=[], memo=memo)[0]) is None
    stock = selectors.lot_stock(on=today, doses=[dose])
    assert _lot(_preparations([dose], stock=stock, memo=memo)[0]) == "NEW"


@pytest.mark.parametrize("page", [False, True])
def test_one_memo_across_two_languages_writes_each_in_its_own(
    page, formulary, ward, physician, today
):
    dose = _first_dose(
        PatientFactory(ward=ward, birth_date=born(today, months=8)), physician, today
    )
    memo = {}
    with translation.override("en-gb"):
        english = _preparations([dose], stock=None, memo=memo, page=page)[0]
    with translation.override("uk"):
        ukrainian = _preparations([dose], stock=None, memo=memo, page=page)[0]
    with translation.override("uk"):
        alone = _preparations([dose], stock=None, memo={}, page=page)[0]
    assert ukrainian == alone
    for field in ("route_label", "diluent_label", "when", "rounding_rule"):
        assert english[field] != ukrainian[field], field
    assert english["steps"] != ukrainian["steps"]


def test_one_memo_for_a_page_and_the_api_keeps_their_decimal_separators(
    formulary, ward, physician, today
):
    # Betaleukin volumes under 10 ml have decimals: "0.93 ml" in the API, "0,93 мл" on a page.
    patient = PatientFactory(ward=ward, birth_date=dt.date(1970, 1, 1), weight_kg=D("71.3"))
    course = prescribe(
        patient,
        "betaleukin-leukopoiesis-toxic-sc",
        physician,
        today,
        phases=[{"dose": "17.5", "cycles": 1}],
    )
    dose = selectors.doses_visible(physician).get(pk=course.doses.order_by("sequence")[0].pk)
    memo = {}
    with translation.override("uk"):
        api = _preparations([dose], stock=None, memo=memo)[0]
        page = _preparations([dose], stock=None, memo=memo, page=True)[0]
    give = api["give_volume_ml"]
    assert "." in give and page["give_volume_ml"] == give  # the fields keep the point
    assert any(give in step for step in api["steps"])
    assert any(give.replace(".", ",") in step for step in page["steps"])
    assert not any(give in step for step in page["steps"])


def test_a_bound_renderer_writes_equal_numbers_as_they_are_written():
    # 1.0 and 1.00 are equal Decimals (one dict key) but a label keeps its own digits.
    with translation.override("uk"):
        render = preparation_text.PAGE.bound()
        assert render(Quantity(D("1.0"), "ml")) == "1,0 мл"
        assert render(Quantity(D("1.00"), "ml")) == "1,00 мл"
        assert render(Quantity(D("1"), "ml")) == "1 мл"


def test_a_bound_renderer_picks_each_counts_plural_form():
    vial = Mass(D(100), "mg")
    with translation.override("uk"):
        render = preparation_text.PAGE.bound()
        written = [render(Opened(1, "", vial, "vial", n).describe()) for n in (1, 3, 5)]
    # Ukrainian's three forms: флакон, флакони, флаконів (the words, not only the numbers).
    words = {text.replace(str(n), "", 1) for text, n in zip(written, (1, 3, 5), strict=True)}
    assert len(words) == 3, written


def test_a_bound_renderer_keeps_its_language_and_a_plain_one_follows_the_active():
    vial = Opened(1, "", Mass(D(100), "mg"), "vial", 1).describe()
    with translation.override("uk"):
        bound = preparation_text.API.bound()
        ukrainian = bound(vial)
    with translation.override("en-gb"):
        assert bound(vial) == ukrainian
        assert preparation_text.API(vial) == "1 × 100 mg vial" != ukrainian


def test_a_bound_renderer_declines_a_name_by_its_context():
    with translation.override("uk"):
        render = preparation_text.API.bound()
        alone, after_of = render(named("5% glucose")), render(named("5% glucose", after_of=True))
    assert (alone, after_of) == ("5% глюкоза", "5% розчину глюкози")
