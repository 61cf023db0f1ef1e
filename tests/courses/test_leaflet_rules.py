"""Issue 11, item 3: every leaflet rule exact. Each test cites the leaflet line it enforces and
checks, against the verbatim leaflet in courses/leaflets/, that the line says so."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

import courses
from courses import checks, services
from courses import formulary as fm
from courses.models import Dose, DoseStatus, Patient, Protocol
from courses.schedule import Pattern
from inventory.models import Product
from tests.courses.helpers import born, day_numbers, prescribe
from tests.factories import PatientFactory

D = Decimal
BIOCERULIN, CERULOPLASMIN, BETALEUKIN = (
    fm.BIOCERULIN_FILE,
    fm.CERULOPLASMIN_FILE,
    fm.BETALEUKIN_FILE,
)
LEAFLETS = Path(courses.__file__).parent / "leaflets"
SEEDS = Path("/work/shared/seeds")


def leaflet_line(name: str, number: int) -> str:
    return (LEAFLETS / name).read_text(encoding="utf-8").splitlines()[number - 1]


def test_leaflet_copies_are_the_seeds_verbatim():
    if not SEEDS.is_dir():
        pytest.skip("shared/seeds is not on this machine")
    for name in (BIOCERULIN, CERULOPLASMIN, BETALEUKIN):
        assert (LEAFLETS / name).read_bytes() == (SEEDS / name).read_bytes()


def _anchors(today, code):
    return {
        "ceruloplasmin-child-posthaemorrhagic": {"surgery": str(today + dt.timedelta(2))},
        "ceruloplasmin-child-radiation-anaemia": {
            "radiotherapy_start": str(today),
            "radiotherapy_end": str(today + dt.timedelta(21)),
        },
        "ceruloplasmin-child-toxic-anaemia": {
            "chemotherapy_dates": [str(today + dt.timedelta(n)) for n in (0, 7)]
        },
        "ceruloplasmin-child-chemoradiation-anaemia": {
            "procedure_dates": [str(today + dt.timedelta(n)) for n in (0, 7)]
        },
    }.get(code, {})


def _choices(protocol) -> list[dict]:
    """A valid prescription of the protocol: first pattern, fewest doses and cycles, lowest dose."""
    choices = []
    for phase in protocol.phases.order_by("order"):
        spec = phase.patterns[0]
        pattern = Pattern.from_dict(spec)
        choice = {"pattern": spec}
        if pattern.kind == "cycles":
            choice["cycles"] = phase.cycles_min or 1
        elif not pattern.anchored:
            choice["count"] = phase.count_min
        if phase.dose_basis != "age_band":
            choice["dose"] = str(phase.dose_min)
        choices.append(choice)
    return choices


def _check(patient, code, today, **kwargs):
    protocol = Protocol.objects.get(code=code)
    kwargs.setdefault("phases", _choices(protocol))
    kwargs.setdefault("anchors", _anchors(today, code))
    return services.course_check(patient=patient, protocol=protocol, on=today, **kwargs)


# --- 1. "not used in infants up to 6 months", on every Ceruloplasmin protocol -----------------


def test_leaflet_001_line_58_says_not_under_6_months():
    line = leaflet_line(CERULOPLASMIN, 58)
    assert "not used in infants for up to 6 months" in line
    assert fm.PRODUCT_MIN_AGE["ceruloplasmin"]["months"] == 6


@pytest.mark.parametrize(
    "code",
    [p["code"] for p in fm.PROTOCOLS if p["product"] == "ceruloplasmin"],
)
def test_every_ceruloplasmin_protocol_names_the_infant_limit(formulary, ward, today, code):
    # Leaflet 001 line 58: "they are not used in infants for up to 6 months" — named as such on
    # the adult protocols too, never only as "this is an adult protocol".
    infant = PatientFactory(ward=ward, birth_date=born(today, months=3), weight_kg=6)
    draft = _check(infant, code, today)
    infant_stops = [
        f for f in draft.hard_stops if "not used in infants up to 6 months" in f.message
    ]
    assert len(infant_stops) == 1, [str(f) for f in draft.hard_stops]
    assert infant_stops[0].code == "age"
    assert infant_stops[0].source.startswith(f"{CERULOPLASMIN}: contraindications (line 58")
    # The children's own "starts at 6 months" is not repeated next to it.
    assert sum(f.code == "age" and "6 months" in f.message for f in draft.hard_stops) == 1


def test_six_months_old_is_not_stopped_by_the_infant_limit(formulary, ward, today):
    child = PatientFactory(ward=ward, birth_date=born(today, months=6), weight_kg=7)
    draft = _check(child, "ceruloplasmin-child-purulent-surgical", today)
    assert draft.hard_stops == []


# --- 2. Allergies per product; each leaflet's own hypersensitivity condition ------------------


def test_hypersensitivity_lines_of_the_three_leaflets():
    assert "hypersensitivity to drugs of protein origin" in leaflet_line(BIOCERULIN, 22)
    assert "intolerance of drugs that are protein-like" in leaflet_line(CERULOPLASMIN, 58)
    assert leaflet_line(BETALEUKIN, 40) == "hypersensitivity to the drug;"


def _betaleukin():
    return Product.objects.get(code="betaleukin")


def test_betaleukin_allergy_stops_betaleukin_citing_line_40(formulary, ward, today):
    patient = PatientFactory(ward=ward)
    patient.drug_allergies.add(_betaleukin())
    draft = _check(patient, "betaleukin-immunodeficiency-iv", today)
    stop = next(f for f in draft.hard_stops if f.code == "hypersensitivity")
    assert "hypersensitivity to the drug" in stop.message and "Betaleukin" in stop.message
    assert (
        stop.source == f"{BETALEUKIN}: contraindications (line 40: 'hypersensitivity to the drug')"
    )


def test_protein_class_alone_warns_but_does_not_stop_betaleukin(formulary, ward, today):
    # Line 40 names the drug, not protein drugs as a class: the class is for the prescriber.
    patient = PatientFactory(ward=ward, protein_drug_allergy=True)
    draft = _check(patient, "betaleukin-immunodeficiency-iv", today)
    assert not [f for f in draft.hard_stops if f.code == "hypersensitivity"]
    warning = next(w for w in draft.warnings if w.code == "protein_hypersensitivity")
    assert "drugs of protein origin" in warning.message


@pytest.mark.parametrize(
    ("code", "source"),
    [
        ("biocerulin-general", f"{BIOCERULIN}: contraindications (line 22)"),
        ("ceruloplasmin-postop", f"{CERULOPLASMIN}: contraindications (line 58)"),
    ],
)
def test_ceruloplasmins_stop_on_any_protein_drug_allergy(formulary, ward, today, code, source):
    # An allergy recorded against Betaleukin (a recombinant protein) is a hypersensitivity to a
    # drug of protein origin, which both ceruloplasmin leaflets contraindicate.
    patient = PatientFactory(ward=ward)
    patient.drug_allergies.add(_betaleukin())
    stop = next(f for f in _check(patient, code, today).hard_stops if f.code == "hypersensitivity")
    assert "drugs of protein origin" in stop.message and "Betaleukin" in stop.message
    assert stop.source == source
    # ... and so does the class itself, with no product recorded.
    classed = PatientFactory(ward=ward, protein_drug_allergy=True)
    assert "hypersensitivity" in {f.code for f in _check(classed, code, today).hard_stops}
    # No allergy, no stop.
    assert _check(PatientFactory(ward=ward), code, today).hard_stops == []


def test_patient_api_records_allergies_per_product(physician_client, formulary, ward):
    body = {
        "mrn": "MRN-ALG",
        "name": "Allergic Patient",
        "birth_date": "1970-01-01",
        "ward": ward.code,
        "drug_allergies": ["betaleukin"],
        "protein_drug_allergy": False,
    }
    response = physician_client.post("/api/v1/patients/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["drug_allergies"] == ["betaleukin"]
    patient = Patient.objects.get(mrn="MRN-ALG")
    assert [p.code for p in patient.drug_allergies.all()] == ["betaleukin"]
    cleared = physician_client.patch(
        f"/api/v1/patients/{patient.pk}/", {"drug_allergies": []}, format="json"
    )
    assert cleared.status_code == 200 and cleared.json()["drug_allergies"] == []
    bad = physician_client.post(
        "/api/v1/patients/", {**body, "mrn": "MRN-X", "drug_allergies": ["nope"]}, format="json"
    )
    assert bad.status_code == 400 and "drug_allergies" in bad.json()["error"]["fields"]


def test_patient_page_records_and_shows_allergies(client, physician, formulary, ward, today):
    client.force_login(physician)
    form = client.get("/patients/").content.decode()
    assert 'name="drug_allergies"' in form
    response = client.post(
        "/patients/",
        {
            "name": "Page Allergy",
            "mrn": "MRN-PA",
            "birth_date": "1975-03-04",
            "sex": "female",
            "ward": ward.pk,
            "drug_allergies": [_betaleukin().pk],
        },
    )
    patient = Patient.objects.get(mrn="MRN-PA")
    assert response.status_code == 302
    assert list(patient.drug_allergies.all()) == [_betaleukin()]
    page = client.get(f"/patients/{patient.pk}/").content.decode()
    assert "Hypersensitivity to Betaleukin" in page


def test_admin_edits_allergies(admin_client, formulary, ward):
    patient = PatientFactory(ward=ward)
    page = admin_client.get(f"/admin/courses/patient/{patient.pk}/change/").content.decode()
    assert 'name="drug_allergies"' in page and 'name="wbc_measured_on"' in page


# --- 3. No age limit the leaflets do not state ------------------------------------------------

# (min, max) months per protocol, and the leaflet line that states it (None: no limit stated).
AGE_LIMITS = {
    # 000 line 19: "the drug should not be prescribed in this category of patients" (children).
    "biocerulin": (fm.ADULT_MONTHS, None, BIOCERULIN, 19, "should not be prescribed"),
    # 001 line 80: children have doses of their own ("In the treatment of children").
    "ceruloplasmin-adult": (fm.ADULT_MONTHS, None, CERULOPLASMIN, 80, "treatment of children"),
    # 001 lines 82–84: 6 months to 18 years.
    "ceruloplasmin-child": (6, fm.ADULT_MONTHS, CERULOPLASMIN, 82, "6 months"),
    # 001 lines 53–55 ("Use … during pregnancy"): no age given.
    "ceruloplasmin-pregnancy-anaemia": (None, None, CERULOPLASMIN, 53, "100 mg"),
    # 002: no age anywhere.
    "betaleukin": (None, None, None, None, None),
}


def _age_group(protocol) -> str:
    if protocol.code == "ceruloplasmin-pregnancy-anaemia":
        return protocol.code
    if protocol.product.code == "ceruloplasmin":
        return f"ceruloplasmin-{protocol.population}"
    return protocol.product.code


def test_every_protocols_age_bounds_are_the_leaflets(formulary):
    for protocol in Protocol.objects.select_related("product"):
        low, high, leaflet, line, words = AGE_LIMITS[_age_group(protocol)]
        assert (protocol.min_age_months, protocol.max_age_months) == (low, high), protocol.code
        if leaflet:
            assert words in leaflet_line(leaflet, line)
    assert "age" not in leaflet_line(BETALEUKIN, 46).lower()


def test_pregnant_adolescent_has_no_age_stop_on_the_pregnancy_anaemia_protocol(
    formulary, ward, today
):
    patient = PatientFactory(
        ward=ward, birth_date=born(today, years=16), pregnant=True, pregnancy_trimester=2
    )
    draft = _check(patient, "ceruloplasmin-pregnancy-anaemia", today)
    assert draft.hard_stops == []


# --- 4. No silent defaults: pattern and cycles are the prescriber's -------------------------


@pytest.mark.parametrize(
    ("code", "phases", "field"),
    [
        ("biocerulin-general", [{"dose": "80"}], "phases.0.pattern"),
        ("ceruloplasmin-preop-oncology", [{"dose": "2", "count": 7}], "phases.0.pattern"),
        (
            "ceruloplasmin-osteomyelitis-chronic",
            [{"count": 2}, {"count": 3}],
            "phases.0.pattern",
        ),
        ("betaleukin-leukopoiesis-toxic-iv", [{"dose": "15"}], "phases.0.cycles"),
        ("betaleukin-immunodeficiency-sc", [], "phases.0.cycles"),
    ],
)
def test_api_names_the_missing_choice(physician_client, formulary, ward, code, phases, field):
    patient = PatientFactory(ward=ward)
    body = {"patient": patient.pk, "protocol": code, "phases": phases}
    response = physician_client.post("/api/v1/courses/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not patient.courses.exists()


def test_a_single_pattern_needs_no_choice(formulary, physician, ward, today):
    course = prescribe(
        PatientFactory(ward=ward),
        "ceruloplasmin-postop",
        physician,
        today,
        phases=[{"dose": "2", "count": 7}],
    )
    assert course.phases.get().pattern == {"kind": "daily"}


def test_prescribing_form_preselects_no_pattern_and_no_cycles(client, physician, formulary):
    client.force_login(physician)
    page = client.get("/courses/new/", {"protocol": "biocerulin-general"}).content.decode()
    select = re.search(r'<select name="phase0_pattern".*?</select>', page, re.S).group(0)
    assert re.findall(r'<option value="(\d*)"[^>]*selected', select) == [""]
    beta = client.get(
        "/courses/new/", {"protocol": "betaleukin-leukopoiesis-toxic-iv"}
    ).content.decode()
    cycles = re.search(r'<input[^>]*name="phase0_cycles"[^>]*>', beta).group(0)
    assert "value=" not in cycles and "required" in cycles


# --- 5. The age band on each dose's date ------------------------------------------------------


def _turning_one_in_three_days(ward, today):
    # 11 months old at the start; 12 months (the 1–12 years band, 100 mg) from day 4.
    return PatientFactory(
        ward=ward, birth_date=born(today, months=12) + dt.timedelta(days=3), weight_kg=9
    )


def test_age_band_changes_on_the_birthday_with_a_warning(formulary, physician, ward, today):
    # Leaflet 001 lines 82–83: "6 months / 1 year - 50 mg", "1-12 years - … 100 mg".
    assert "50 mg" in leaflet_line(CERULOPLASMIN, 82)
    assert "100 mg" in leaflet_line(CERULOPLASMIN, 83)
    child = _turning_one_in_three_days(ward, today)
    course = prescribe(
        child, "ceruloplasmin-child-purulent-surgical", physician, today, phases=[{"count": 7}]
    )
    doses = list(course.doses.order_by("scheduled_at"))
    assert [d.amount for d in doses] == [D(50)] * 3 + [D(100)] * 4
    assert [d.waste_amount for d in doses] == [D(50)] * 3 + [D(0)] * 4
    change = next(w for w in course.warnings if w["code"] == "age_band_change")
    assert str(today + dt.timedelta(days=3)) in change["message"] and "100 mg" in change["message"]
    assert change["source"].startswith(f"{CERULOPLASMIN}: Dosing and administration")


def test_doses_moved_across_the_birthday_take_the_new_band(formulary, physician, ward, today):
    child = _turning_one_in_three_days(ward, today)
    course = prescribe(
        child, "ceruloplasmin-child-purulent-surgical", physician, today, phases=[{"count": 7}]
    )
    services.course_hold(
        course=course, user=physician, on=today + dt.timedelta(1), reason="Theatre", today=today
    )
    services.course_resume(course=course, user=physician, on=today + dt.timedelta(5), today=today)
    active = list(course.doses.exclude(status="cancelled").order_by("scheduled_at"))
    assert day_numbers(course) == [1, 6, 7, 8, 9, 10, 11]
    assert [d.amount for d in active] == [D(50)] + [D(100)] * 6


def test_leaving_the_last_band_during_the_course_is_a_hard_stop(formulary, ward, today):
    # Lines 84: "adolescents 13-18 years old"; an 18th birthday on day 4 leaves the table.
    patient = PatientFactory(ward=ward, birth_date=born(today, years=18) + dt.timedelta(days=3))
    draft = _check(patient, "ceruloplasmin-child-purulent-surgical", today)
    assert any(
        f.code == "age" and "no age-band dose from that date" in f.message for f in draft.hard_stops
    )


# --- 6. A WBC count carries its date ----------------------------------------------------------


SUPPORT = "betaleukin-leukopoiesis-support-iv"


def test_leaflet_002_line_19_gives_the_wbc_floor():
    assert "at least 3h109 / l" in leaflet_line(BETALEUKIN, 19)


def test_a_fresh_low_count_stops(formulary, ward, today):
    patient = PatientFactory(ward=ward, wbc_10e9_per_l=D("2.5"), wbc_measured_on=today)
    stop = next(f for f in _check(patient, SUPPORT, today).hard_stops if f.code == "wbc")
    assert str(today) in stop.message and "(line 19" in stop.source


@pytest.mark.parametrize(("age_days", "stopped"), [(3, True), (4, False)])
def test_a_count_older_than_the_setting_counts_as_unknown(
    formulary, ward, today, age_days, stopped
):
    taken = today - dt.timedelta(days=age_days)
    patient = PatientFactory(ward=ward, wbc_10e9_per_l=D("2.5"), wbc_measured_on=taken)
    draft = _check(patient, SUPPORT, today)
    assert ("wbc" in {f.code for f in draft.hard_stops}) is stopped
    unknown = [w for w in draft.warnings if w.code == "wbc_unknown"]
    assert bool(unknown) is not stopped
    if unknown:
        assert "counts as unknown" in unknown[0].message and str(taken) in unknown[0].message


def test_the_window_is_a_setting_counted_back_from_the_start(formulary, ward, today, settings):
    taken = today - dt.timedelta(days=6)
    patient = PatientFactory(ward=ward, wbc_10e9_per_l=D("2.5"), wbc_measured_on=taken)
    settings.WBC_VALID_DAYS = 7
    assert "wbc" in {f.code for f in _check(patient, SUPPORT, today).hard_stops}
    # A course starting later: the same count is then too old for it.
    later = _check(patient, SUPPORT, today, start_date=today + dt.timedelta(days=3))
    assert "wbc" not in {f.code for f in later.hard_stops}


def test_an_undated_count_is_unknown(formulary, ward, today):
    patient = PatientFactory(ward=ward, wbc_10e9_per_l=D("2.5"))  # recorded before dates were
    draft = _check(patient, SUPPORT, today)
    assert "wbc" not in {f.code for f in draft.hard_stops}
    assert "has no date" in next(w for w in draft.warnings if w.code == "wbc_unknown").message


def test_api_and_page_need_the_counts_date(physician_client, client, physician, ward, today):
    body = {
        "mrn": "MRN-WBC",
        "name": "W",
        "birth_date": "1970-01-01",
        "ward": ward.code,
        "wbc_10e9_per_l": "3.4",
    }
    missing = physician_client.post("/api/v1/patients/", body, format="json")
    assert missing.status_code == 400 and "wbc_measured_on" in missing.json()["error"]["fields"]
    future = {**body, "wbc_measured_on": str(today + dt.timedelta(days=1))}
    response = physician_client.post("/api/v1/patients/", future, format="json")
    assert response.status_code == 400 and "wbc_measured_on" in response.json()["error"]["fields"]
    dated = {**body, "wbc_measured_on": str(today)}
    response = physician_client.post("/api/v1/patients/", dated, format="json")
    assert response.status_code == 201 and response.json()["wbc_measured_on"] == str(today)
    client.force_login(physician)
    page = client.get(f"/patients/{response.json()['id']}/").content.decode()
    assert f"WBC 3.4 ×10⁹/L on {today:%d %b %Y}" in page
    assert 'name="wbc_measured_on"' in client.get("/patients/").content.decode()


# --- 7. A hold from a date leaves the doses before it -----------------------------------------


def _betaleukin_course(physician, ward, today, cycles=2):
    return prescribe(
        PatientFactory(ward=ward),
        "betaleukin-immunodeficiency-sc",
        physician,
        today,
        phases=[{"dose": "5", "cycles": cycles}],
    )


def test_hold_from_day_3_keeps_days_1_and_2_where_they_are(formulary, physician, ward, today):
    # The reported case: held from 3 Dec (placed on 1 Dec), resumed on 7 Dec; the 1–2 Dec doses
    # must not move. Leaflet 002 line 24: "5 daily … repeat … at intervals of 2 weeks".
    course = _betaleukin_course(physician, ward, today)
    before = list(course.doses.order_by("scheduled_at")[:2].values_list("id", "scheduled_at"))
    services.course_hold(
        course=course, user=physician, on=today + dt.timedelta(2), reason="Fever", today=today
    )
    services.course_resume(course=course, user=physician, on=today + dt.timedelta(6), today=today)
    assert day_numbers(course) == [1, 2, 7, 8, 9, 24, 25, 26, 27, 28]
    assert list(course.doses.order_by("scheduled_at")[:2].values_list("id", "scheduled_at")) == (
        before
    )


def test_doses_before_the_hold_date_can_be_given_while_the_hold_waits(
    formulary, physician, nurse, ward, today, stocked
):
    course = _betaleukin_course(physician, ward, today)
    first, second, third = list(course.doses.order_by("scheduled_at")[:3])
    services.course_hold(
        course=course, user=physician, on=today + dt.timedelta(2), reason="Fever", today=today
    )
    for dose in (first, second):
        services.dose_administer(dose=dose, user=nurse, now=dose.scheduled_at)
    with pytest.raises(ValidationError) as error:
        services.dose_administer(dose=third, user=nurse, now=third.scheduled_at)
    assert "on hold from" in error.value.message_dict["status"][0]
    services.course_resume(course=course, user=physician, on=today + dt.timedelta(6), today=today)
    assert day_numbers(course) == [1, 2, 7, 8, 9, 24, 25, 26, 27, 28]


def test_resume_keeps_14_dose_free_days_before_the_next_cycle(
    formulary, physician, nurse, ward, today, stocked
):
    course = _betaleukin_course(physician, ward, today)
    for dose in list(course.doses.order_by("scheduled_at")[:5]):
        services.dose_administer(dose=dose, user=nurse, now=dose.scheduled_at)
    # Held in the rest between cycles and resumed before it ends: cycle 2 still waits 14 days.
    services.course_hold(
        course=course, user=physician, on=today + dt.timedelta(7), reason="Infection", today=today
    )
    services.course_resume(course=course, user=physician, on=today + dt.timedelta(9), today=today)
    days = day_numbers(course)
    assert days == [1, 2, 3, 4, 5, 20, 21, 22, 23, 24]
    assert days[5] - days[4] - 1 == 14


def test_doses_before_the_hold_date_stay_due_on_today_and_reserved(
    client, nurse, formulary, physician, ward, today
):
    course = _betaleukin_course(physician, ward, today)
    services.course_hold(
        course=course, user=physician, on=today + dt.timedelta(1), reason="Fever", today=today
    )
    from courses.selectors import doses_due

    due = doses_due(start=today, end=today + dt.timedelta(3))
    assert [d.course_id for d in due] == [course.pk]  # today's only; the held ones are not due
    client.force_login(nurse)
    page = client.get("/").content.decode()
    assert f'name="dose" value="{course.doses.order_by("scheduled_at").first().pk}"' in page


# --- 8. Missed or refused: re-add only when the recorder says so ------------------------------


@pytest.fixture
def ward_nurse_client(nurse_client, ward):
    ward.members.add(nurse_client.user)
    return nurse_client


def test_api_requires_replace(ward_nurse_client, formulary, physician, ward, today):
    course = _betaleukin_course(physician, ward, today, cycles=1)
    dose = course.doses.order_by("scheduled_at").first()
    url = f"/api/v1/doses/{dose.pk}/refuse/"
    response = ward_nurse_client.post(url, {"reason": "Declined"}, format="json")
    assert response.status_code == 400 and list(response.json()["error"]["fields"]) == ["replace"]
    dose.refresh_from_db()
    assert dose.status == DoseStatus.SCHEDULED
    dropped = ward_nurse_client.post(url, {"reason": "Declined", "replace": False}, format="json")
    assert dropped.status_code == 200 and dropped.json()["replaced"] is False
    # Not extended: 4 doses still to give, none added.
    assert course.doses.filter(status="scheduled").count() == 4
    assert Dose.objects.filter(course=course).count() == 5


def test_today_page_asks_and_refuses_without_the_answer(
    client, nurse, formulary, physician, ward, today
):
    course = _betaleukin_course(physician, ward, today, cycles=1)
    dose = course.doses.order_by("scheduled_at").first()
    client.force_login(nurse)
    page = client.get("/").content.decode()
    assert 'name="replace" value="yes"' in page and 'name="replace" value="no"' in page
    assert (
        "checked" not in re.search(r'<fieldset class="field replace.*?</fieldset>', page, re.S)[0]
    )
    response = client.post("/", {"dose": dose.pk, "action": "refused", "reason": "Declined"})
    assert "Say whether the dose is re-added" in response.content.decode()
    dose.refresh_from_db()
    assert dose.status == DoseStatus.SCHEDULED
    client.post("/", {"dose": dose.pk, "action": "refused", "reason": "Declined", "replace": "yes"})
    dose.refresh_from_db()
    assert (dose.status, dose.replaced) == (DoseStatus.REFUSED, True)
    assert course.doses.filter(status="scheduled").count() == 5  # re-added at the end


# --- 9. Leaflet information shown on the protocol and the course ------------------------------

NOTES = [
    ("biocerulin-general", "driving", BIOCERULIN, 34, "driving vehicles"),
    ("betaleukin-leukopoiesis-toxic-iv", "list_b", BETALEUKIN, 60, "List B"),
    ("ceruloplasmin-pregnancy-anaemia", "iron_cotherapy", CERULOPLASMIN, 53, "iron drugs"),
    (
        "ceruloplasmin-child-purulent-surgical",
        "antibacterial_cotherapy",
        CERULOPLASMIN,
        88,
        "antibacterial treatment",
    ),
]


@pytest.mark.parametrize(("code", "note", "leaflet", "line", "words"), NOTES)
def test_leaflet_notes_cite_their_line_and_show_in_the_api(
    viewer_client, formulary, code, note, leaflet, line, words
):
    assert words in leaflet_line(leaflet, line)
    body = viewer_client.get("/api/v1/protocols/", {"code": code}).json()["results"][0]
    found = next(n for n in body["leaflet_notes"] if n["code"] == note)
    assert (found["leaflet_file"], found["line"]) == (leaflet, line)


def test_every_protocol_of_a_product_carries_its_products_notes(formulary):
    for protocol in Protocol.objects.select_related("product"):
        codes = {n["code"] for n in protocol.leaflet_notes}
        product = protocol.product.code
        assert ("driving" in codes) is (product == "biocerulin"), protocol.code
        assert ("list_b" in codes) is (product == "betaleukin"), protocol.code
        assert ("iron_cotherapy" in codes) is (protocol.code == "ceruloplasmin-pregnancy-anaemia")


def test_course_api_and_page_show_the_notes(client, pharmacist, formulary, physician, ward, today):
    course = _betaleukin_course(physician, ward, today, cycles=1)
    client.force_login(pharmacist)
    body = client.get(f"/api/v1/courses/{course.pk}/").json()
    assert [n["code"] for n in body["leaflet_notes"]] == ["list_b"]
    page = client.get(f"/courses/{course.pk}/").content.decode()
    assert "List B" in page and "Betaleukin leaflet —" in page
    form = client.get("/courses/new/", {"protocol": "biocerulin-general"}).content.decode()
    assert "driving" in form
    # Stored in English, shown in the reader's language.
    ukrainian = client.get(f"/courses/{course.pk}/", HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "Список Б (сильнодіюча речовина)" in ukrainian and "potent substance" not in ukrainian
    form = client.get(
        "/courses/new/", {"protocol": "biocerulin-general"}, HTTP_ACCEPT_LANGUAGE="uk"
    ).content.decode()
    assert "керуванні транспортними засобами" in form and "caution when driving" not in form
    # The phase's prescribed dose in the page's unit words: 5 ng/kg, «5 нг/кг».
    assert "5 нг/кг = " in ukrainian and "ng/kg" not in ukrainian
    assert "5 ng/kg = " in page


# --- design.md "Clinical checks": each hard stop and warning cites a line that says it -------

CITED = {
    ("biocerulin", "hypersensitivity"): "protein origin",
    ("biocerulin", "children"): "Children",
    ("biocerulin", "pregnancy"): "pregnancy or lactation",
    ("biocerulin", "lactation"): "pregnancy or lactation",
    ("biocerulin", "special"): "sodium",
    ("biocerulin", "incompatibility"): "not allowed to mix",
    ("biocerulin", "side_effects"): "rate of administration should be reduced",
    ("ceruloplasmin", "hypersensitivity"): "protein-like",
    ("ceruloplasmin", "children"): "In the treatment of children",
    ("ceruloplasmin", "pregnancy"): "1 st trimester",
    ("ceruloplasmin", "lactation"): "lactation",
    ("ceruloplasmin", "side_effects"): "lower the dosage and the rate",
    ("betaleukin", "hypersensitivity"): "hypersensitivity to the drug",
    ("betaleukin", "septic_shock"): "septic shock",
    ("betaleukin", "severe_fever"): "severe fever",
    ("betaleukin", "pregnancy"): "contraindicated in pregnancy",
    ("betaleukin", "side_effects"): "fever, headache",
    ("betaleukin", "indications"): "3h109",
}
FILES = {"biocerulin": BIOCERULIN, "ceruloplasmin": CERULOPLASMIN, "betaleukin": BETALEUKIN}


def test_every_cited_section_line_says_what_the_check_says():
    assert set(CITED) == {(p, t) for p, topics in checks.SECTIONS.items() for t in topics}
    for (product, topic), words in CITED.items():
        line = int(re.search(r"lines? (\d+)", checks.SECTIONS[product][topic]).group(1))
        assert words in leaflet_line(FILES[product], line), (product, topic)


DESIGN_STOPS = [
    # (protocol, patient fields, stop code, cited line)
    ("biocerulin-general", {"protein_drug_allergy": True}, "hypersensitivity", 22),
    ("biocerulin-general", {"age": 120}, "age", 19),
    ("biocerulin-general", {"pregnant": True, "pregnancy_trimester": 2}, "pregnancy", 32),
    ("biocerulin-general", {"lactating": True}, "lactation", 32),
    ("ceruloplasmin-postop", {"protein_drug_allergy": True}, "hypersensitivity", 58),
    ("ceruloplasmin-child-purulent-surgical", {"age": 5}, "age", 58),
    ("ceruloplasmin-postop", {"pregnant": True, "pregnancy_trimester": 1}, "pregnancy", 55),
    ("ceruloplasmin-postop", {"lactating": True}, "lactation", 55),
    (
        "betaleukin-immunodeficiency-iv",
        {"pregnant": True, "pregnancy_trimester": 2},
        "pregnancy",
        46,
    ),
    ("betaleukin-immunodeficiency-iv", {"septic_shock": True}, "septic_shock", 41),
    ("betaleukin-immunodeficiency-iv", {"severe_fever": True}, "severe_fever", 42),
]


@pytest.mark.parametrize(("code", "fields", "stop", "line"), DESIGN_STOPS)
def test_design_hard_stops_are_present_with_their_line(
    formulary, ward, today, code, fields, stop, line
):
    fields = dict(fields)
    months = fields.pop("age", None)
    birth = born(today, months=months) if months is not None else dt.date(1980, 5, 17)
    patient = PatientFactory(ward=ward, birth_date=birth, **fields)
    found = [f for f in _check(patient, code, today).hard_stops if f.code == stop]
    assert found and any(f"line {line}" in f.source for f in found), [str(f) for f in found]


def test_design_warnings_are_present_with_their_line(formulary, ward, today):
    patient = PatientFactory(ward=ward, sodium_controlled_diet=True, high_dose_corticosteroids=True)
    by_code = {w.code: w.source for w in _check(patient, "biocerulin-general", today).warnings}
    assert by_code == {
        "sodium_diet": f"{BIOCERULIN}: special instructions (line 30)",
        "corticosteroids": f"{BIOCERULIN}: special instructions (line 30)",
        "no_mixing": f"{BIOCERULIN}: Incompatibility (line 39)",
        "infusion_rate_reactions": f"{BIOCERULIN}: Side effects (line 26)",
    }
    cerulo = {w.code: w.source for w in _check(patient, "ceruloplasmin-postop", today).warnings}
    assert cerulo == {
        "infusion_rate_reactions": f"{CERULOPLASMIN}: Side effects of the ceruloplasmin (line 64)"
    }


def test_dose_and_course_total_outside_the_label_stop(formulary, ward, today):
    patient = PatientFactory(ward=ward)
    low = _check(
        patient, "biocerulin-general", today, phases=[{"pattern": {"kind": "daily"}, "dose": "59"}]
    )
    assert {"dose_range", "course_total"} <= {f.code for f in low.hard_stops}


def test_fhir_gives_each_band_its_own_dosage_instruction(formulary, physician, ward, today):
    from courses.exports import course_fhir

    child = _turning_one_in_three_days(ward, today)
    course = prescribe(
        child, "ceruloplasmin-child-purulent-surgical", physician, today, phases=[{"count": 7}]
    )
    from tests.api.test_fhir import _expanded, _planned, _request, assert_r4

    bundle = course_fhir(course)
    assert_r4(bundle)  # R4 (fhir.resources) and FHIR JSON's rules
    request = _request(bundle)
    dosage = request["dosageInstruction"]
    assert [(d["sequence"], d["doseAndRate"][0]["doseQuantity"]["value"]) for d in dosage] == [
        (1, 50.0),
        (2, 100.0),
    ]
    assert [len(d["timing"]["event"]) for d in dosage] == [3, 4]
    # Each band's own bounds: 50 mg up to the day before the birthday, 100 mg from it.
    doses = _planned(course)
    bounds = [d["timing"]["repeat"]["boundsPeriod"] for d in dosage]
    assert [dt.datetime.fromisoformat(b["start"]) for b in bounds] == [doses[0], doses[3]]
    assert [dt.datetime.fromisoformat(b["end"]) for b in bounds] == [doses[2], doses[6]]
    assert [d["timing"]["repeat"]["count"] for d in dosage] == [3, 4]
    assert _expanded(request, course.time_zone) == doses


def test_a_reduction_after_a_reaction_keeps_each_dates_band(
    formulary, physician, nurse, ward, today, stocked
):
    # Leaflet 001 line 64: "lower the dosage and the rate of administration".
    child = _turning_one_in_three_days(ward, today)
    course = prescribe(
        child, "ceruloplasmin-child-purulent-surgical", physician, today, phases=[{"count": 7}]
    )
    first = course.doses.order_by("scheduled_at").first()
    services.dose_administer(
        dose=first,
        user=nurse,
        now=first.scheduled_at,
        reaction="Flushing and chills",
        later_dose_percent=50,
    )
    later = list(course.doses.filter(status="scheduled").order_by("scheduled_at"))
    assert [d.amount for d in later] == [D(25)] * 2 + [D(50)] * 4


def test_check_step_shows_each_doses_band_and_the_warning(
    client, physician, formulary, ward, today
):
    child = _turning_one_in_three_days(ward, today)
    client.force_login(physician)
    page = client.post(
        "/courses/new/",
        {
            "patient": child.pk,
            "protocol": "ceruloplasmin-child-purulent-surgical",
            "start_date": today.isoformat(),
            "administration_time": "10:00",
            "phase0_count": "7",
            "action": "check",
        },
    ).content.decode()
    assert page.count("50 mg") >= 3 and page.count("100 mg") >= 4
    assert f"12 months old on {today + dt.timedelta(days=3)}" in page


def test_a_hold_lifted_before_its_date_moves_nothing(formulary, physician, ward, today):
    course = _betaleukin_course(physician, ward, today)
    planned = list(course.doses.order_by("scheduled_at").values_list("scheduled_at", flat=True))
    services.course_hold(
        course=course, user=physician, on=today + dt.timedelta(2), reason="Scan", today=today
    )
    services.course_resume(course=course, user=physician, on=today, today=today)
    after = list(course.doses.order_by("scheduled_at").values_list("scheduled_at", flat=True))
    assert after == planned
