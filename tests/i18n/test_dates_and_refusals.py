"""Dates on pages in the reader's language (never ISO), and the bedside and pharmacy refusals
in the reader's language: a Ukrainian nurse reads «вже введено», not "already given"."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from courses import selectors
from courses.services import dose_administer
from courses.services.course_status import course_hold
from courses.services.patients import patient_weight_record
from courses.services.preparation import dose_preparation_check, dose_prepared_record
from history import selectors as history_selectors
from tests.courses.helpers import seven_doses
from tests.i18n.page_text import visible_text

pytestmark = pytest.mark.django_db

UK = {"HTTP_ACCEPT_LANGUAGE": "uk-UA,uk;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}
UK_MONTHS = ["Січ", "Лют", "Бер", "Кві", "Тра", "Чер", "Лип", "Сер", "Вер", "Жов", "Лис", "Гру"]
ISO_DAY = re.compile(r"\b(19|20|21)\d\d-[01]\d-[0-3]\d\b")


HISTORY_TABLE = re.compile(r'<table class="[^"]*\bhistory\b.*?</table>', re.S)


def page_text(html: str) -> str:
    # The history table shows each change's stored values verbatim ("held_since: — →
    # 2026-12-01", "status: active → on_hold"): the audit record, not prose; its own "When"
    # column is checked on the history page's test below.
    return visible_text(HISTORY_TABLE.sub("", html))


@pytest.fixture
def dated(stocked, ward, formulary, physician, nurse, today):
    """A course with a given dose, its patient weighed with a dated blood count, and a second
    course held from today: every kind of date the course and patient pages show."""
    course = seven_doses("ceruloplasmin-postop", physician, ward, today)
    first = course.doses.order_by("sequence").first()
    dose_administer(dose=first, user=nurse, now=first.scheduled_at)
    patient = course.patient
    patient_weight_record(patient=patient, weight_kg=Decimal("71.5"), measured_on=today, user=nurse)
    type(patient).objects.filter(pk=patient.pk).update(
        wbc_10e9_per_l=Decimal("6.2"), wbc_measured_on=today
    )
    held = seven_doses("ceruloplasmin-postop", physician, ward, today)
    course_hold(course=held, user=physician, on=today, reason="Surgery moved")
    return course, held


def test_course_and_patient_pages_write_dates_in_the_readers_language(
    client, physician, dated, today
):
    course, held = dated
    client.force_login(physician)
    pages = [
        "/courses/",
        f"/courses/{course.pk}/",
        f"/courses/{held.pk}/",
        "/patients/",
        f"/patients/{course.patient.pk}/",
        "/",
    ]
    uk_day = f"{today:%d} {UK_MONTHS[today.month - 1]} {today:%Y}"
    for url in pages:
        for headers in (UK, EN):
            response = client.get(url, **headers)
            assert response.status_code == 200, url
            text = page_text(response.content.decode())
            found = ISO_DAY.search(text)
            assert found is None, (
                f"{url} shows an ISO date: …{text[found.start() - 60 : found.end() + 20]}…"
            )
    course_page = page_text(client.get(f"/courses/{course.pk}/", **UK).content.decode())
    assert uk_day in course_page  # "01 Гру 2026": the day and the Ukrainian month
    held_page = page_text(client.get(f"/courses/{held.pk}/", **EN).content.decode())
    assert f"since {today:%d %b %Y}" in held_page


def test_a_scanned_label_is_refused_in_the_readers_language(
    stocked, nurse, ward, formulary, physician, today
):
    course = seven_doses("ceruloplasmin-postop", physician, ward, today)
    dose = course.doses.order_by("sequence").first()
    dose_administer(dose=dose, user=nurse, now=dose.scheduled_at)
    for language, expected, absent in (
        ("uk", "вже введено", "already given"),
        ("en-gb", "already given", "вже введено"),
    ):
        with translation.override(language), pytest.raises(selectors.LabelRefused) as refusal:
            selectors.dose_for_label(nurse, selectors.LABEL_PREFIX + str(dose.pk))
        message = str(refusal.value)
        assert expected in message and absent not in message
        assert course.patient.mrn in message
    with translation.override("uk"), pytest.raises(selectors.LabelRefused) as refusal:
        selectors.dose_for_label(nurse, "not-a-label")
    assert "не етикетка дози" in str(refusal.value)


def test_the_pharmacy_check_refusals_are_in_the_readers_language(
    nurse_client, pharmacist, ward, formulary, physician, today
):
    from django.core.exceptions import ValidationError

    course = seven_doses("ceruloplasmin-postop", physician, ward, today)
    dose = course.doses.order_by("sequence").first()
    with translation.override("uk"), pytest.raises(ValidationError) as refusal:
        dose_preparation_check(dose=dose, user=pharmacist, now=timezone.now())
    assert refusal.value.message_dict["checked_by"] == [
        "Перед перевіркою запишіть, хто приготував дозу."
    ]
    dose_prepared_record(dose=dose, user=pharmacist, now=timezone.now())
    with translation.override("uk"), pytest.raises(ValidationError) as refusal:
        dose_preparation_check(dose=dose, user=pharmacist, now=timezone.now())
    assert refusal.value.message_dict["checked_by"] == [
        "Перевіряє друга особа, а не та, що приготувала дозу."
    ]


def test_the_audit_page_writes_when_in_the_readers_language(client, pharmacist, dated, today):
    if not history_selectors.enabled():
        pytest.skip("the history is recorded on PostgreSQL only (pghistory triggers)")
    client.force_login(pharmacist)
    html = client.get("/audit/", **UK).content.decode()
    whens = re.findall(r'<td data-label="Коли">([^<]+)</td>', html)
    assert whens, "the audit page lists the changes"
    stamp = re.compile(rf"^{today:%d} {UK_MONTHS[today.month - 1]} {today:%Y} \d\d:\d\d:\d\d$")
    assert all(stamp.match(when) for when in whens), whens[:3]


def test_a_refused_protocol_phase_names_its_field_in_ukrainian_in_the_admin(client, formulary):
    from django.contrib.auth import get_user_model
    from django.forms.models import model_to_dict

    from courses.models import Protocol, ProtocolPhase
    from tests.courses.test_admin import _protocol_form

    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "x"))
    protocol = Protocol.objects.get(code="ceruloplasmin-postop")
    phase = protocol.phases.get(order=1)
    before = model_to_dict(phase)
    response = client.post(
        f"/admin/courses/protocol/{protocol.pk}/change/",
        _protocol_form(protocol, dose_basis="fixed", count_max=9),
        **UK,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Правило дозування на кг потребує одиниці на кг; фіксована доза або доза за" in page
    assert "per-kg unit" not in page
    assert model_to_dict(ProtocolPhase.objects.get(pk=phase.pk)) == before


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("uk", "Доза на кг потребує одиниці на кг; фіксована або за віковою групою — мг."),
        ("en-gb", "A per-kg dose needs a per-kg unit; fixed or age-band: mg."),
    ],
)
def test_the_protocol_service_maps_a_phase_constraint_to_its_field_in_either_language(
    formulary, language, expected
):
    """The service finds the violated constraint by its own message in the active language
    (not by an English phrase), so a Ukrainian refusal still names the field."""
    from django.core.exceptions import ValidationError

    from courses.models import Protocol
    from courses.services import protocol_save

    protocol = Protocol.objects.get(code="ceruloplasmin-postop")
    with translation.override(language), pytest.raises(ValidationError) as refusal:
        protocol_save(protocol=protocol, fields={}, phases=[{"dose_basis": "fixed"}])
    assert refusal.value.message_dict == {"phases.0.dose_unit": [expected]}


def test_the_lot_page_names_an_excursions_state_in_the_readers_language(
    client, pharmacist, receive, cerulo, fridge
):
    from inventory.models import Lot
    from tests.inventory.test_alerts import ingest

    receive(cerulo, fridge, 3, lot_number="COLD-UK")
    ingest(fridge, 0, "9.5")
    ingest(fridge, 5, "5")  # back in range: the excursion is closed, not yet resolved
    lot = Lot.objects.get(lot_number="COLD-UK")
    client.force_login(pharmacist)
    ukrainian = client.get(f"/stock/lots/{lot.pk}/", **UK).content.decode()
    assert '<span class="badge excursion-closed">завершене</span>' in ukrainian
    english = client.get(f"/stock/lots/{lot.pk}/", **EN).content.decode()
    assert '<span class="badge excursion-closed">closed</span>' in english
