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
    shots = ARTIFACTS / "pages"
    shots.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in paths.items():
            page.expected_error_urls.add(page.base_url + path)  # 403/404 pages are the point here
            page.goto(page.base_url + path)
            assert page.get_attribute("html", "lang") == language, f"{name} is not in {language}"
            page.screenshot(path=str(shots / f"{prefix}{name}-{width}.png"), full_page=True)
            problems = axe_violations(page)
            overflow = horizontal_overflow(page)
            if problems or overflow:
                found[f"{name} @ {width}px"] = {"axe": problems, "overflow": overflow}
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
