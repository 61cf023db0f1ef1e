"""Every page at the widths wards use (1280 px desktop, 800 px tablet): axe-core's WCAG 2.2 A/AA
rules find nothing, nothing makes the page scroll sideways, and a screenshot of each is kept in
test-artifacts/screenshots/pages/ to be looked at."""

import json

import pytest

from tests.e2e.axe import axe_violations, horizontal_overflow
from tests.e2e.conftest import ARTIFACTS, signed_in

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (1280, 800)


def check_pages(page, paths, prefix, language):
    found = {}
    (ARTIFACTS / "pages").mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in paths.items():
            page.expected_error_urls.add(page.base_url + path)  # 403/404 pages are the point here
            page.goto(page.base_url + path)
            check_current_page(page, f"{prefix}{name}", language, width, found)
    return found


@pytest.mark.parametrize(
    ("page", "language"), [("en-GB", "en-gb"), ("uk", "uk")], indirect=["page"]
)
def test_every_page_passes_axe_at_both_widths(page, demo, language):
    """In both languages: the browser is set to the language, as a ward tablet would be."""
    course, patient, dose, lot = demo["course"], demo["patient"], demo["dose"], demo["lot"]
    signed_in(page, "pharmacist")
    paths = {
        "today": "/",
        "courses": "/courses/",
        "prescribe": "/courses/new/",
        "course": f"/courses/{course.pk}/",
        "patients": "/patients/",
        "patient": f"/patients/{patient.pk}/",
        "label": f"/doses/{dose.pk}/label/",
        "labels": "/labels/",
        "formulary": "/formulary/",
        "leaflet": "/leaflets/biocerulin/",
        "stock": "/stock/",
        "receive": "/stock/receive/",
        "forecast": "/stock/forecast/",
        "lot": f"/stock/lots/{lot.pk}/",
        "cold-chain": f"/cold-chain/?location={demo['fridge'].pk}&period=24h",
        "alerts": "/alerts/",
        "audit": "/audit/",
        "not-found": "/no-such-page/",
    }
    found = check_pages(page, paths, f"{language}-pharmacist-", language)
    page.context.clear_cookies()
    signed_in(page, "nurse")
    found.update(
        check_pages(page, {"today": "/", "forbidden": "/audit/"}, f"{language}-nurse-", language)
    )
    page.context.clear_cookies()
    found.update(
        check_pages(page, {"sign-in": "/accounts/login/"}, f"{language}-anonymous-", language)
    )
    report = ARTIFACTS / "pages" / f"axe-report-{language}.json"
    report.write_text(json.dumps(found, indent=1))
    assert found == {}, f"see {report}"


def checked_prescription(page, patient, language):
    """The prescribe page after "Check": Betaleukin for a pregnant patient shows a hard stop
    (pregnancy) and the leaflet's warnings (expected fever), above the planned dates."""
    page.goto(page.base_url + "/courses/new/")
    page.select_option("#id_patient", str(patient.pk))
    with page.expect_navigation():  # choosing the protocol reloads the form with its fields
        page.select_option("#id_protocol", "betaleukin-leukopoiesis-toxic-iv")
    page.fill("#id_phase0_cycles", "1")
    page.fill("#id_phase0_dose", "15")
    page.click("button[value=check]")
    page.wait_for_selector(".verdict.stop")
    assert page.locator(".verdict.warn").count() == 1


def check_current_page(page, name, language, width, found):
    """axe and overflow on the page the browser is showing (reached by a form, not a link)."""
    assert page.get_attribute("html", "lang") == language, f"{name} is not in {language}"
    page.screenshot(path=str(ARTIFACTS / "pages" / f"{name}-{width}.png"), full_page=True)
    problems = axe_violations(page)
    overflow = horizontal_overflow(page)
    if problems or overflow:
        found[f"{name} @ {width}px"] = {"axe": problems, "overflow": overflow}


@pytest.mark.parametrize(
    ("page", "language"), [("en-GB", "en-gb"), ("uk", "uk")], indirect=["page"]
)
def test_admin_unsubscribe_lockout_and_a_checked_prescription_pass_axe(
    page, demo, language, settings
):
    """The pages reached by a form or an e-mail, and the Django admin, in both languages."""
    from courses.models import Course
    from notifications.services import digest_unsubscribe_url
    from tests.factories import PatientFactory

    settings.AXES_FAILURE_LIMIT = 2  # the lockout page after two wrong passwords, not ten
    course, lot = demo["course"], demo["lot"]
    pregnant = PatientFactory(
        ward=demo["patient"].ward, name="Maria Expecting", pregnant=True, pregnancy_trimester=2
    )
    unsubscribe = digest_unsubscribe_url("nurse@hospital.invalid").split("/alerts/", 1)[1]
    (ARTIFACTS / "pages").mkdir(parents=True, exist_ok=True)
    found = {}
    signed_in(page, "admin")
    found.update(
        check_pages(
            page,
            {
                "admin": "/admin/",
                "admin-lots": "/admin/inventory/lot/",
                "admin-lot": f"/admin/inventory/lot/{lot.pk}/change/",
                "admin-courses": "/admin/courses/course/",
                "admin-course": f"/admin/courses/course/{course.pk}/change/",
                "admin-patient": f"/admin/courses/patient/{demo['patient'].pk}/change/",
                "admin-product": f"/admin/inventory/product/{lot.presentation.product_id}/change/",
            },
            f"{language}-",
            language,
        )
    )
    page.context.clear_cookies()
    found.update(
        check_pages(
            page, {"unsubscribe": f"/alerts/{unsubscribe}"}, f"{language}-anonymous-", language
        )
    )
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(page.base_url + f"/alerts/{unsubscribe}")
        page.click("button[type=submit]")
        page.wait_for_selector("#unsubscribed")
        check_current_page(page, f"{language}-anonymous-unsubscribed", language, width, found)

        page.context.clear_cookies()
        for _attempt in range(2):
            page.goto(page.base_url + "/accounts/login/")
            page.fill("#id_username", "viewer")
            page.fill("#id_password", "not-the-password")
            page.expected_error_urls.add(page.base_url + "/accounts/login/")  # the 429
            page.click("button[type=submit]")
        page.wait_for_selector("text=Signing in is locked" if language == "en-gb" else "h1")
        check_current_page(page, f"{language}-anonymous-locked-out", language, width, found)
        from axes.models import AccessAttempt

        AccessAttempt.objects.all().delete()

        page.context.clear_cookies()
        signed_in(page, "physician")
        checked_prescription(page, pregnant, language)
        check_current_page(page, f"{language}-physician-prescribe-checked", language, width, found)
        page.context.clear_cookies()
    assert not Course.objects.filter(patient=pregnant).exists()
    report = ARTIFACTS / "pages" / f"axe-report-forms-admin-{language}.json"
    report.write_text(json.dumps(found, indent=1))
    assert found == {}, f"see {report}"


@pytest.mark.parametrize("page", ["uk"], indirect=True)
def test_the_admins_account_and_library_pages_pass_axe_in_ukrainian(page, demo):
    """The admin pages whose words come from libraries (config/libraries): adding a user, a
    user's and a group's permission pickers (built by the admin's JavaScript, in Ukrainian from
    our djangojs catalogue), the sign-in records and the API tokens."""
    from axes.models import AccessAttempt
    from django.contrib.auth.models import Group, User

    attempt = AccessAttempt.objects.create(
        username="nurse",
        ip_address="10.0.0.7",
        user_agent="Firefox",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=2,
    )
    group = Group.objects.order_by("pk").first()
    signed_in(page, "admin")
    found = check_pages(
        page,
        {
            "admin-add-user": "/admin/auth/user/add/",
            "admin-user": f"/admin/auth/user/{User.objects.get(username='nurse').pk}/change/",
            "admin-group": f"/admin/auth/group/{group.pk}/change/",
            "admin-sign-in-attempts": "/admin/axes/accessattempt/",
            "admin-sign-in-attempt": f"/admin/axes/accessattempt/{attempt.pk}/change/",
            "admin-tokens": "/admin/knox/authtoken/",
            "admin-add-token": "/admin/knox/authtoken/add/",
        },
        "uk-",
        "uk",
    )
    page.goto(page.base_url + f"/admin/auth/group/{group.pk}/change/")
    picker = page.locator("#id_permissions_add_all").inner_text()
    assert picker.strip() == "Обрати всі дозволи"
    report = ARTIFACTS / "pages" / "axe-report-admin-libraries-uk.json"
    report.write_text(json.dumps(found, indent=1))
    assert found == {}, f"see {report}"
