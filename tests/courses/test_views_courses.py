"""Course pages: list and filters, a course with its actions and downloads, the prescribe form,
patients; permissions per role and flat query counts."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from courses.models import Course, CourseStatus, Patient, PatientWeight
from tests.courses.helpers import day_numbers, prescribe
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db

BETALEUKIN = "betaleukin-leukopoiesis-toxic-iv"


def _biocerulin(ward, physician, today, **patient):
    """Biocerulin 80 mg daily × 5 from today for a new patient of `ward`."""
    return prescribe(
        PatientFactory(ward=ward, **patient),
        "biocerulin-general",
        physician,
        today,
        phases=[{"pattern": {"kind": "daily"}, "dose": "80"}],
    )


@pytest.fixture
def course(formulary, ward, physician, today):
    return _biocerulin(ward, physician, today, name="Ada Lovelace")


@pytest.fixture
def other_course(formulary, other_ward, physician, today):
    return _biocerulin(other_ward, physician, today, name="Other Ward Patient")


def _prescription(patient, today, **extra) -> dict:
    data = {
        "patient": patient.pk,
        "protocol": BETALEUKIN,
        "start_date": today.isoformat(),
        "administration_time": "09:30",
        "phase0_cycles": "2",
        "phase0_dose": "15",
        "diluent": "",
        "infusion_minutes": "",
        "override_reason": "",
        "notes": "",
        "action": "check",
    }
    return {**data, **extra}


# --- Permissions ---------------------------------------------------------------------------------


def test_viewer_can_read_but_posts_nothing(client, roles, course):
    client.force_login(UserFactory(roles=["viewer"]))
    assert client.get("/courses/").status_code == 200
    assert client.get(f"/courses/{course.pk}/").status_code == 200
    assert client.get(f"/patients/{course.patient.pk}/").status_code == 200
    posts = {
        "/": {"dose": course.doses.first().pk, "action": "held", "reason": "x"},
        f"/courses/{course.pk}/": {"action": "cancel", "reason": "x"},
        "/courses/new/": {"action": "save"},
        "/patients/": {"name": "X"},
        f"/patients/{course.patient.pk}/": {"weight_kg": "70"},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    assert client.get("/courses/new/").status_code == 403
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE


def test_nurse_cannot_prescribe_hold_or_add_patients(client, nurse, course):
    client.force_login(nurse)
    assert client.get("/courses/new/").status_code == 403
    assert client.post("/courses/new/", {"action": "save"}).status_code == 403
    response = client.post(f"/courses/{course.pk}/", {"action": "hold", "reason": "x"})
    assert response.status_code == 403
    assert client.post("/patients/", {"name": "X"}).status_code == 403
    page = client.get(f"/courses/{course.pk}/").content.decode()
    assert "Hold course" not in page and "Prescribe a course" not in page
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE


def test_nurse_sees_only_her_wards_courses_and_patients(client, nurse, course, other_course):
    client.force_login(nurse)
    listing = client.get("/courses/").content.decode()
    assert "Ada Lovelace" in listing and "Other Ward Patient" not in listing
    assert client.get(f"/courses/{other_course.pk}/").status_code == 404
    assert client.get(f"/courses/{other_course.pk}/course.ics").status_code == 404
    assert client.get(f"/patients/{other_course.patient.pk}/").status_code == 404


def test_a_nurse_who_is_also_a_viewer_records_only_on_her_wards(client, ward, other_course):
    nurse_viewer = UserFactory(roles=["nurse", "viewer"])
    ward.members.add(nurse_viewer)
    client.force_login(nurse_viewer)
    stranger = other_course.patient
    assert client.get(f"/patients/{stranger.pk}/").status_code == 200
    assert client.post(f"/patients/{stranger.pk}/", {"weight_kg": "71"}).status_code == 404
    dose = other_course.doses.first()
    posted = client.post("/", {"dose": dose.pk, "action": "held", "reason": "x"})
    assert posted.status_code == 404
    dose.refresh_from_db()
    assert dose.status == "scheduled"


def test_nurse_records_a_weight(client, nurse, course, today):
    client.force_login(nurse)
    response = client.post(
        f"/patients/{course.patient.pk}/", {"weight_kg": "71.5", "measured_on": ""}
    )
    assert response.status_code == 302
    assert PatientWeight.objects.get(patient=course.patient, measured_on=today).weight_kg == (
        pytest.approx(71.5)
    )


# --- Course list ---------------------------------------------------------------------------------


def test_course_list_filters(client, pharmacist, course, other_course, formulary, physician, today):
    betaleukin = prescribe(
        PatientFactory(ward=course.patient.ward, name="Betty Leukin", mrn="MRN-BL"),
        BETALEUKIN,
        physician,
        today,
        phases=[{"dose": "15", "cycles": 1}],
    )
    client.force_login(pharmacist)

    def names(**params):
        page = client.get("/courses/", params).content.decode()
        return {n for n in ("Ada Lovelace", "Other Ward Patient", "Betty Leukin") if n in page}

    assert names() == {"Ada Lovelace", "Other Ward Patient", "Betty Leukin"}
    assert names(ward=other_course.patient.ward.code) == {"Other Ward Patient"}
    assert names(product="betaleukin") == {"Betty Leukin"}
    assert names(q="lovelace") == {"Ada Lovelace"}
    assert names(q="MRN-BL") == {"Betty Leukin"}
    services_cancel(betaleukin, physician)
    assert names(status="cancelled") == {"Betty Leukin"}
    assert names(status="active") == {"Ada Lovelace", "Other Ward Patient"}


def services_cancel(course, user):
    from courses.services import course_cancel

    course_cancel(course=course, user=user, reason="test")


def test_course_list_paginates_and_keeps_filters(
    client, pharmacist, formulary, ward, physician, today, monkeypatch
):
    monkeypatch.setattr("courses.views.courses.PAGE_SIZE", 2)
    for _ in range(3):
        _biocerulin(ward, physician, today)
    client.force_login(pharmacist)
    first = client.get("/courses/", {"status": "active"}).content.decode()
    assert first.count("<tr>") == 3  # header + 2 courses
    assert "status=active&amp;page=2" in first
    second = client.get("/courses/", {"status": "active", "page": 2}).content.decode()
    assert second.count("<tr>") == 2


@pytest.mark.parametrize("courses", [2, 10])
def test_course_list_query_count_stays_flat(
    client, pharmacist, formulary, ward, physician, today, courses, django_assert_max_num_queries
):
    for _ in range(courses):
        _biocerulin(ward, physician, today)
    client.force_login(pharmacist)
    client.get("/courses/")
    with django_assert_max_num_queries(8):
        response = client.get("/courses/")
    assert response.content.decode().count("Course ") >= courses


# --- Course page ---------------------------------------------------------------------------------


def test_course_page_shows_phases_doses_and_warnings(client, pharmacist, course):
    client.force_login(pharmacist)
    page = client.get(f"/courses/{course.pk}/").content.decode()
    assert "daily" in page and "80 mg" in page
    assert page.count('class="dose-row') == 5
    assert "Do not mix with other drugs" in page  # a Biocerulin warning
    assert 'class="calendar"' in page
    assert "iCalendar" in page and "FHIR" in page


def test_course_page_shows_a_dose_recorded_without_a_recorder(client, pharmacist, course):
    # Doses imported as already given (a hospital's history, the bench's generated data) carry
    # no recording user: the page showed a 500 for them (a template looked up None.username).
    dose = course.doses.order_by("sequence").first()
    recorded = timezone.now() - dt.timedelta(hours=1)
    type(dose).objects.filter(pk=dose.pk).update(
        status="given", given_at=recorded, given_amount=dose.amount, recorded_at=recorded
    )
    client.force_login(pharmacist)
    response = client.get(f"/courses/{course.pk}/")
    assert response.status_code == 200
    assert timezone.localtime(recorded).strftime("%d %b %Y %H:%M") in response.content.decode()


def test_course_page_query_count_does_not_grow_with_doses(
    client, pharmacist, formulary, ward, physician, today, django_assert_max_num_queries
):
    small = prescribe(
        PatientFactory(ward=ward),
        BETALEUKIN,
        physician,
        today,
        phases=[{"dose": "15", "cycles": 1}],
    )
    large = prescribe(
        PatientFactory(ward=ward),
        BETALEUKIN,
        physician,
        today,
        phases=[{"dose": "15", "cycles": 4}],
    )
    client.force_login(pharmacist)
    client.get(f"/courses/{small.pk}/")
    for course in (small, large):
        # 8, and 2 for the History section (its events; the names of who made them).
        with django_assert_max_num_queries(10):
            client.get(f"/courses/{course.pk}/")


def test_physician_holds_resumes_and_cancels_with_reasons(client, physician, course, today):
    client.force_login(physician)
    url = f"/courses/{course.pk}/"
    response = client.post(url, {"action": "hold", "reason": "", "on": today.isoformat()})
    assert response.status_code == 200
    assert "Say why the course is held." in response.content.decode()
    response = client.post(
        url, {"action": "hold", "reason": "Neutropenic", "on": today.isoformat()}
    )
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.status == CourseStatus.ON_HOLD and course.status_reason == "Neutropenic"
    assert 'data-confirm="Resume course' in client.get(url).content.decode()
    client.post(url, {"action": "resume", "on": today.isoformat()})
    course.refresh_from_db()
    assert course.status == CourseStatus.ACTIVE
    page = client.get(url).content.decode()
    assert 'data-confirm="Stop course' in page
    client.post(url, {"action": "cancel", "reason": "Patient discharged"})
    course.refresh_from_db()
    assert course.status == CourseStatus.CANCELLED


def test_ical_and_fhir_downloads(client, nurse, course):
    client.force_login(nurse)
    ical = client.get(f"/courses/{course.pk}/course.ics")
    assert ical["Content-Type"].startswith("text/calendar")
    assert ical.content.count(b"BEGIN:VEVENT") == 5
    fhir = client.get(f"/courses/{course.pk}/fhir.json")
    assert json.loads(fhir.content)["resourceType"] in {"MedicationRequest", "Bundle"}
    assert "attachment" in fhir["Content-Disposition"]


# --- Prescribing ---------------------------------------------------------------------------------


def test_prescribe_form_shows_the_label_ranges(client, physician, formulary):
    client.force_login(physician)
    page = client.get("/courses/new/", {"protocol": BETALEUKIN}).content.decode()
    assert "15–20 ng/kg" in page
    assert "Infusion over 120–180 min" in page
    assert 'name="phase0_cycles"' in page and 'name="phase0_dose"' in page
    assert "<optgroup" in page  # protocols grouped by product


def _patient_options(page: str) -> list[str]:
    select = page[
        page.index('name="patient"') : page.index("</select>", page.index('name="patient"'))
    ]
    return [
        chunk.split(">", 1)[1].split("<", 1)[0].split(" · ")[0]
        for chunk in select.split("<option")[1:]
        if 'value=""' not in chunk
    ]


def test_prescribe_lists_every_patient_up_to_the_limit_then_finds_them(
    client, physician, formulary, ward, today, settings
):
    ada, bob, cy = (PatientFactory(ward=ward, name=name) for name in ("Ada A", "Bob B", "Cy C"))
    client.force_login(physician)
    settings.PRESCRIBE_PATIENTS_LISTED = 3
    page = client.get("/courses/new/").content.decode()
    assert _patient_options(page) == ["Ada A", "Bob B", "Cy C"]
    assert 'name="find"' not in page  # a short list needs no search
    settings.PRESCRIBE_PATIENTS_LISTED = 2
    page = client.get("/courses/new/").content.decode()
    assert _patient_options(page) == []
    assert "Too many patients to list them all" in page and 'name="find"' in page
    page = client.get("/courses/new/", {"find": "bob", "protocol": BETALEUKIN}).content.decode()
    assert _patient_options(page) == ["Bob B"]
    assert "1 patient matches: choose below." in page
    assert f'name="protocol" value="{BETALEUKIN}"' in page  # the search keeps the protocol
    page = client.get("/courses/new/", {"find": cy.mrn}).content.decode()
    assert _patient_options(page) == ["Cy C"]
    page = client.get("/courses/new/", {"find": "zz"}).content.decode()
    assert _patient_options(page) == [] and "No patient matches." in page
    # From the patient's page: that patient is listed and chosen.
    page = client.get("/courses/new/", {"patient": ada.pk}).content.decode()
    assert _patient_options(page) == ["Ada A"] and f'value="{ada.pk}" selected' in page
    # Any patient the prescriber may see is accepted, listed or not, and stays chosen.
    response = client.post("/courses/new/", _prescription(bob, today))
    page = response.content.decode()
    assert "10 planned doses" in page and _patient_options(page) == ["Bob B"]


def test_check_shows_betaleukin_dates_and_saves_nothing(client, physician, formulary, ward, today):
    patient = PatientFactory(ward=ward)
    client.force_login(physician)
    response = client.post("/courses/new/", _prescription(patient, today))
    assert response.status_code == 200
    page = response.content.decode()
    assert "10 planned doses" in page
    for day in (*range(1, 6), *range(20, 25)):
        assert f"day {day}<" in page
    assert "day 6<" not in page
    assert "No hard stop" in page
    assert not Course.objects.exists()


def test_save_prescribes_and_redirects_to_the_course(client, physician, formulary, ward, today):
    patient = PatientFactory(ward=ward)
    client.force_login(physician)
    response = client.post("/courses/new/", _prescription(patient, today, action="save"))
    course = Course.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/courses/{course.pk}/"
    assert day_numbers(course) == [1, 2, 3, 4, 5, 20, 21, 22, 23, 24]
    assert course.administration_time == dt.time(9, 30)


def test_errors_are_shown_next_to_the_input_and_nothing_typed_is_lost(
    client, physician, formulary, ward, today
):
    patient = PatientFactory(ward=ward, weight_kg=False)  # unweighed: a per-kg dose cannot be set
    client.force_login(physician)
    response = client.post(
        "/courses/new/",
        _prescription(patient, today, phase0_cycles="3", notes="Keep me", action="save"),
    )
    page = response.content.decode()
    assert "A per-kg dose needs the patient&#x27;s weight." in page
    assert 'name="phase0_cycles" value="3"' in page
    assert "Keep me" in page
    response = client.post(
        "/courses/new/", _prescription(patient, today, phase0_dose="", action="check")
    )
    assert "This field is required." in response.content.decode()
    assert not Course.objects.exists()


def test_hard_stop_shown_before_saving_and_override_needs_a_physicians_reason(
    client, physician, pharmacist, formulary, ward, today
):
    patient = PatientFactory(ward=ward, pregnant=True, pregnancy_trimester=2)
    client.force_login(physician)
    check = client.post("/courses/new/", _prescription(patient, today)).content.decode()
    assert "Hard stops" in check and "not to be given in pregnancy" in check
    assert "10 planned doses" in check  # the plan is shown with the stop
    refused = client.post("/courses/new/", _prescription(patient, today, action="save"))
    assert refused.status_code == 200 and not Course.objects.exists()
    client.force_login(pharmacist)
    response = client.post(
        "/courses/new/", _prescription(patient, today, action="save", override_reason="MDT agreed")
    )
    assert "Only a physician can override a hard stop." in response.content.decode()
    assert not Course.objects.exists()
    client.force_login(physician)
    response = client.post(
        "/courses/new/", _prescription(patient, today, action="save", override_reason="MDT agreed")
    )
    course = Course.objects.get()
    assert response.status_code == 302
    assert course.override_reason == "MDT agreed" and course.overridden_by == physician
    page = client.get(f"/courses/{course.pk}/").content.decode()
    assert "Hard stops overridden" in page and "MDT agreed" in page


def test_anchored_protocol_takes_its_dates(client, physician, formulary, ward, today):
    patient = PatientFactory(ward=ward, birth_date=today.replace(year=today.year - 8))
    client.force_login(physician)
    page = client.get(
        "/courses/new/", {"protocol": "ceruloplasmin-child-toxic-anaemia"}
    ).content.decode()
    assert 'name="anchor_chemotherapy_dates"' in page
    dates = [today + dt.timedelta(days=d) for d in (1, 8, 15)]
    data = {
        "patient": patient.pk,
        "protocol": "ceruloplasmin-child-toxic-anaemia",
        "start_date": today.isoformat(),
        "administration_time": "10:00",
        "anchor_chemotherapy_dates": ", ".join(d.isoformat() for d in dates),
        "action": "check",
    }
    page = client.post("/courses/new/", data).content.decode()
    assert "3 planned doses" in page
    bad = client.post("/courses/new/", {**data, "anchor_chemotherapy_dates": "next week"})
    assert "Dates are YYYY-MM-DD." in bad.content.decode()


def test_prescriber_only_sees_patients_and_protocol_reloads_keep_input(
    client, physician, formulary, ward, today
):
    patient = PatientFactory(ward=ward, name="Kept Patient")
    client.force_login(physician)
    response = client.post(
        "/courses/new/",
        {
            "patient": patient.pk,
            "protocol": BETALEUKIN,
            "administration_time": "09:30",
            "phase0_dose": "80",
            "action": "load",
        },
    )
    page = response.content.decode()
    assert f'<option value="{patient.pk}" selected>' in page
    assert 'value="09:30"' in page
    assert "This field is required" not in page
    assert 'name="phase0_dose" value="80"' not in page  # another protocol's dose is not kept


# --- Patients ------------------------------------------------------------------------------------


def test_physician_adds_a_patient_with_a_weight(client, physician, ward, today):
    client.force_login(physician)
    data = {
        "name": "New Patient",
        "mrn": "MRN-NEW",
        "birth_date": "1970-01-02",
        "sex": "male",
        "ward": ward.pk,
        "weight_kg": "82.5",
        "measured_on": today.isoformat(),
    }
    response = client.post("/patients/", data)
    patient = Patient.objects.get(mrn="MRN-NEW")
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.pk}/"
    assert patient.weights.get().weight_kg == pytest.approx(82.5)
    duplicate = client.post("/patients/", data).content.decode()
    assert "already exists" in duplicate and 'value="New Patient"' in duplicate


def test_pregnancy_needs_a_trimester(client, physician, ward):
    client.force_login(physician)
    response = client.post(
        "/patients/",
        {
            "name": "P",
            "mrn": "MRN-P",
            "birth_date": "1990-01-01",
            "sex": "female",
            "ward": ward.pk,
            "pregnant": "on",
        },
    )
    assert "Give trimester 1–3 when pregnant." in response.content.decode()
    assert not Patient.objects.filter(mrn="MRN-P").exists()


def test_weight_out_of_range_is_refused_in_place(client, physician, course):
    client.force_login(physician)
    response = client.post(f"/patients/{course.patient.pk}/", {"weight_kg": "900"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "kg." in page and 'value="900"' in page


def test_weight_in_the_future_is_refused(client, physician, course):
    client.force_login(physician)
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client.post(
        f"/patients/{course.patient.pk}/", {"weight_kg": "70", "measured_on": tomorrow}
    )
    assert "cannot be measured in the future" in response.content.decode()


def test_three_per_week_takes_the_chosen_weekdays(client, physician, formulary, ward, today):
    patient = PatientFactory(ward=ward)
    client.force_login(physician)
    protocol = "biocerulin-chemotherapy"
    page = client.get("/courses/new/", {"protocol": protocol}).content.decode()
    assert 'name="phase0_weekdays"' in page and "1–1.5 mg/kg" in page
    data = {
        "patient": patient.pk,
        "protocol": protocol,
        "start_date": today.isoformat(),
        "administration_time": "10:00",
        "phase0_count": "10",
        "phase0_dose": "1",
        "phase0_weekdays": ["1", "3", "5"],
        "action": "save",
    }
    client.post("/courses/new/", data)
    course = Course.objects.get()
    assert course.phases.get().pattern["weekdays"] == [1, 3, 5]
    weekdays = {
        d.scheduled_at.astimezone(timezone.get_current_timezone()).weekday()
        for d in course.doses.all()
    }
    assert weekdays == {1, 3, 5}


def test_a_birth_date_in_the_future_is_shown_on_the_patient_form(client, physician, ward, today):
    client.force_login(physician)
    tomorrow = today + dt.timedelta(days=1)
    data = {"mrn": "FUT-1", "name": "Not Born", "birth_date": tomorrow, "sex": "female"}
    response = client.post("/patients/", {**data, "ward": ward.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["birth_date"] == [
        "A birth date cannot be in the future."
    ]
    assert "A birth date cannot be in the future." in response.content.decode()
    assert not Patient.objects.filter(mrn="FUT-1").exists()
