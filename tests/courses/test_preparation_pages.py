"""Preparation where the ward sees it: the API fields, Today, labels, the bedside scan, the
second check, the lot suggestion, the leaflet citations and the Betaleukin µg correction."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from courses import services
from courses.models import Course, Dose, DoseStatus
from inventory.models import Lot, Presentation, StockMovement
from tests.courses.helpers import prescribe
from tests.factories import PatientFactory, StorageLocationFactory

pytestmark = pytest.mark.django_db


def _now_course(patient, physician, today, code="ceruloplasmin-child-purulent-surgical", **kw):
    """A course whose first dose is due now (so it can be recorded without a reason)."""
    now = timezone.localtime()
    kw.setdefault("phases", [{"count": 7}])
    return prescribe(
        patient, code, physician, today, administration_time=dt.time(now.hour, now.minute), **kw
    )


def _infant(ward, today, **kw):
    # 8 months: the 6–12 months band, 50 mg (leaflet 001 "In the treatment of children").
    return PatientFactory(ward=ward, birth_date=today - dt.timedelta(days=8 * 31), **kw)


def _first(course) -> Dose:
    return course.doses.order_by("sequence").first()


# --- API -------------------------------------------------------------------------------------


def test_api_dose_has_the_stable_preparation_fields_and_waste_unit(
    nurse_client, ward, formulary, physician, today
):
    ward.members.add(nurse_client.user)
    course = _now_course(_infant(ward, today), physician, today)
    body = nurse_client.get(f"/api/v1/doses/{_first(course).pk}/").json()
    prep = body["preparation"]
    assert [c["text"] for c in prep["containers"]] == ["1 × 100 mg vial"]
    assert prep["final_volume_ml"] == "200"
    assert prep["concentration"]["value"] == "0.5" and prep["concentration"]["unit"] == "mg/ml"
    # The infant's 50 mg is 100 ml of the 200 ml (leaflet 001: "50 mg (or 100 ml …)").
    assert (prep["give_volume_ml"], prep["discard_volume_ml"]) == ("100", "100")
    assert prep["steps"] and prep["source"]["title"].startswith("Ceruloplasmin leaflet")
    assert (body["waste_amount"], body["waste_unit"], body["waste_label"]) == (
        "50.000000",
        "mg",
        "50 mg",
    )
    assert body["released"] is True and body["prepared_by"] is None


def _list_queries(client, today) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/api/v1/doses/?from={today}&to={today + dt.timedelta(days=9)}")
    assert response.status_code == 200
    return len(queries)


def test_doses_list_queries_stay_flat_as_doses_grow(
    viewer_client, ward, formulary, physician, today, stocked
):
    _now_course(_infant(ward, today), physician, today)
    _list_queries(viewer_client, today)  # the client's user caches its roles on first use
    one_course = _list_queries(viewer_client, today)
    for _ in range(4):
        _now_course(_infant(ward, today), physician, today)
    assert Dose.objects.count() == 35
    assert _list_queries(viewer_client, today) == one_course


def test_a_list_builds_each_distinct_preparation_once_and_keeps_each_wards_lot(
    pharmacist_client, ward, formulary, physician, today, receive, monkeypatch
):
    """Doses with the same inputs share one preparation in a response (issue 14: the doses list
    spends its time there); a dose whose ward has its own fridge still gets its own lot."""
    from courses import preparation
    from tests.factories import WardFactory

    vial = Presentation.objects.get(code="ceruloplasmin-100mg-vial-5")
    other = WardFactory(code="ward-5b", name="Ward 5B")
    receive(vial, StorageLocationFactory(code="a-fridge", ward=ward), 9, lot_number="AONE")
    receive(vial, StorageLocationFactory(code="b-fridge", ward=other), 9, lot_number="BONE")
    for patient_ward in (ward, ward, other):  # three infants: 50 mg each, one vial each
        _now_course(_infant(patient_ward, today), physician, today)
    built = []
    real = preparation.preparation_for
    monkeypatch.setattr(preparation, "preparation_for", lambda **kw: built.append(kw) or real(**kw))
    rows = pharmacist_client.get(f"/api/v1/doses/?from={today}&to={today + dt.timedelta(days=1)}")
    rows = rows.json()["results"]
    assert len(rows) == 6  # two days of three daily courses
    lots = {
        (row["patient"]["ward"], row["preparation"]["containers"][0]["suggested_lot"]["lot_number"])
        for row in rows
    }
    assert lots == {(ward.code, "AONE"), (other.code, "BONE")}
    assert {row["preparation"]["give_volume_ml"] for row in rows} == {"100"}
    assert len(built) == 2  # one per ward's lot, not one per dose


# --- The lot suggestion (issue 11, item 5) -----------------------------------------------------


def test_suggestion_prefers_the_wards_own_fridge_and_says_where_the_vial_is(
    client, nurse, ward, formulary, physician, today, receive
):
    vial = Presentation.objects.get(code="ceruloplasmin-100mg-vial-5")
    pharmacy = StorageLocationFactory(code="pharmacy-main", name="Pharmacy fridge 1")
    ward_fridge = StorageLocationFactory(code="ward-3a-fridge", name="Ward 3A fridge", ward=ward)
    receive(vial, pharmacy, 10, lot_number="EARLY", expiry_days=30)  # first to expire
    receive(vial, ward_fridge, 2, lot_number="ONWARD", expiry_days=200)
    _now_course(_infant(ward, today), physician, today)
    client.force_login(nurse)
    page = client.get("/").content.decode()
    assert "Suggested: lot ONWARD (expires" in page and "in Ward 3A fridge" in page
    # The scan list offers the lots in this ward's own fridges only (issue 14): not the
    # pharmacy's, however early they expire.
    assert "EARLY" not in page and '<option value="ONWARD">' in page
    assert 'value="" placeholder="Scan the vial you take"' in page  # never typed in for her


def test_without_enough_on_the_ward_the_suggestion_says_it_is_elsewhere(
    client, nurse, ward, formulary, physician, today, receive
):
    vial = Presentation.objects.get(code="ceruloplasmin-100mg-vial-5")
    pharmacy = StorageLocationFactory(code="pharmacy-main", name="Pharmacy fridge 1")
    receive(vial, pharmacy, 10, lot_number="MAIN", expiry_days=30)
    _now_course(_infant(ward, today), physician, today)
    client.force_login(nurse)
    page = client.get("/").content.decode()
    assert "in Pharmacy fridge 1 — not in this ward's fridge" in page


def test_a_suggested_lot_is_not_recorded_unless_scanned(
    client, nurse, ward, formulary, physician, today, stocked
):
    dose = _first(_now_course(_infant(ward, today), physician, today))
    client.force_login(nurse)
    client.post("/", {"dose": dose.pk, "action": "given", "lot_number": "", "reason": ""})
    dose.refresh_from_db()
    assert dose.status == DoseStatus.GIVEN
    assert (dose.lot_id, dose.lot_number) == (None, "")  # nothing scanned: none recorded
    assert dose.dispensed  # stock still leaves first-expiry-first-out


# --- Labels and the bedside scan ---------------------------------------------------------------


def test_label_page_prints_what_the_nurse_needs(client, nurse, ward, formulary, physician, today):
    patient = _infant(ward, today, name="Baby Ada", mrn="M-77")
    dose = _first(_now_course(patient, physician, today))
    client.force_login(nurse)
    page = client.get(f"/doses/{dose.pk}/label/").content.decode()
    for text in (
        "Baby Ada",
        "MRN M-77",
        "Ward 3A",
        "Ceruloplasmin 50 mg",
        "1 × 100 mg vial",
        "In 200 ml",
        "Give 100 ml of 200 ml at 30 drops/min",
        "discard 100 ml",
        "Prepare just before the infusion (Ceruloplasmin leaflet",
        "Prepared by:",
        "Checked by:",
        f"dose:{dose.pk}",
        "@page { size: 100mm 70mm",
    ):
        assert text in page, text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page or "<svg" in page
    a4 = client.get(f"/doses/{dose.pk}/label/?format=a4").content.decode()
    assert "@page { size: A4" in a4


def test_batch_labels_are_the_wards_scheduled_doses_of_the_day(
    client, nurse, ward, other_ward, formulary, physician, today
):
    mine = [_now_course(_infant(ward, today), physician, today) for _ in range(2)]
    _now_course(_infant(other_ward, today), physician, today)
    client.force_login(nurse)
    page = client.get(f"/labels/?date={today}&ward=ward-3a").content.decode()
    assert page.count('class="label"') == 2
    assert all(f'id="label-{_first(c).pk}"' in page for c in mine)


def _scan(client, text, **params):
    return client.get("/", {"scan": text, **params})


def test_scanning_a_label_opens_its_dose_for_recording(
    client, nurse, ward, formulary, physician, today
):
    dose = _first(_now_course(_infant(ward, today), physician, today))
    client.force_login(nurse)
    response = _scan(client, f"dose:{dose.pk}")
    assert response.status_code == 302
    assert f"open={dose.pk}" in response["Location"]
    assert response["Location"].endswith(f"#dose-{dose.pk}")
    page = client.get(response["Location"]).content.decode()
    assert "Label scanned: dose 1" in page
    assert 'class="dose-row row-due opened"' in page


@pytest.mark.parametrize("case", ["other_ward", "given", "cancelled", "other_patient", "garbage"])
def test_a_label_that_must_not_be_given_is_refused(
    case, client, nurse, ward, other_ward, formulary, physician, today, stocked
):
    course = _now_course(_infant(ward, today), physician, today)
    dose = _first(course)
    params = {}
    text = f"dose:{dose.pk}"
    if case == "other_ward":
        text = f"dose:{_first(_now_course(_infant(other_ward, today), physician, today)).pk}"
        expected = "not one of your wards"
    elif case == "given":
        services.dose_administer(dose=dose, user=nurse, now=timezone.now())
        expected = "was already given"
    elif case == "cancelled":
        services.course_cancel(course=course, user=physician, reason="Stopped")
        expected = "was cancelled"
    elif case == "other_patient":
        other = _first(_now_course(_infant(ward, today), physician, today))
        params = {"open": other.pk}
        expected = "is for another patient"
    else:
        text = "LOT-12345"
        expected = "is not a dose label"
    client.force_login(nurse)
    response = _scan(client, text, **params)
    assert response.status_code == 302 and "open=" + str(dose.pk) not in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "Label refused:" in page and expected in page


# --- Prepared by / checked by -----------------------------------------------------------------


def test_the_check_is_by_a_second_person(ward, formulary, physician, pharmacist, nurse, today):
    dose = _first(_now_course(_infant(ward, today), physician, today))
    now = timezone.now()
    with pytest.raises(ValidationError) as first:
        services.dose_preparation_check(dose=dose, user=nurse, now=now)  # nothing prepared yet
    assert "checked_by" in first.value.message_dict
    services.dose_prepared_record(dose=dose, user=pharmacist, now=now)
    with pytest.raises(ValidationError) as same:
        services.dose_preparation_check(dose=dose, user=pharmacist, now=now)
    assert "second person" in str(same.value)
    checked = services.dose_preparation_check(dose=dose, user=nurse, now=now)
    assert (checked.prepared_by, checked.checked_by) == (pharmacist, nurse)


@override_settings(PREPARATION_DOUBLE_CHECK_REQUIRED=True)
def test_a_pharmacy_prepared_dose_is_released_only_after_its_check(
    pharmacist_client, nurse_client, ward, formulary, physician, today, stocked
):
    ward.members.add(nurse_client.user)
    dose = _first(_now_course(_infant(ward, today), physician, today))
    prepared = pharmacist_client.post(f"/api/v1/doses/{dose.pk}/prepared/")
    assert prepared.status_code == 200 and prepared.json()["released"] is False
    refused = nurse_client.post(f"/api/v1/doses/{dose.pk}/administer/", {}, format="json")
    assert refused.status_code == 400
    assert "checked_by" in refused.json()["error"]["fields"]
    same = pharmacist_client.post(f"/api/v1/doses/{dose.pk}/check/")
    assert same.status_code == 400 and "second person" in str(same.json())
    checked = nurse_client.post(f"/api/v1/doses/{dose.pk}/check/")
    assert checked.status_code == 200 and checked.json()["released"] is True
    given = nurse_client.post(f"/api/v1/doses/{dose.pk}/administer/", {}, format="json")
    assert given.status_code == 200, given.content


@override_settings(PREPARATION_DOUBLE_CHECK_REQUIRED=True)
def test_a_ward_prepared_dose_is_not_held_back(ward, formulary, physician, nurse, today, stocked):
    dose = _first(_now_course(_infant(ward, today), physician, today))
    services.dose_prepared_record(dose=dose, user=nurse, now=timezone.now())
    given = services.dose_administer(dose=dose, user=nurse, now=timezone.now())
    assert given.status == DoseStatus.GIVEN


# --- Clinician-facing text (issue 11, item 4) ---------------------------------------------------


def test_course_and_prescribe_pages_cite_the_leaflet_not_its_file(
    client, ward, formulary, physician, today
):
    course = _now_course(_infant(ward, today), physician, today)
    client.force_login(physician)
    pages = [
        client.get(f"/courses/{course.pk}/").content.decode(),
        client.get(
            f"/courses/new/?patient={course.patient.pk}&protocol={course.protocol.code}"
        ).content.decode(),
    ]
    for page in pages:
        assert ".txt" not in page
        assert "Ceruloplasmin leaflet — Dosing and administration" in page
        assert 'href="/leaflets/ceruloplasmin/#:~:text=' in page
        assert course.protocol.reading_note[:40] not in page
    leaflet = client.get("/leaflets/ceruloplasmin/").content.decode()
    assert "50 mg (or 100 ml of injection solution)" in leaflet


def test_formulary_page_gives_pharmacists_the_reading_notes(client, formulary, pharmacist, nurse):
    client.force_login(pharmacist)
    page = client.get("/formulary/").content.decode()
    assert "Read as 0.05 µg, 0.5 µg and 1 µg per ampoule" in page
    assert "2.4 degree" in page  # a protocol's reading note
    client.force_login(nurse)
    assert client.get("/formulary/").status_code == 403


def test_betaleukin_dose_and_waste_read_in_one_unit(client, ward, formulary, physician, today):
    # 17.5 ng/kg × 70 kg = 1.225 µg from 1 µg + 0.5 µg: 0.275 µg waste, both in µg.
    patient = PatientFactory(ward=ward, birth_date=today.replace(year=today.year - 40))
    services.patient_weight_record(
        patient=patient, weight_kg=D(70), measured_on=today, user=physician
    )
    course = _now_course(
        patient,
        physician,
        today,
        code="betaleukin-leukopoiesis-toxic-sc",
        phases=[{"dose": "17.5", "cycles": 1}],
    )
    client.force_login(physician)
    page = client.get(f"/courses/{course.pk}/").content.decode()
    assert "1.23 µg" in page and "1.225" not in page
    assert "(0.28 µg waste)" in page and "275 ng" not in page


# --- The Betaleukin µg correction on an existing database (issue 11, item 1) --------------------


def test_loading_renames_mg_presentations_in_place_and_re_plans_scheduled_doses(
    ward, formulary, physician, pharmacist, today, receive
):
    from courses.services import formulary_load
    from courses.services.reservations import doses_reserve

    # The database as the mg reading left it: codes, units, pack of one, and a planned dose.
    one = Presentation.objects.get(code="betaleukin-1ug-ampoule-5")
    Presentation.objects.filter(code="betaleukin-1ug-ampoule-5").update(
        code="betaleukin-1mg-ampoule", strength_unit="mg", pack_size=1
    )
    Presentation.objects.filter(code="betaleukin-0-05ug-ampoule-5").update(
        code="betaleukin-0.05mg-ampoule", strength_unit="mg", pack_size=1
    )
    Presentation.objects.filter(code="betaleukin-0-5ug-ampoule-5").update(
        code="betaleukin-0.5mg-ampoule", strength_unit="mg", pack_size=1
    )
    fridge = StorageLocationFactory(code="pharmacy-1", max_c=D(8))
    small = Presentation.objects.get(code="betaleukin-0.05mg-ampoule")
    lot = receive(small, fridge, 20, lot_number="BL-OLD")
    patient = PatientFactory(ward=ward, birth_date=today.replace(year=today.year - 40))
    services.patient_weight_record(
        patient=patient, weight_kg=D(70), measured_on=today, user=physician
    )
    course = prescribe(
        patient,
        "betaleukin-leukopoiesis-toxic-iv",
        physician,
        today,
        phases=[{"dose": "15", "cycles": 1}],
    )
    dose = _first(course)
    assert [line["count"] for line in dose.vials] == [1]  # one "0.05 mg" ampoule for 1.05 µg
    assert doses_reserve(start=today, end=today) == 1

    report = formulary_load()

    assert (
        "presentation betaleukin-1mg-ampoule renamed to betaleukin-1ug-ampoule-5" in report.updated
    )
    one.refresh_from_db()
    assert (one.code, one.strength_unit, one.pack_size) == ("betaleukin-1ug-ampoule-5", "ug", 5)
    assert Lot.objects.get(pk=lot.pk).presentation.code == "betaleukin-0-05ug-ampoule-5"
    dose.refresh_from_db()
    assert sorted((line["label"], line["count"]) for line in dose.vials) == [
        ("betaleukin-0-05ug-ampoule-5", 1),
        ("betaleukin-1ug-ampoule-5", 1),
    ]
    assert dose.waste_amount == 0
    held = StockMovement.objects.filter(reference=f"dose:{dose.pk}")
    assert sum(m.reserved_delta for m in held) == 0  # the old plan's hold is released
    assert formulary_load().updated == []  # idempotent
    assert Course.objects.count() == 1
