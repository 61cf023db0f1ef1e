"""The preparation in the reader's language (issue 15): English byte-identical to what the
module wrote before its sentences became messages (golden files of every protocol's example
doses and of `manage.py preparation_table`), and Ukrainian complete — no English word left in the
steps on Today, the course page, the label, or the API asked in Ukrainian."""

import datetime as dt
import gzip
import html
import json
import re
from decimal import Decimal as D
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from courses import formulary, preparation_text, services
from courses.dosing import vials_for
from courses.management.commands import preparation_table
from courses.models import Diluent
from courses.preparation import Opened, preparation_for
from courses.units import Mass
from inventory.models import Lot, StorageLocation
from tests.courses.helpers import prescribe
from tests.factories import PatientFactory

GOLDEN = Path(__file__).parent / "golden"
UK = {"HTTP_ACCEPT_LANGUAGE": "uk-UA,uk;q=0.9,en;q=0.5"}
LOT = {"lot_number": "L-0042", "expiry_date": "2027-01-31", "location": "Ward 3 fridge"}


def _every_example():
    """(key, Preparation) for every protocol's example dose (as preparation_table picks it), a
    third of it, with and without a suggested lot, with and without prescribed minutes, in each
    of the protocol's diluents and none — the grid the golden file was written from."""
    for protocol in formulary.PROTOCOLS:
        example = preparation_table.example(protocol)["mass"]
        strengths = preparation_table._strengths(protocol["product"])
        kinds = dict(strengths)
        for scale in ("1", "0.33"):
            dose = Mass(example.amount * D(scale), example.unit)
            plan = vials_for(dose, [s for s, _n in strengths])
            for lot in (None, LOT):
                for minutes in (protocol["infusion_minutes_min"], None):
                    for diluent in [*protocol["diluent_options"], ""]:
                        prep = preparation_for(
                            product=protocol["product"],
                            route=protocol["route"],
                            dose=dose,
                            containers=[
                                Opened(s.key, s.label, s.strength, kinds[s], n, lot)
                                for s, n in plan.containers
                            ],
                            diluent=preparation_text.english_name(Diluent(diluent).label)
                            if diluent
                            else "",
                            diluent_volume_ml=D(protocol["diluent_volume_ml"]),
                            drip_rate_drops_per_min=protocol["drip_rate_drops_per_min"],
                            infusion_minutes=minutes,
                            infusion_minutes_range=(
                                protocol["infusion_minutes_min"],
                                protocol["infusion_minutes_max"],
                            ),
                        )
                        key = f"{protocol['code']}|{scale}|{'lot' if lot else '-'}|{minutes}|{diluent}"
                        yield key, prep


def test_english_is_byte_identical_to_the_strings_the_module_wrote_before():
    with gzip.open(GOLDEN / "preparation_english.json.gz", "rt", encoding="utf-8") as f:
        golden = json.load(f)
    written = dict(_every_example())
    assert set(golden) <= set(written)
    for key, expected in golden.items():
        assert written[key].as_dict() == expected, key
        # The API's renderer in English writes the same bytes as the module's own.
        with translation.override("en-gb"):
            assert written[key].as_dict(preparation_text.API) == expected, key


def test_preparation_table_in_english_is_unchanged():
    out = StringIO()
    with translation.override("en-gb"):
        call_command("preparation_table", stdout=out)
    assert out.getvalue() == (GOLDEN / "preparation_table.md").read_text(encoding="utf-8")


# Latin-script words allowed in Ukrainian text: data (lot numbers, places) and a file name.
_DATA = re.compile(r"L-0042|Ward 3 fridge|design\.md")


def _english_words(text: str, data: tuple[str, ...] = ()) -> list[str]:
    for value in data:
        text = text.replace(value, " ")
    return re.findall(r"[A-Za-z]{2,}", _DATA.sub(" ", text))


def _texts(data: dict) -> list[str]:
    return [
        *data["steps"],
        *data["silent"],
        data["when"],
        data["rounding_note"],
        data["rounding_rule"],
        data["concentration"]["label"],
        data["dose_delivered"]["label"],
        *(c["text"] for c in data["containers"]),
        *(c["solvent"] for c in data["containers"]),
    ]


def test_ukrainian_is_complete_for_every_example_with_the_decimal_comma_on_pages():
    with translation.override("uk"):
        for key, prep in _every_example():
            page, api = prep.as_dict(preparation_text.PAGE), prep.as_dict(preparation_text.API)
            for text in _texts(page) + _texts(api):
                assert _english_words(text) == [], (key, text)
            # Numbers: the comma on pages, the point in the API, the same digits; the suggested
            # lot's expiry as Ukrainian writes dates on pages, ISO in the API.
            assert not re.search(r"\d\.\d", " ".join(_texts(page).__iter__())), key
            assert [
                t.replace("31 січня 2027 р.", "2027-01-31").replace(",", ".") for t in _texts(page)
            ] == [t.replace(",", ".") for t in _texts(api)], key
            assert all("31 січня 2027 р." not in t for t in _texts(api)), key


def test_ukrainian_plurals_follow_the_number():
    vial = Mass(D(100), "mg")
    with translation.override("uk"):
        forms = [
            preparation_text.PAGE(Opened(1, "", vial, "vial", n).describe()) for n in (1, 3, 5, 21)
        ]
        ampoules = [
            preparation_text.PAGE(Opened(1, "", Mass(D("0.5"), "ug"), "ampoule", n).describe())
            for n in (1, 2, 11)
        ]
    assert forms == [
        "1 флакон по 100 мг",
        "3 флакони по 100 мг",
        "5 флаконів по 100 мг",
        "21 флакон по 100 мг",
    ]
    assert ampoules == ["1 ампула по 0,5 мкг", "2 ампули по 0,5 мкг", "11 ампул по 0,5 мкг"]


# --- Pages and the API -------------------------------------------------------------------------


def _dose_max(code: str) -> str:
    return next(p for p in formulary.PROTOCOLS if p["code"] == code)["phases"][0]["dose_max"]


def _dose_max(code: str) -> str:
    return next(p for p in formulary.PROTOCOLS if p["code"] == code)["phases"][0]["dose_max"]


def _courses(ward, physician, today):
    """A ceruloplasmin drip, a Betaleukin sc and a Betaleukin iv course, first doses due now."""
    now = timezone.localtime()
    at = dt.time(now.hour, now.minute)
    adult = PatientFactory(ward=ward, birth_date=today.replace(year=today.year - 40))
    services.patient_weight_record(
        patient=adult, weight_kg=D(70), measured_on=today, user=physician
    )
    infant = PatientFactory(ward=ward, birth_date=today - dt.timedelta(days=8 * 31))
    return [
        prescribe(
            infant,
            "ceruloplasmin-child-purulent-surgical",
            physician,
            today,
            administration_time=at,
            phases=[{"count": 7}],
        ),
        *(
            prescribe(
                adult,
                code,
                physician,
                today,
                administration_time=at,
                phases=[{"dose": _dose_max(code), "cycles": 1}],
            )
            for code in ("betaleukin-leukopoiesis-toxic-sc", "betaleukin-immunodeficiency-iv")
        ),
    ]


def _data_words() -> tuple[str, ...]:
    return (
        *Lot.objects.values_list("lot_number", flat=True),
        *StorageLocation.objects.values_list("name", flat=True),
    )


def _prep_blocks(page: str) -> list[str]:
    """The text of every "How to prepare" block on a page (steps, when, silent)."""
    blocks = re.findall(r'<details class="prep-steps">(.*?)</details>', page, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", " ", b.split('<p class="muted">')[0])) for b in blocks]


@pytest.mark.django_db
def test_today_and_course_page_prepare_in_ukrainian(
    client, nurse, ward, formulary, physician, today, stocked
):
    courses = _courses(ward, physician, today)
    client.force_login(nurse)
    pages = [client.get("/", **UK).content.decode()]
    pages += [client.get(f"/courses/{c.pk}/", **UK).content.decode() for c in courses]
    data = _data_words()
    for page in pages:
        assert '<html lang="uk"' in page
        blocks = _prep_blocks(page)
        assert blocks
        for block in blocks:
            assert "Розчиніть" in block or "розчиніть" in block
            assert _english_words(block, data) == [], block
    today_page = pages[0]
    assert "1 флакон по 100 мг" in today_page and "Рекомендовано: серія" in today_page
    assert "ампул" in today_page and re.search(r"\d,\d+ мл", today_page)
    # In English the same page still says what it said.
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 × 100 mg vial" in english and "Suggested: lot" in english


@pytest.mark.django_db
def test_label_prepares_in_ukrainian(client, nurse, ward, formulary, physician, today, stocked):
    courses = _courses(ward, physician, today)
    client.force_login(nurse)
    data = _data_words()
    for course in courses:
        dose = course.doses.order_by("sequence").first()
        for fmt in ("", "?format=a4"):
            page = client.get(f"/doses/{dose.pk}/label/{fmt}", **UK).content.decode()
            items = re.findall(r'<ul class="containers">(.*?)</ul>', page, re.S) or re.findall(
                r"<li>(.*?)</li>", page, re.S
            )
            text = html.unescape(re.sub(r"<[^>]+>", " ", " ".join(items)))
            assert "по " in text, text  # "1 флакон по 100 мг", "2 ампули по 0,5 мкг"
            assert not re.search(r"\b(vial|ampoule)s?\b", text), text
            when = re.search(r'<div class="when">(.*?)</div>', page, re.S).group(1)
            assert _english_words(html.unescape(when), data) == [], when
            # Volumes the label takes from the preparation's data: the page's decimal comma.
            body = re.search(r'<div class="body">(.*?)<div class="when">', page, re.S).group(1)
            assert not re.search(r"\d\.\d+ ?мл", html.unescape(body)), body
            assert f"Етикетка: доза {dose.sequence}" in page


@pytest.mark.django_db
def test_api_prepares_in_the_requested_language_with_the_point(
    nurse_client, ward, formulary, physician, today, stocked
):
    ward.members.add(nurse_client.user)
    courses = _courses(ward, physician, today)
    data = _data_words()
    for course in courses:
        dose = course.doses.order_by("sequence").first()
        uk = nurse_client.get(f"/api/v1/doses/{dose.pk}/", **UK).json()["preparation"]
        en = nurse_client.get(f"/api/v1/doses/{dose.pk}/").json()["preparation"]
        # Same shape and numbers; only the text changes language.
        assert uk.keys() == en.keys()
        for field in ("give_volume_ml", "discard_volume_ml", "final_volume_ml", "concentration"):
            if field == "concentration":
                assert (uk[field]["value"], uk[field]["unit"]) == (
                    en[field]["value"],
                    en[field]["unit"],
                )
            else:
                assert uk[field] == en[field]
        for text in _texts(uk):
            assert _english_words(text, data) == [], text
        computed = [*uk["steps"], uk["concentration"]["label"], uk["dose_delivered"]["label"]]
        for text in computed + [c["text"] for c in uk["containers"]]:
            # Never the comma in the API's figures ("0,9%" is the solution's Ukrainian name).
            assert not re.search(r"\d,\d", text.replace("0,9%", "")), text
        assert uk["steps"] != en["steps"] and en["steps"][0].startswith("Take ")
        assert uk["source"] == en["source"]  # the leaflet's own words stay in English
