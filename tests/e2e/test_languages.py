"""The main ward flow in real Chromium in both languages: a browser set to Ukrainian gets the
sign-in page, Today and its refusals in Ukrainian; the nurse's own choice on the Settings page
wins over the browser. Screenshots of each language go to test-artifacts/screenshots/."""

import pytest

from tests.courses.helpers import prescribe
from tests.e2e.conftest import ARTIFACTS
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ukrainian_page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="uk-UA")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.base_url = live_server.url
    yield page
    context.close()
    assert errors == []


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _nurse_signs_in_with_a_dose(page, ward, physician, today, username, *, shoot=False):
    """A nurse of `ward` with a daily Biocerulin 80 mg patient signs in on the Ukrainian page;
    the first dose."""
    nurse = UserFactory(username=username, roles=["nurse"])
    ward.members.add(nurse)
    course = prescribe(
        PatientFactory(ward=ward, name="Olena Kovalenko"),
        "biocerulin-general",
        physician,
        today,
        phases=[{"pattern": {"kind": "daily"}, "dose": "80"}],
    )
    page.goto(page.base_url + "/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "uk"
    if shoot:
        shot(page, "language_uk_sign_in")
    page.fill("#id_username", nurse.username)
    page.fill("#id_password", "pw-for-tests-only")
    page.click("main button[type=submit]")
    page.wait_for_selector("header.top")
    return course.doses.order_by("sequence").first()


def test_a_nurse_works_in_ukrainian_then_switches_to_english(
    ukrainian_page, roles, ward, physician, today, formulary
):
    page = ukrainian_page
    dose = _nurse_signs_in_with_a_dose(page, ward, physician, today, "oksana", shoot=True)
    assert "Сьогодні" in page.inner_text("nav") and "Вийти" in page.inner_text("header.top")

    form = page.locator(f"form:has(input[name=dose][value='{dose.pk}'])")
    form.locator("button[value=refused]").click()
    page.wait_for_selector(".record-row.has-error")
    assert "Вкажіть, чому дозу не введено." in page.inner_text(".record-row.has-error")
    shot(page, "language_uk_today_refusal")
    page.fill(f"#reason-{dose.pk}", "Пацієнтка відмовилась")
    form = page.locator(f"form:has(input[name=dose][value='{dose.pk}'])")
    form.locator("input[name=replace][value=no]").check()
    form.locator("button[value=refused]").click()
    page.wait_for_selector(".msg.success")
    assert "записано як «відмова»" in page.inner_text(".msg.success")
    assert page.locator(f"#dose-{dose.pk} .badge").inner_text() == "Відмова"
    shot(page, "language_uk_today")

    page.click("text=Налаштування")
    shot(page, "language_uk_settings")
    page.select_option("#id_language", "en-gb")
    page.click("main button[type=submit]")
    page.wait_for_selector(".msg.success")
    assert page.inner_text(".msg.success") == "Settings saved."
    page.goto(page.base_url + "/")
    assert page.locator("html").get_attribute("lang") == "en-gb"
    assert page.locator(f"#dose-{dose.pk} .badge").inner_text() == "Refused"
    assert "Sign out" in page.inner_text("header.top")
    shot(page, "language_en_today")


def test_a_nurse_reads_the_preparation_and_label_in_ukrainian(
    ukrainian_page, roles, ward, physician, today, formulary, stocked
):
    """The dose preparation (steps, containers, suggested lot) and the printable label in
    Ukrainian, screenshots of both."""
    page = ukrainian_page
    dose = _nurse_signs_in_with_a_dose(page, ward, physician, today, "iryna")
    steps = page.locator(f"#dose-{dose.pk} details.prep-steps")
    steps.locator("summary").click()
    text = steps.inner_text()
    assert "Візьміть: 1 флакон по 100 мг (разом 100 мг)." in text
    assert "Рекомендовано: серія" in text and "0,4 мг/мл" not in text  # 100 mg in 200 ml
    assert "0,5 мг/мл" in text and "Take" not in text and "Dissolve" not in text
    shot(page, "language_uk_today_preparation")
    page.goto(page.base_url + f"/doses/{dose.pk}/label/")
    label = page.locator(f"#label-{dose.pk}").inner_text()
    assert "1 флакон по 100 мг" in label and "vial" not in label
    shot(page, "language_uk_label")
