"""Project-wide page behaviour: favicon, error pages keeping the navigation, the "Not saved"
banner, form errors tied to their fields, and Today's live endpoint."""

import datetime as dt
import logging

import pytest
from django.test import Client
from django.utils import timezone

from courses.models import DoseStatus
from tests.courses.helpers import prescribe_daily_at
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # an ICO header
    assert "max-age" in response["Cache-Control"]


def test_403_is_a_styled_page_with_navigation_and_no_traceback(client, nurse, caplog, settings):
    settings.DEBUG = False
    client.force_login(nurse)
    with caplog.at_level(logging.INFO):
        response = client.get("/audit/")  # pharmacists and auditors only
    page = response.content.decode()
    assert response.status_code == 403
    assert 'class="panel error-page"' in page and "Not allowed" in page
    assert '<nav aria-label="Main">' in page and 'href="/"' in page
    assert "Skip to main content" in page
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


def test_404_keeps_the_navigation(client, nurse, settings):
    settings.DEBUG = False
    client.force_login(nurse)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page and '<nav aria-label="Main">' in page


def test_500_keeps_the_navigation_when_the_request_renders(rf, nurse):
    from config.pages import server_error

    request = rf.get("/")
    request.user = nurse
    response = server_error(request)
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page and '<nav aria-label="Main">' in page


def test_500_renders_without_the_request_when_that_fails(rf):
    from config.pages import server_error

    class Broken:
        @property
        def is_authenticated(self):
            raise RuntimeError("database gone")

    request = rf.get("/")
    request.user = Broken()
    response = server_error(request)
    assert response.status_code == 500 and "Something went wrong" in response.content.decode()


@pytest.fixture
def due_course(stocked, ward, physician, today):
    now = timezone.localtime()
    return prescribe_daily_at(
        PatientFactory(ward=ward, name="Ada Lovelace"),
        physician,
        today,
        dt.time(now.hour, now.minute),
    )


def test_a_refused_record_says_not_saved_with_errors_tied_to_their_fields(
    client, nurse, due_course
):
    dose = due_course.doses.order_by("sequence").first()
    client.force_login(nurse)
    response = client.post("/", {"dose": dose.pk, "action": "refused", "reason": ""})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="msg error not-saved" role="alert"' in page and "Not saved." in page
    assert f'aria-invalid="true" aria-describedby="reason-{dose.pk}-error"' in page
    assert f'id="reason-{dose.pk}-error"' in page
    dose.refresh_from_db()
    assert dose.status == DoseStatus.SCHEDULED


def test_a_saved_record_has_no_not_saved_banner(client, nurse, due_course, stocked):
    dose = due_course.doses.order_by("sequence").first()
    client.force_login(nurse)
    lot = stocked["biocerulin-100mg-vial-5"].lot_number
    response = client.post(
        "/", {"dose": dose.pk, "action": "given", "lot_number": lot}, follow=True
    )
    assert "recorded as given" in response.content.decode()
    assert "not-saved" not in response.content.decode()


def test_a_refused_patient_form_says_not_saved(client, physician, ward):
    client.force_login(physician)
    page = client.post("/patients/", {"name": ""}).content.decode()
    assert "Not saved." in page
    assert 'aria-invalid="true"' in page and "_error" in page


def test_today_live_reports_counters_and_statuses(client, nurse, due_course, stocked, ward):
    dose = due_course.doses.order_by("sequence").first()
    client.force_login(nurse)
    before = client.get("/today/live/").json()
    assert before["doses"][str(dose.pk)] == {"status": "due", "label": "Due"}
    assert len(before["counters"]) == 4
    other = UserFactory(roles=["nurse"])
    ward.members.add(other)
    second = Client()
    second.force_login(other)
    lot = stocked["biocerulin-100mg-vial-5"].lot_number
    second.post("/", {"dose": dose.pk, "action": "given", "lot_number": lot})
    after = client.get("/today/live/").json()
    assert after["doses"][str(dose.pk)] == {"status": "given", "label": "Given"}
    assert client.get("/today/live/").headers["Cache-Control"].startswith("max-age=0")


def test_today_live_shows_only_the_users_wards(client, due_course, other_ward, roles):
    stranger = UserFactory(roles=["nurse"])
    other_ward.members.add(stranger)
    client.force_login(stranger)
    assert client.get("/today/live/").json()["doses"] == {}


def test_today_live_needs_sign_in(client):
    assert client.get("/today/live/").status_code == 302


def test_today_live_queries_do_not_grow_with_the_doses(client, nurse, stocked, ward, physician):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    today = timezone.localdate()
    client.force_login(nurse)
    counts = []
    for _ in range(2):
        now = timezone.localtime()
        for _ in range(3):
            prescribe_daily_at(PatientFactory(ward=ward), physician, today, now.time())
        with CaptureQueriesContext(connection) as queries:
            doses = client.get("/today/live/").json()["doses"]
        counts.append((len(doses), len(queries)))
    assert counts[0][0] < counts[1][0]  # more doses the second time …
    assert counts[0][1] == counts[1][1]  # … for the same number of queries


def test_today_live_lists_the_ids_of_the_page_it_was_asked_for(
    client, nurse, stocked, ward, physician, settings, monkeypatch
):
    """ "listed" is the page's own list (same order, same pagination): a dose prescribed after
    the page was loaded is in it, and app.js fetches the page again for its row."""
    from courses.views import today as today_view

    settings.DEBUG = False
    today = timezone.localdate()
    now = timezone.localtime()
    client.force_login(nurse)
    assert client.get("/today/live/").json()["listed"] == []
    courses = [
        prescribe_daily_at(PatientFactory(ward=ward), physician, today, now.time())
        for _ in range(3)
    ]
    ids = [course.doses.order_by("sequence").first().pk for course in courses]
    assert sorted(client.get("/today/live/").json()["listed"]) == sorted(ids)
    page_ids = [
        int(row.split('"')[0])
        for row in client.get("/").content.decode().split('<tr id="dose-')[1:]
    ]
    assert client.get("/today/live/").json()["listed"] == page_ids
    monkeypatch.setattr(today_view, "DOSES_PER_PAGE", 2)
    second = client.get("/today/live/?page=2").json()
    assert second["listed"] == page_ids[2:]
    assert len(second["doses"]) == 3  # the statuses still cover the whole day
