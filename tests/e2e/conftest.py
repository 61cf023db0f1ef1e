"""Browser tests in real Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Each test gets a fresh page; any JavaScript console error or page error fails the test, and a
screenshot of the last page is saved to test-artifacts/screenshots/<test>.png.
"""

import os
import re
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tests import services

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if services.REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread, which makes Django refuse the
    # tests' own ORM calls (and the database teardown); they are synchronous and safe here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser, request, live_server):
    """A page in a browser set to English, or to the language a test gives it (indirect
    parametrisation: `@pytest.mark.parametrize("page", ["uk"], indirect=True)`)."""
    locale = getattr(request, "param", "en-GB")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    # A test that opens an error page on purpose (404, 403) names its URL here: the browser's
    # "Failed to load resource" line for that document is expected, any other error is not.
    page.expected_error_urls = set()

    def on_console(msg):
        if msg.type != "error":
            return
        if msg.text.startswith("Failed to load resource") and (
            msg.location.get("url") in page.expected_error_urls
        ):
            return
        problems.append(f"console {msg.type}: {msg.text} ({msg.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.base_url = live_server.url
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
    assert problems == [], problems


@pytest.fixture
def sign_in(page):
    def _sign_in(user, password="pw-for-tests-only"):
        page.goto(page.base_url + "/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_selector("header.top")
        return page

    return _sign_in


# --- The demo's data, for the page-by-page checks (accessibility, pictures) -------------------


@pytest.fixture
def demo(formulary, settings):
    """`seed_demo`'s users (`<role>-demo` passwords), patients, courses and stock, plus six
    hours of fridge readings with a 20-minute excursion and a failed alert."""
    from courses.models import Course, Dose, Patient
    from inventory.models import Lot, StorageLocation

    settings.DEBUG = True  # seed_demo's known passwords exist only in debug
    call_command("seed_demo", stdout=StringIO())
    settings.DEBUG = False
    # A failed alert with the long, unbroken error text SMTP servers give (the alerts table must
    # still fit a tablet).
    from django.utils import timezone

    from notifications.models import Notification

    Notification.objects.create(
        kind="expiry_alert",
        key="demo:failed:1",
        subject_type="lot",
        subject="Expiry in 30 days: lot DEMO-05-1 (Betaleukin 0.05 µg ampoule)",
        template="notifications/email/expiry_alert.html",
        body_text="-",
        body_html="-",
        message_id="demo-failed-1@pharmacy.invalid",
        recipients=["pharmacy-team-mailbox@hospital-with-a-long-domain.example"],
        status="failed",
        attempts=5,
        last_error="SMTPRecipientsRefused: {'pharmacy-team-mailbox@hospital-with-a-long-domain"
        ".example': (550, b'5.1.1_Recipient_address_rejected:_User_unknown_in_virtual_table')}",
        due_at=timezone.now(),
    )
    _demo_readings()
    course = Course.objects.order_by("pk").first()
    return {
        "course": course,
        "patient": Patient.objects.order_by("pk").first(),
        "dose": Dose.objects.filter(course=course).order_by("sequence").first(),
        "lot": Lot.objects.order_by("pk").first(),
        "fridge": StorageLocation.objects.get(code="pharmacy-fridge"),
    }


def _demo_readings():
    """Six hours of one-minute readings in the pharmacy fridge, 20 minutes out of range an hour
    ago (the cold-chain chart's line, bands and shaded excursion)."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from inventory.models import StorageLocation
    from inventory.services import readings_ingest

    fridge = StorageLocation.objects.get(code="pharmacy-fridge")
    now = timezone.now().replace(microsecond=0)
    readings_ingest(
        readings=[
            {
                "location_id": fridge.pk,
                "sensor_id": "probe-1",
                "taken_at": now + timedelta(minutes=m),
                "temperature_c": Decimal("12.5" if -60 <= m < -40 else "4.5" if m % 20 else "5.5"),
            }
            for m in range(-360, 0)
        ]
    )


def signed_in(page, username):
    """Sign in as a demo user (password `<username>-demo`)."""
    page.goto(page.base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"{username}-demo")
    page.click("button[type=submit]")
    page.wait_for_selector("header.top")
