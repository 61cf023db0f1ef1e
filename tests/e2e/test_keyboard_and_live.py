"""Today from the keyboard and kept current: the Tab presses from the top of the page to the first
"Given" button, and a second nurse's page showing the first nurse's recording without a reload."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from courses.models import DoseStatus
from tests.courses.helpers import prescribe_daily_at
from tests.e2e.conftest import ARTIFACTS
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

FOCUSED = """() => {
  const el = document.activeElement;
  return el ? (el.tagName + '|' + (el.id || '') + '|' + (el.textContent || '').trim().slice(0, 40)) : '';
}"""


@pytest.fixture
def due_dose(roles, stocked, ward, physician, today):
    """A dose due now on `ward` (one presentation, so its row has the lot box)."""
    now = timezone.localtime()
    course = prescribe_daily_at(
        PatientFactory(ward=ward, name="Ada Lovelace"),
        physician,
        today,
        dt.time(now.hour, now.minute),
    )
    return course.doses.order_by("sequence").first()


def count_tabs_to_given(page, dose) -> int:
    given = page.locator(
        f"form:has(input[name=dose][value='{dose.pk}']) button[value=given]"
    ).element_handle()
    page.keyboard.press("Tab")
    tabs = 1
    first = page.evaluate(FOCUSED)
    assert first.startswith("A||Skip to the first dose to record"), first
    page.keyboard.press("Enter")  # follow the skip link (Enter is not a Tab)
    path = [first, "Enter: " + page.evaluate(FOCUSED)]
    while not page.evaluate("el => document.activeElement === el", given) and tabs < 40:
        page.keyboard.press("Tab")
        tabs += 1
        path.append(page.evaluate(FOCUSED))
    print(path)
    assert page.evaluate("el => document.activeElement === el", given)
    return tabs


def test_tab_presses_from_the_top_of_today_to_given(page, sign_in, ward, due_dose):
    """With JavaScript the page opens with the focus in the scan box (barcode scanners type into
    it): that is where a keyboard user starts. The skip link follows it; its target is the first
    dose's lot box, then "Given at", "Reason", the re-add choice, Given."""
    nurse = UserFactory(username="kira", roles=["nurse"])
    ward.members.add(nurse)
    sign_in(nurse)
    page.goto(page.base_url + "/")
    expect(page.locator("#scan")).to_be_focused()
    tabs = count_tabs_to_given(page, due_dose)
    print(f"Tab presses from the scan box (focus on load) to the first Given button: {tabs}")
    assert tabs <= 5
    # Focus is visible on the button: the app's 3 px ring, not the browser's faint default.
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineWidth") == "3px"


def test_tab_presses_from_the_document_top_without_javascript(browser, live_server, ward, due_dose):
    """Without JavaScript nothing takes the focus: the first Tab is the page's first skip link."""
    nurse = UserFactory(username="kara", roles=["nurse"])
    ward.members.add(nurse)
    context = browser.new_context(
        viewport={"width": 800, "height": 1000}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "kara")
    page.fill("#id_password", "pw-for-tests-only")
    page.click("button[type=submit]")
    page.wait_for_selector(f"#dose-{due_dose.pk}")
    assert page.evaluate("() => document.activeElement === document.body")
    tabs = count_tabs_to_given(page, due_dose)
    print(f"Tab presses from the top of Today (no JavaScript) to the first Given button: {tabs}")
    context.close()
    assert tabs <= 5


def test_skip_to_main_content_on_every_page(page, sign_in, ward, due_dose):
    nurse = UserFactory(username="lena", roles=["nurse"])
    ward.members.add(nurse)
    sign_in(nurse)
    page.goto(page.base_url + "/courses/")
    page.evaluate("() => document.activeElement.blur()")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED).startswith("A||Skip to main content")
    assert page.locator(".skip-link").first.is_visible()  # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


def three_hours_overdue(ward, physician, today):
    """Grace Hopper's daily course on `ward`, its first dose due 3 hours ago today (overdue)."""
    earlier = timezone.localtime() - dt.timedelta(hours=3)
    if earlier.date() != today:
        pytest.skip("the test needs a dose 3 hours ago today; run after 03:00")
    return prescribe_daily_at(
        PatientFactory(ward=ward, name="Grace Hopper"),
        physician,
        today,
        dt.time(earlier.hour, earlier.minute),
    )


def today_with_a_clock(browser, live_server, username):
    """A second tablet (800 px) signed in as `username` on Today, its clock under the test's
    control: the page's 30-second timer is moved on by the test instead of waited for."""
    context = browser.new_context(viewport={"width": 800, "height": 1000}, locale="en-GB")
    other = context.new_page()
    other.set_default_timeout(15_000)
    errors = []
    other.on("pageerror", lambda exc: errors.append(str(exc)))
    other.clock.install()
    other.goto(live_server.url + "/accounts/login/")
    other.fill("#id_username", username)
    other.fill("#id_password", "pw-for-tests-only")
    other.click("button[type=submit]")
    return context, other, errors


def test_a_second_nurse_sees_the_recording_without_reloading(
    page, browser, live_server, sign_in, ward, stocked, physician, today
):
    # The dose was due 3 hours ago: it is overdue (counted), and recording it needs a reason.
    dose = three_hours_overdue(ward, physician, today).doses.order_by("sequence").first()
    first = UserFactory(username="olga", roles=["nurse"])
    second = UserFactory(username="petra", roles=["nurse"])
    ward.members.add(first, second)

    other_context, other, errors = today_with_a_clock(browser, live_server, "petra")
    other.wait_for_selector(f"#dose-{dose.pk}")
    overdue = other.locator("[data-counter='0'] strong")
    assert overdue.inner_text() == "1"
    assert other.locator(f"#dose-{dose.pk} .badge").inner_text() == "Overdue"

    sign_in(first)
    form = page.locator(f"form:has(input[name=dose][value='{dose.pk}'])")
    form.locator(f"#lot-{dose.pk}").fill(stocked["biocerulin-100mg-vial-5"].lot_number)
    form.locator(f"#reason-{dose.pk}").fill("Patient was in theatre")
    form.locator("button[value=given]").click()
    page.wait_for_selector(".msg.success")
    dose.refresh_from_db()
    assert dose.status == DoseStatus.GIVEN

    # Nothing changes on the second page until its next poll, at most 30 s later.
    assert other.locator(f"#dose-{dose.pk} .badge").inner_text() == "Overdue"
    other.clock.fast_forward(30_000)
    other.wait_for_function(
        f"() => document.querySelector('#dose-{dose.pk} .badge').textContent === 'Given'"
    )
    assert overdue.inner_text() == "0"
    assert "status-given" in other.locator(f"#dose-{dose.pk} .badge").get_attribute("class")
    assert other.locator(f"[data-record-for='{dose.pk}'] button[value=given]").is_disabled()
    assert "Recorded by another user" in other.inner_text(f"[data-record-for='{dose.pk}']")
    assert "Brought up to date" in other.inner_text("[data-live-status]")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    other.screenshot(path=str(ARTIFACTS / "today_live_second_nurse_800.png"), full_page=True)
    other_context.close()
    assert errors == []


def test_a_refused_form_is_announced_and_its_errors_tied_to_the_fields(page, sign_in, physician):
    sign_in(physician)
    page.goto(page.base_url + "/patients/")
    page.click("button:text('Add patient')")
    banner = page.locator(".msg.not-saved")
    assert banner.get_attribute("role") == "alert" and "Not saved." in banner.inner_text()
    # The focus moves to the first field in error; what it is described by is its error text.
    focused = page.evaluate(
        """() => {
          const el = document.activeElement;
          const ids = (el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
          return {invalid: el.getAttribute('aria-invalid'),
                  described: ids.map(id => document.getElementById(id).textContent.trim())};
        }"""
    )
    assert focused["invalid"] == "true"
    assert any("required" in text.lower() for text in focused["described"]), focused


def test_a_refused_dose_record_ties_the_reason_error_to_its_box(page, sign_in, ward, due_dose):
    nurse = UserFactory(username="rita", roles=["nurse"])
    ward.members.add(nurse)
    sign_in(nurse)
    form = page.locator(f"form:has(input[name=dose][value='{due_dose.pk}'])")
    form.locator("button[value=refused]").click()
    page.wait_for_selector(".msg.not-saved")
    reason = page.locator(f"#reason-{due_dose.pk}")
    assert reason.get_attribute("aria-invalid") == "true"
    error_id = reason.get_attribute("aria-describedby")
    assert "Say why the dose was not given." in page.inner_text(f"#{error_id}")


def test_a_newly_prescribed_dose_appears_and_a_cancelled_one_goes_without_reloading(
    page, browser, live_server, sign_in, ward, stocked, physician, today
):
    """One page prescribes (a physician, through the prescribe page); a nurse's Today, loaded
    before, lists the new dose and drops a cancelled one at its next poll, counters and ward
    heading matching a fresh load, and what she was typing into another dose's form kept."""
    from courses.models import Dose
    from courses.services import course_cancel

    overdue_course = three_hours_overdue(ward, physician, today)
    overdue = overdue_course.doses.order_by("sequence").first()
    now = timezone.localtime()
    kept = (
        prescribe_daily_at(
            PatientFactory(ward=ward, name="Ada Lovelace"),
            physician,
            today,
            dt.time(now.hour, now.minute),
        )
        .doses.order_by("sequence")
        .first()
    )
    newcomer = PatientFactory(ward=ward, name="Mary Newcome", mrn="MRN-NEW-1")
    nurse = UserFactory(username="nadia", roles=["nurse"])
    ward.members.add(nurse)

    context, other, errors = today_with_a_clock(browser, live_server, "nadia")
    other.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    other.wait_for_selector(f"#dose-{overdue.pk}")
    assert other.locator("[data-counter='0'] strong").inner_text() == "1"
    assert "2 doses" in other.inner_text("#ward-ward-3a")
    other.fill(f"#reason-{kept.pk}", "Typed before the update")

    # The physician prescribes Betaleukin for a patient of the same ward: its first dose is today.
    sign_in(UserFactory(username="philip", roles=["physician"]))
    page.goto(page.base_url + "/courses/new/")
    page.select_option("#id_patient", str(newcomer.pk))
    with page.expect_navigation():
        page.select_option("#id_protocol", "betaleukin-leukopoiesis-toxic-iv")
    page.fill("#id_phase0_cycles", "1")
    page.fill("#id_phase0_dose", "15")
    # At this minute, not the form's 10:00: after noon a 10:00 dose is already overdue, and the
    # overdue counter below would count it (this test failed in a CI run at 12:48).
    page.fill("#id_administration_time", f"{now:%H:%M}")
    page.click("button[value=save]")
    page.wait_for_selector(".msg.success")
    added = Dose.objects.get(course__patient=newcomer, scheduled_at__date=today)
    course_cancel(course=overdue_course, user=physician, reason="Stopped by the MDT")

    # Nothing changes on the nurse's page until its next poll, at most 30 s later.
    assert other.locator(f"#dose-{added.pk}").count() == 0
    other.locator(f"#reason-{kept.pk}").focus()
    other.clock.fast_forward(30_000)
    other.wait_for_selector(f"#dose-{added.pk}")
    other.wait_for_selector(f"#dose-{overdue.pk}", state="detached")
    assert "Mary Newcome" in other.inner_text(f"#dose-{added.pk}")
    assert "live-added" in other.get_attribute(f"#dose-{added.pk}", "class")
    assert other.locator(f"[data-record-for='{added.pk}'] button[value=given]").count() == 1
    assert other.input_value(f"#reason-{kept.pk}") == "Typed before the update"
    assert other.evaluate("() => document.activeElement.id") == f"reason-{kept.pk}"
    assert "the list of doses changed" in other.inner_text("[data-live-status]")
    live = {
        "counters": other.locator("[data-counter] strong").all_inner_texts(),
        "heading": other.inner_text("#ward-ward-3a"),
        "rows": sorted(other.eval_on_selector_all("tr.dose-row", "rows => rows.map(r => r.id)")),
    }
    assert live["counters"][0] == "0"  # the overdue dose was cancelled
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    other.screenshot(path=str(ARTIFACTS / "today_live_new_dose_800.png"), full_page=True)
    other.reload()
    assert live == {
        "counters": other.locator("[data-counter] strong").all_inner_texts(),
        "heading": other.inner_text("#ward-ward-3a"),
        "rows": sorted(other.eval_on_selector_all("tr.dose-row", "rows => rows.map(r => r.id)")),
    }
    context.close()
    assert errors == []
