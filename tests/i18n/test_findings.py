"""Label-check findings (hard stops, warnings) in the reader's language: each is stored with its
English message, its msgid and parameters, and said in Ukrainian to a Ukrainian reader on the
prescribe page after Check, on the course page and in the API; the leaflet's own words (section
headings, quotations) stay English, marked lang="en"; old rows keep their stored English."""

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.utils import translation

from courses.findings import Finding, finding_text
from courses.models import Course
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

UK = {"HTTP_ACCEPT_LANGUAGE": "uk"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-GB"}
# Proper names stay as they are in any language.
PROPER_NAMES = {"Biocerulin", "Betaleukin", "Ceruloplasmin"}
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


class _FindingItems(HTMLParser):
    """The text of each <li> inside a `verdict` block, without elements marked lang="en" (the
    leaflet's own words)."""

    def __init__(self):
        super().__init__()
        self.items: list[str] = []
        self._stack: list[tuple[str, bool, bool]] = []  # (tag, in verdict, english)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        parent_verdict, parent_english = self._stack[-1][1:] if self._stack else (False, False)
        verdict = parent_verdict or "verdict" in (attrs.get("class") or "").split()
        english = parent_english or attrs.get("lang") == "en"
        if tag == "li" and verdict:
            self.items.append("")
        self._stack.append((tag, verdict, english))

    def handle_endtag(self, tag):
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        top = self._stack[-1] if self._stack else ("", False, True)
        if top[1] and not top[2] and self.items and any(t == "li" for t, _, _ in self._stack):
            self.items[-1] += data


def finding_items(html: str) -> list[str]:
    parser = _FindingItems()
    parser.feed(html)
    return [item.strip() for item in parser.items]


def english_words(text: str) -> set[str]:
    return set(LATIN_WORD.findall(text)) - PROPER_NAMES


def _patients(ward, today):
    """A Betaleukin patient and a Biocerulin one, each with many of their label's findings."""
    betaleukin = PatientFactory(
        ward=ward,
        pregnant=True,
        pregnancy_trimester=2,
        septic_shock=True,
        severe_fever=True,
        protein_drug_allergy=True,
        wbc_10e9_per_l=Decimal("2.5"),
        wbc_measured_on=today,
    )
    biocerulin = PatientFactory(
        ward=ward,
        lactating=True,
        sodium_controlled_diet=True,
        high_dose_corticosteroids=True,
    )
    return betaleukin, biocerulin


def _betaleukin_form(patient, today, **extra):
    return {
        "patient": patient.pk,
        "protocol": "betaleukin-leukopoiesis-support-iv",
        "start_date": today.isoformat(),
        "administration_time": "09:30",
        "phase0_cycles": "2",
        "phase0_dose": "50",  # above the label's range: a dose_range stop with its unit
        "action": "check",
        **extra,
    }


def _biocerulin_form(patient, today, **extra):
    return {
        "patient": patient.pk,
        "protocol": "biocerulin-general",
        "start_date": today.isoformat(),
        "administration_time": "10:00",
        "phase0_pattern": "0",
        "phase0_dose": "80",
        "phase0_count": "11",  # more injections than the label's
        "diluent": "glucose_5",
        "action": "check",
        **extra,
    }


def _assert_no_english(items: list[str], expected_at_least: int):
    assert len(items) >= expected_at_least, items
    for item in items:
        assert not english_words(item), item


def test_a_ukrainian_reader_sees_no_english_in_the_checks_after_check(
    client, physician, formulary, ward, today
):
    betaleukin, biocerulin = _patients(ward, today)
    client.force_login(physician)
    pages = [
        client.post("/courses/new/", _betaleukin_form(betaleukin, today), **UK),
        client.post("/courses/new/", _biocerulin_form(biocerulin, today), **UK),
    ]
    items = []
    for page in pages:
        assert page.status_code == 200
        items += finding_items(page.content.decode())
    _assert_no_english(items, 10)
    text = " ".join(items)
    assert "протипоказаний при септичному шоку" in text
    assert "препарати білкового походження" in text  # a parameter that is words, translated
    assert "2,5×10⁹/л" in text  # a decimal comma on the page
    assert "нг/кг" in text and "Інструкція" in text
    assert not Course.objects.exists()
    english = client.post("/courses/new/", _betaleukin_form(betaleukin, today), **EN)
    assert "Betaleukin is contraindicated in septic shock." in english.content.decode()


def test_the_course_page_and_the_api_speak_the_readers_language(
    client, physician, physician_client, formulary, ward, today
):
    betaleukin, _ = _patients(ward, today)
    client.force_login(physician)
    saved = client.post(
        "/courses/new/",
        _betaleukin_form(betaleukin, today, action="save", override_reason="MDT agreed"),
        **UK,
    )
    assert saved.status_code == 302
    course = Course.objects.get()
    # Stored in English, with what is needed to say it again in another language.
    stop = next(s for s in course.hard_stops if s["code"] == "septic_shock")
    assert stop["message"] == "Betaleukin is contraindicated in septic shock."
    assert stop["template"] == "%(product)s is contraindicated in septic shock."

    page = client.get(f"/courses/{course.pk}/", **UK).content.decode()
    _assert_no_english(finding_items(page), len(course.hard_stops) + len(course.warnings))
    assert (
        "Betaleukin is contraindicated"
        in client.get(f"/courses/{course.pk}/", **EN).content.decode()
    )

    body = physician_client.get(f"/api/v1/courses/{course.pk}/", **UK).json()
    messages = [f["message"] for f in body["hard_stops"] + body["warnings"]]
    assert len(messages) == len(course.hard_stops) + len(course.warnings)
    for message in messages:
        assert not english_words(message), message
    assert {"code", "message", "source"} == set(body["hard_stops"][0])
    assert "2.5×10⁹/л" in " ".join(messages)  # never a decimal comma in the API
    english = physician_client.get(f"/api/v1/courses/{course.pk}/", **EN).json()
    assert [f["message"] for f in english["hard_stops"]] == [
        s["message"] for s in course.hard_stops
    ]


def test_the_apis_refusal_lists_the_hard_stops_in_the_requests_language(
    physician_client, formulary, ward, today
):
    betaleukin, _ = _patients(ward, today)
    body = {
        "patient": betaleukin.pk,
        "protocol": "betaleukin-leukopoiesis-support-iv",
        "phases": [{"dose": "5", "cycles": 2}],
    }
    refused = physician_client.post("/api/v1/courses/", body, format="json", **UK)
    assert refused.status_code == 400
    error = refused.json()["error"]
    stops = error["fields"]["hard_stops"]
    assert stops and all(s.startswith("[") for s in stops)
    for stop in stops:
        # "[code] message (source)": the code is an identifier, the source a file citation.
        message = stop.split("] ", 1)[1].split(" (002_")[0]
        assert not english_words(message), stop
    english = physician_client.post("/api/v1/courses/", body, format="json", **EN).json()
    assert "[septic_shock] Betaleukin is contraindicated in septic shock. (" in " ".join(
        english["error"]["fields"]["hard_stops"]
    )


def test_an_old_row_without_a_template_is_shown_as_stored():
    old = {"code": "age", "message": "Stored long ago.", "source": "x"}
    with translation.override("uk"):
        assert finding_text(old) == "Stored long ago."


def test_a_finding_is_its_english_message_and_translates_its_word_parameters():
    finding = Finding.of(
        "pregnancy",
        "%(product)s is not to be given in pregnancy (trimester %(trimester)s).",
        "src",
        product="Biocerulin",
        trimester=2,
    )
    assert finding.message == "Biocerulin is not to be given in pregnancy (trimester 2)."
    with translation.override("uk"):
        assert finding_text(finding.as_dict()) == (
            "Biocerulin не застосовують під час вагітності (триместр 2)."
        )
