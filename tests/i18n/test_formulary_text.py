"""The formulary's own words (preparation notes, dose units) on the prescribe page in the
reader's language; the stored rows and the API keep the English text and the unit codes."""

import pytest

from courses.models import Protocol

pytestmark = pytest.mark.django_db

UK = {"HTTP_ACCEPT_LANGUAGE": "uk-UA,uk;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}
PROTOCOL = "betaleukin-leukopoiesis-toxic-iv"


def test_the_prescribe_page_reads_the_preparation_note_and_dose_unit_in_ukrainian(
    client, physician, formulary
):
    client.force_login(physician)
    ukrainian = client.get("/courses/new/", {"protocol": PROTOCOL}, **UK).content.decode()
    assert "Безпосередньо перед застосуванням розчиніть вміст ампули (флакона) в 1 мл" in ukrainian
    assert "Immediately before use" not in ukrainian
    assert "15–20 нг/кг" in ukrainian and "Доза (нг/кг)" in ukrainian
    assert "ng/kg" not in ukrainian

    english = client.get("/courses/new/", {"protocol": PROTOCOL}, **EN).content.decode()
    assert "Immediately before use dissolve the ampoule (vial) in 1 ml" in english
    assert "15–20 ng/kg" in english and "Dose (ng/kg)" in english


def test_the_stored_note_and_the_api_stay_english(physician_client, formulary):
    protocol = Protocol.objects.get(code=PROTOCOL)
    assert protocol.preparation_note.startswith("Immediately before use")
    body = physician_client.get(f"/api/v1/protocols/{protocol.pk}/", **UK).json()
    assert body["preparation_note"] == protocol.preparation_note
    assert body["phases"][0]["dose_unit"] == "ng/kg"


def test_a_protocols_indication_is_read_in_ukrainian_where_it_is_shown(
    client, physician, ward, formulary, today
):
    from tests.courses.helpers import seven_doses

    course = seven_doses("ceruloplasmin-postop", physician, ward, today)
    client.force_login(physician)
    english = Protocol.objects.get(code="ceruloplasmin-postop").indication
    ukrainian = "Ранній післяопераційний період (крововтрата, гнійно-септичні ускладнення)"
    for url in ("/courses/", f"/courses/{course.pk}/", f"/patients/{course.patient.pk}/"):
        page = client.get(url, **UK).content.decode()
        assert ukrainian in page and english not in page, url
        assert english in client.get(url, **EN).content.decode(), url
    form = client.get("/courses/new/", **UK).content.decode()
    assert "Токсична лейкопенія 2–4 ступеня" in form and "Toxic leukopenia" not in form
