"""Calendars people subscribe to: secret per-user feed URLs, events that change when a dose does,
real durations, deployment-unique UIDs. Every feed is read back with vobject, a parser this
project does not otherwise use (it writes with icalendar)."""

import datetime as dt
import hashlib

import pytest
import vobject
from django.utils import timezone
from rest_framework.test import APIClient

from courses.models import CalendarFeed
from courses.services import course_cancel, course_hold, course_resume, dose_record_not_given
from tests.courses.helpers import prescribe
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _events(body: bytes) -> dict[str, vobject.base.Component]:
    calendar = vobject.readOne(body.decode())
    assert calendar.name == "VCALENDAR" and calendar.version.value == "2.0"
    events = {}
    for event in calendar.vevent_list if hasattr(calendar, "vevent_list") else []:
        events[event.uid.value] = event
    return events


def _feed(client, **body) -> str:
    response = client.post("/api/v1/me/calendar-feeds/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["url"].removeprefix("http://127.0.0.1:8000")


@pytest.fixture
def course(formulary, physician, ward, today):
    return prescribe(
        PatientFactory(ward=ward),
        "ceruloplasmin-postop",
        physician,
        today,
        phases=[{"dose": "2", "count": 7}],
    )


def test_me_lists_roles_wards_language_and_live_feeds(nurse_client, ward):
    ward.members.add(nurse_client.user)
    _feed(nurse_client, label="Phone")
    me = nurse_client.get("/api/v1/me/").json()
    assert me["roles"] == ["nurse"] and me["wards"] == [{"code": "ward-3a", "name": "Ward 3A"}]
    assert me["language"] == "en-gb"
    (feed,) = me["calendar_feeds"]
    assert feed["label"] == "Phone" and "url" not in feed  # the secret is shown once only


def test_a_feed_needs_no_headers_shows_what_its_user_sees_and_revoking_ends_it(
    nurse_client, ward, other_ward, course, physician, today
):
    ward.members.add(nurse_client.user)
    prescribe(
        PatientFactory(ward=other_ward),
        "ceruloplasmin-postop",
        physician,
        today,
        phases=[{"dose": "2", "count": 7}],
    )
    url = _feed(nurse_client)
    token = url.rstrip("/").rsplit("/", 1)[1]
    feed = CalendarFeed.objects.get()
    # Stored hashed: the database alone does not open anyone's calendar.
    assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in str(
        CalendarFeed.objects.values_list()
    )
    response = APIClient().get(url)  # a calendar app: no Authorization header, no cookie
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = _events(response.content)
    assert len(events) == 7  # her ward's course only, not the other ward's
    assert nurse_client.delete(f"/api/v1/me/calendar-feeds/{feed.pk}/").status_code == 204
    assert APIClient().get(url).status_code == 404
    assert APIClient().get("/api/v1/calendar/not-a-token/").status_code == 404
    assert nurse_client.get("/api/v1/me/").json()["calendar_feeds"] == []


def test_a_ward_feed_refuses_a_ward_the_user_cannot_see(nurse_client, ward, other_ward):
    ward.members.add(nurse_client.user)
    response = nurse_client.post(
        "/api/v1/me/calendar-feeds/", {"ward": other_ward.code}, format="json"
    )
    assert response.status_code == 400 and "ward" in response.json()["error"]["fields"]
    assert _feed(nurse_client, ward=ward.code)


def test_changes_raise_sequence_and_last_modified_and_cancel_the_event(
    viewer_client, nurse, course, physician, today
):
    url = _feed(viewer_client)
    # Planned an hour ago, so that a change now shows in LAST-MODIFIED (whole seconds).
    course.doses.update(updated_at=timezone.now() - dt.timedelta(hours=1))
    before = _events(APIClient().get(url).content)
    doses = list(course.doses.order_by("scheduled_at"))
    uid = f"dose-{doses[1].pk}@127.0.0.1"
    assert before[uid].status.value == "CONFIRMED" and int(before[uid].sequence.value) == 0

    dose_record_not_given(
        replace=True,
        dose=doses[1],
        status="held",
        user=nurse,
        now=doses[0].scheduled_at,
        reason="Fever",
    )
    after = _events(APIClient().get(url).content)
    held = after[uid]
    assert held.status.value == "CANCELLED" and int(held.sequence.value) == 1
    assert held.last_modified.value > before[uid].last_modified.value
    # The held dose is re-added at the end (a new event); a daily course's later doses keep
    # their day, and an unchanged dose keeps its SEQUENCE (calendars are not told of no change).
    assert len(after) == 8
    kept = f"dose-{doses[2].pk}@127.0.0.1"
    assert after[kept].dtstart.value == before[kept].dtstart.value
    assert int(after[kept].sequence.value) == 0

    course.refresh_from_db()
    course_hold(course=course, user=physician, on=today + dt.timedelta(days=3), reason="Surgery")
    on_hold = _events(APIClient().get(url).content)
    late = f"dose-{doses[5].pk}@127.0.0.1"
    assert on_hold[late].status.value == "CANCELLED"
    assert int(on_hold[late].sequence.value) > int(after[late].sequence.value)
    course.refresh_from_db()
    course_resume(course=course, user=physician, on=today + dt.timedelta(days=3))
    resumed = _events(APIClient().get(url).content)
    assert resumed[late].status.value == "CONFIRMED"
    assert int(resumed[late].sequence.value) > int(on_hold[late].sequence.value)

    course.refresh_from_db()
    course_cancel(course=course, user=physician, reason="Stopped")
    cancelled = _events(APIClient().get(url).content)
    assert {e.status.value for e in cancelled.values()} == {"CANCELLED"}


def test_events_last_as_long_as_the_infusion(
    viewer_client, formulary, physician, ward, today, course
):
    betaleukin_iv = prescribe(
        PatientFactory(ward=ward),
        "betaleukin-leukopoiesis-toxic-iv",
        physician,
        today,
        phases=[{"dose": "15", "cycles": 1}],
        infusion_minutes=150,
    )
    betaleukin_sc = prescribe(
        PatientFactory(ward=ward),
        "betaleukin-immunodeficiency-sc",
        physician,
        today,
        phases=[{"dose": "5", "cycles": 1}],
    )
    events = _events(APIClient().get(_feed(viewer_client)).content)

    def minutes(course_):
        event = events[f"dose-{course_.doses.first().pk}@127.0.0.1"]
        return (event.dtend.value - event.dtstart.value) / dt.timedelta(minutes=1)

    # 200 ml at 30 drops/min with a 20 drops/ml giving set: 4000 drops, 133 minutes.
    assert minutes(course) == 133
    assert minutes(betaleukin_iv) == 150
    assert minutes(betaleukin_sc) == 15


def test_uids_carry_the_sites_domain(settings, viewer_client, course):
    settings.ICAL_UID_DOMAIN = "pharmacy.hospital-a.example"
    body = viewer_client.get(f"/api/v1/courses/{course.pk}/ical/").content
    uids = list(_events(body))
    assert len(uids) == 7 and all(u.endswith("@pharmacy.hospital-a.example") for u in uids)


def test_an_unknown_ward_is_a_404_not_an_empty_calendar(viewer_client, course):
    response = viewer_client.get("/api/v1/doses/ical/?ward=nope")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404
    known = viewer_client.get("/api/v1/doses/ical/?ward=ward-3a")
    assert len(_events(known.content)) == 7


def _disposition_line(response) -> str:
    """The Content-Disposition line exactly as sent on the wire."""
    (line,) = [
        line
        for line in response.serialize_headers().decode("ascii").split("\r\n")
        if line.lower().startswith("content-disposition:")
    ]
    return line


def _filenames(line: str) -> tuple[str, str]:
    """(the ASCII fallback, the name a client reads) as Werkzeug's RFC 6266/5987 parser sees
    them: it prefers `filename*`; a client ignoring it reads `filename`."""
    from werkzeug.http import parse_options_header

    value = line.split(":", 1)[1].strip()
    _, with_star = parse_options_header(value)
    _, without = parse_options_header(value.split("; filename*=")[0])
    return without["filename"], with_star["filename"]


def test_a_feed_with_a_long_ukrainian_label_is_named_in_one_ascii_header_line(
    nurse_client, ward, course
):
    ward.members.add(nurse_client.user)
    label = "Інфузії церулоплазміну – Шевченко Тарас Григорович, хірургічне відділення №7"
    url = _feed(nurse_client, label=label)
    response = APIClient().get(url)
    assert response.status_code == 200
    line = _disposition_line(response)  # decoding as ASCII above already proves it is ASCII
    assert "\n" not in line and "=?" not in line  # no folding, no RFC 2047 encoded word
    assert line.startswith("Content-Disposition: inline; filename=")
    fallback, name = _filenames(line)
    assert name == f"{label}.ics"
    assert fallback == "download.ics"  # no Latin letter to keep


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("course-12.ics", 'attachment; filename="course-12.ics"'),
        (
            "Доза 12.ics",
            "attachment; filename=\"download.ics\"; filename*=UTF-8''"
            "%D0%94%D0%BE%D0%B7%D0%B0%2012.ics",
        ),
        (
            'Ward "7C" – doses.ics',
            "attachment; filename=\"Ward _7C_ _ doses.ics\"; filename*=UTF-8''"
            "Ward%20%227C%22%20%E2%80%93%20doses.ics",
        ),
    ],
)
def test_download_names_follow_rfc_6266(filename, expected):
    from courses.exports import download_disposition

    assert download_disposition(filename) == expected
    fallback, name = _filenames(f"Content-Disposition: {expected}")
    assert name == filename and fallback.isascii()
