"""Course pages in real Chromium: prescribing Betaleukin (checked before saving), a hard stop
overridden with a reason, the course page with its calendar, the list and a patient."""

import pytest

from courses.models import Course
from tests.courses.helpers import day_numbers
from tests.e2e.conftest import ARTIFACTS
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

BETALEUKIN = "betaleukin-leukopoiesis-toxic-iv"


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _choose(page, patient, cycles: str, dose: str) -> None:
    page.goto(page.base_url + "/courses/new/")
    page.select_option("#id_patient", str(patient.pk))
    # Choosing the protocol reloads the form with its own fields (app.js data-reload).
    with page.expect_navigation():
        page.select_option("#id_protocol", BETALEUKIN)
    assert "15–20 ng/kg" in page.inner_text(".label-ranges")
    page.fill("#id_phase0_cycles", cycles)
    page.fill("#id_phase0_dose", dose)


def test_physician_prescribes_betaleukin_and_sees_its_10_dates(
    page, sign_in, formulary, ward, today
):
    physician = UserFactory(username="phoebe", first_name="Phoebe", roles=["physician"])
    patient = PatientFactory(ward=ward, name="Ada Lovelace", mrn="MRN-4711")
    sign_in(physician)
    _choose(page, patient, cycles="2", dose="15")

    page.click("button[value=check]")
    verdicts = page.locator(".verdicts")
    assert "No hard stop" in verdicts.inner_text()
    assert "10 planned doses" in verdicts.inner_text()
    days = [t.strip() for t in page.locator("table.planned td[data-label=Day]").all_inner_texts()]
    assert days == [f"day {d}" for d in (1, 2, 3, 4, 5, 20, 21, 22, 23, 24)]
    assert page.input_value("#id_phase0_cycles") == "2"  # nothing typed is lost
    _shot(page, "prescribe_checked")
    page.set_viewport_size({"width": 800, "height": 1000})
    _shot(page, "prescribe_checked_tablet_800")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert not Course.objects.exists()

    page.click("button[value=save]")
    page.wait_for_selector(".msg.success")
    course = Course.objects.get()
    assert page.url.endswith(f"/courses/{course.pk}/")
    assert day_numbers(course) == [1, 2, 3, 4, 5, 20, 21, 22, 23, 24]
    assert page.locator("table.doses tr.dose-row").count() == 10
    assert page.locator("table.calendar a.badge").count() == 10
    _shot(page, "course_page")

    page.click("header.top nav >> text=Courses")
    assert "Ada Lovelace" in page.inner_text("table.courses")
    _shot(page, "course_list")


def test_hard_stop_shown_before_saving_then_overridden_with_a_reason(
    page, sign_in, formulary, ward, today
):
    physician = UserFactory(username="paul", roles=["physician"])
    patient = PatientFactory(ward=ward, name="Mary Expecting", pregnant=True, pregnancy_trimester=2)
    sign_in(physician)
    _choose(page, patient, cycles="1", dose="15")

    page.click("button[value=check]")
    stop = page.locator(".verdict.stop")
    assert "not to be given in pregnancy" in stop.inner_text()
    page.click("button[value=save]")  # no reason: refused, nothing saved
    assert "not to be given in pregnancy" in page.inner_text(".verdicts")
    assert not Course.objects.exists()

    page.fill("#id_override_reason", "Life-threatening leukopenia; MDT and patient agreed")
    page.click("button[value=save]")
    page.wait_for_selector(".msg.success")
    course = Course.objects.get()
    assert course.override_reason.startswith("Life-threatening")
    assert "Hard stops overridden" in page.inner_text(".checks")
    _shot(page, "course_page_override")


def test_physician_holds_a_course_after_confirming(page, sign_in, formulary, ward, today):
    from tests.courses.helpers import prescribe

    physician = UserFactory(username="hana", roles=["physician"])
    course = prescribe(
        PatientFactory(ward=ward),
        "biocerulin-general",
        physician,
        today,
        phases=[{"pattern": {"kind": "daily"}, "dose": "80"}],
    )
    sign_in(physician)
    page.goto(page.base_url + f"/courses/{course.pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.fill("#hold-reason", "Awaiting blood count")
    page.click("text=Hold course")
    page.wait_for_selector(".msg.success")
    assert "On hold" in page.inner_text("h1")


def test_physician_adds_a_patient_and_records_a_weight(page, sign_in, ward, roles):
    physician = UserFactory(username="pia", roles=["physician"])
    sign_in(physician)
    page.goto(page.base_url + "/patients/")
    _shot(page, "patient_list")
    page.fill("#id_name", "Grace Hopper")
    page.fill("#id_mrn", "MRN-1906")
    page.fill("#id_birth_date", "1956-12-09")
    page.select_option("#id_ward", str(ward.pk))
    page.click("text=Add patient")
    page.wait_for_selector(".msg.success")
    page.fill("#id_weight_kg", "64.5")
    page.click("text=Record weight")
    page.wait_for_selector(".msg.success")
    assert "64.50 kg" in page.inner_text("main")
    _shot(page, "patient_page")
