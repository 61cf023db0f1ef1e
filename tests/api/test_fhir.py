"""FHIR R4 exports and endpoints, validated by an outside model library (fhir.resources, R4B
models = R4 for these resources) plus the JSON rules it does not enforce (FHIR JSON §: no empty
arrays, objects or strings, no nulls), and timings expanded back into dates."""

import datetime as dt

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.patient import Patient as FhirPatient

from courses import fhir
from courses.models import Dose
from courses.services import dose_administer, dose_record_not_given
from tests.courses.helpers import prescribe
from tests.courses.test_prescribing import REGIMENS, _anchors, _patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db
MODELS = {
    "Bundle": Bundle,
    "Patient": FhirPatient,
    "MedicationRequest": MedicationRequest,
    "MedicationAdministration": MedicationAdministration,
}


def _json_rules(value, path="$"):
    """FHIR JSON: a property is absent rather than null, empty or an empty list/object."""
    assert value is not None and value != "" and value != [] and value != {}, path
    if isinstance(value, dict):
        for key, inner in value.items():
            _json_rules(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _json_rules(inner, f"{path}[{index}]")


def assert_r4(resource: dict):
    """Valid to the R4(B) model and the JSON rules; returns the parsed model."""
    _json_rules(resource)
    model = MODELS[resource["resourceType"]].model_validate(resource)
    if resource["resourceType"] == "Bundle":
        assert resource["id"] and resource["timestamp"]
        for entry in resource.get("entry", []):
            assert entry["fullUrl"].startswith("http")
            assert entry["fullUrl"].endswith(
                f"/api/v1/fhir/{entry['resource']['resourceType']}/{entry['resource']['id']}"
            )
    return model


def _request(bundle: dict) -> dict:
    return next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationRequest"
    )


def _expanded(request: dict, zone: str) -> list[dt.datetime]:
    return sorted(
        moment
        for instruction in request["dosageInstruction"]
        for moment in fhir.timing_expand(instruction["timing"], zone)
    )


def _planned(course) -> list[dt.datetime]:
    return [
        d.scheduled_at
        for d in course.doses.exclude(status="cancelled").order_by("scheduled_at", "sequence")
    ]


@pytest.mark.parametrize(
    ("code", "patient", "choices"),
    [r[:3] for r in REGIMENS],
    ids=[f"{r[0]}-{i}" for i, r in enumerate(REGIMENS)],
)
def test_every_leaflet_regimen_exports_valid_r4_whose_timing_expands_to_the_plan(
    formulary, physician, ward, today, code, patient, choices
):
    course = prescribe(
        _patient(today, ward, **patient),
        code,
        physician,
        today,
        phases=choices,
        anchors=_anchors(today, code),
    )
    bundle = fhir.course_bundle(course)
    assert_r4(bundle)
    assert _expanded(_request(bundle), course.time_zone) == _planned(course)


def test_betaleukin_cycles_are_one_instruction_per_cycle_not_eleven_days(
    formulary, physician, ward, today
):
    course = prescribe(
        PatientFactory(ward=ward),
        "betaleukin-immunodeficiency-sc",
        physician,
        today,
        phases=[{"dose": "5", "cycles": 2}],
    )
    request = _request(fhir.course_bundle(course))
    cycle_1, cycle_2 = request["dosageInstruction"]
    for cycle in (cycle_1, cycle_2):
        repeat = cycle["timing"]["repeat"]
        assert (repeat["count"], repeat["period"], repeat["periodUnit"]) == (5, 1, "d")
    days = [(m.date() - today).days + 1 for m in _expanded(request, course.time_zone)]
    # Leaflet 002: cycles of 5 daily doses, 14 dose-free days apart (design.md).
    assert days == [1, 2, 3, 4, 5, 20, 21, 22, 23, 24]
    assert cycle_1["route"]["coding"][0]["code"] == "34206005"
    assert cycle_1["route"]["text"] == "Subcutaneous injection"


def test_a_replanned_course_falls_back_to_the_explicit_dates(
    formulary, physician, nurse, ward, today
):
    course = prescribe(
        PatientFactory(ward=ward),
        "biocerulin-general",
        physician,
        today,
        phases=[{"dose": "60", "pattern": {"kind": "every_n_days", "n": 2}}],
    )
    second = course.doses.order_by("scheduled_at")[1]
    dose_record_not_given(
        replace=False,
        dose=second,
        status="held",
        user=nurse,
        now=second.scheduled_at,
        reason="In theatre",
    )
    course.refresh_from_db()
    bundle = fhir.course_bundle(course)
    assert_r4(bundle)
    assert _expanded(_request(bundle), course.time_zone) == _planned(course)


def test_administrations_carry_the_dispensed_lot_rate_duration_and_no_empty_note(
    formulary, physician, nurse, ward, today, stocked
):
    course = prescribe(
        PatientFactory(ward=ward),
        "ceruloplasmin-postop",
        physician,
        today,
        phases=[{"dose": "2", "count": 7}],
    )
    first, second, third = course.doses.order_by("scheduled_at")[:3]
    # No lot scanned: stock picks first-expiry-first-out; the ledger knows which.
    dose_administer(dose=first, user=nurse, now=first.scheduled_at)
    dose_record_not_given(
        replace=False,
        dose=second,
        status="held",
        user=nurse,
        now=first.scheduled_at,
        reason="Fever 39 °C",
    )
    course.refresh_from_db()
    bundle = fhir.course_bundle(course)
    assert_r4(bundle)
    request = _request(bundle)
    assert "note" not in request
    rate = request["dosageInstruction"][0]["doseAndRate"][0]["rateQuantity"]
    assert (rate["value"], rate["code"]) == (30, "{drop}/min")
    administrations = {
        e["resource"]["id"]: e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
    }
    given = administrations[str(first.pk)]
    presentation_id = Dose.objects.get(pk=first.pk).vials[0]["presentation_id"]
    (lot,) = [lot for lot in stocked.values() if lot.presentation_id == presentation_id]
    assert given["contained"][0]["batch"]["lotNumber"] == lot.lot_number
    assert given["contained"][0]["batch"]["expirationDate"] == lot.expiry_date.isoformat()
    assert given["medicationReference"] == {"reference": "#med"}
    assert given["dosage"]["rateQuantity"]["value"] == 30
    assert given["dosage"]["route"]["coding"][0]["code"] == "47625008"
    held = administrations[str(second.pk)]
    assert held["status"] == "not-done" and "Fever" in held["statusReason"][0]["text"]
    assert str(third.pk) not in administrations


def test_infusion_time_is_the_duration_and_the_period_of_the_administration(
    formulary, physician, nurse, ward, today, stocked
):
    course = prescribe(
        PatientFactory(ward=ward),
        "betaleukin-leukopoiesis-toxic-iv",
        physician,
        today,
        phases=[{"dose": "15", "cycles": 1}],
        infusion_minutes=150,
    )
    dose = course.doses.order_by("scheduled_at").first()
    dose_administer(dose=dose, user=nurse, now=dose.scheduled_at)
    course.refresh_from_db()
    bundle = fhir.course_bundle(course)
    assert_r4(bundle)
    repeat = _request(bundle)["dosageInstruction"][0]["timing"]["repeat"]
    assert (repeat["duration"], repeat["durationUnit"]) == (150, "min")
    given = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["id"] == str(dose.pk)
        and e["resource"]["resourceType"] == "MedicationAdministration"
    )
    start = dt.datetime.fromisoformat(given["effectivePeriod"]["start"])
    end = dt.datetime.fromisoformat(given["effectivePeriod"]["end"])
    assert end - start == dt.timedelta(minutes=150)


def test_patient_identifier_system_is_the_hospitals(settings, formulary, ward):
    settings.FHIR_PATIENT_IDENTIFIER_SYSTEM = "urn:oid:1.2.3.4.5.6"
    patient = PatientFactory(ward=ward, mrn="M-77")
    resource = fhir.patient_resource(patient)
    assert_r4(resource)
    assert resource["identifier"][0]["system"] == "urn:oid:1.2.3.4.5.6"
    assert resource["identifier"][0]["value"] == "M-77"


# --- Endpoints --------------------------------------------------------------------------------


@pytest.fixture
def course(formulary, physician, ward, today):
    return prescribe(
        PatientFactory(ward=ward),
        "betaleukin-immunodeficiency-sc",
        physician,
        today,
        phases=[{"dose": "5", "cycles": 2}],
    )


def test_fhir_json_is_negotiated(viewer_client, course):
    url = f"/api/v1/courses/{course.pk}/fhir/"
    fhir_json = viewer_client.get(url, HTTP_ACCEPT="application/fhir+json")
    assert fhir_json.status_code == 200
    assert fhir_json["Content-Type"].startswith("application/fhir+json")
    assert_r4(fhir_json.json())
    plain = viewer_client.get(url, HTTP_ACCEPT="application/json")
    assert plain["Content-Type"].startswith("application/json")


def test_read_endpoints_by_id_and_by_patient(viewer_client, nurse, course, today):
    patient = course.patient
    dose = course.doses.order_by("scheduled_at").first()
    dose_record_not_given(
        replace=False, dose=dose, status="held", user=nurse, now=dose.scheduled_at, reason="Asleep"
    )
    accept = {"HTTP_ACCEPT": "application/fhir+json"}
    read = viewer_client.get(f"/api/v1/fhir/Patient/{patient.pk}", **accept)
    assert read["Content-Type"].startswith("application/fhir+json")
    assert assert_r4(read.json()).id == str(patient.pk)
    request = viewer_client.get(f"/api/v1/fhir/MedicationRequest/{course.pk}", **accept).json()
    assert_r4(request)
    assert request["subject"]["reference"] == f"Patient/{patient.pk}"
    searchset = viewer_client.get(
        f"/api/v1/fhir/MedicationRequest?patient={patient.pk}", **accept
    ).json()
    assert_r4(searchset)
    assert searchset["type"] == "searchset" and searchset["total"] == 1
    administration = viewer_client.get(
        f"/api/v1/fhir/MedicationAdministration/{dose.pk}", **accept
    ).json()
    assert assert_r4(administration).status == "not-done"
    by_patient = viewer_client.get(
        f"/api/v1/fhir/MedicationAdministration?patient=Patient/{patient.pk}", **accept
    ).json()
    assert_r4(by_patient)
    assert [e["resource"]["id"] for e in by_patient["entry"]] == [str(dose.pk)]
    # A planned dose has no administration yet.
    later = course.doses.order_by("scheduled_at").last()
    assert viewer_client.get(f"/api/v1/fhir/MedicationAdministration/{later.pk}").status_code == 404


def test_fhir_endpoints_keep_ward_visibility_and_the_error_shape(nurse_client, other_ward, course):
    # The nurse belongs to no ward of this patient: another ward's ids are 404.
    other_ward.members.add(nurse_client.user)
    for url in (
        f"/api/v1/fhir/Patient/{course.patient.pk}",
        f"/api/v1/fhir/MedicationRequest/{course.pk}",
        f"/api/v1/fhir/MedicationRequest?patient={course.patient.pk}",
        "/api/v1/fhir/Patient/not-a-number",
    ):
        response = nurse_client.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["status"] == 404
    missing = nurse_client.get("/api/v1/fhir/MedicationAdministration")
    assert missing.status_code == 400
    assert "patient" in missing.json()["error"]["fields"]
    bad = nurse_client.get("/api/v1/fhir/MedicationRequest?patient=abc")
    assert bad.status_code == 400 and "patient" in bad.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("application/fhir+json", "application/fhir+json"),
        ("application/fhir+json, application/json;q=0.5", "application/json"),
        ("text/html", "application/json"),  # 406: nothing it accepts is served
    ],
)
def test_fhir_errors_are_the_error_shape_in_a_media_type_the_client_accepts(
    nurse_client, course, accept, media_type
):
    from tests.api.contract.checks import error_shape_problem

    headers = {"HTTP_ACCEPT": accept} if accept else {}
    for url in (
        "/api/v1/fhir/Patient/999999999",
        "/api/v1/fhir/MedicationRequest?patient=999999999",
        "/api/v1/fhir/MedicationAdministration",  # 400: no patient
        "/api/v1/courses/999999999/fhir/",
    ):
        response = nurse_client.get(url, **headers)
        assert response.status_code in (400, 404, 406), url
        assert response["Content-Type"].split(";")[0] == media_type, url
        assert error_shape_problem(response.status_code, response.json()) is None, url
    # An unknown `?format=` (DRF's format suffix) is a 404, answered in plain JSON.
    unknown_format = nurse_client.get("/api/v1/fhir/Patient/1?format=nope", **headers)
    assert unknown_format.status_code == 404
    assert unknown_format["Content-Type"] == "application/json"
    assert error_shape_problem(404, unknown_format.json()) is None
