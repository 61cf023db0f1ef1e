"""The Alerts page: who sees it, filters, failures, re-send, and a flat query count."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from notifications.models import Notification, NotificationKind, NotificationStatus
from tests.factories import UserFactory
from tests.notifications.conftest import enqueue
from tests.notifications.conftest import enqueue_failed as failed

pytestmark = pytest.mark.django_db

URL = "/alerts/"


def signed_in(role: str) -> Client:
    client = Client()
    client.force_login(UserFactory(roles=[role]))
    return client


def test_the_url_name_and_path():
    assert reverse("alerts") == URL


@pytest.mark.parametrize("role", [Role.NURSE, Role.PHYSICIAN])
def test_nurses_and_physicians_are_refused_and_see_no_menu_entry(roles, role):
    client = signed_in(role)
    assert client.get(URL).status_code == 403
    assert 'href="/alerts/"' not in client.get("/").content.decode()


def test_anonymous_users_are_sent_to_sign_in():
    response = Client().get(URL)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_pharmacists_see_the_log_with_failures_highlighted_and_a_resend_button(roles):
    sent, _ = enqueue(subject="Dose due at 10:00 (sent)")
    Notification.objects.filter(pk=sent.pk).update(
        status=NotificationStatus.SENT, sent_at=timezone.now(), next_attempt_at=None, attempts=1
    )
    broken = failed(subject="Ward digest that bounced")
    page = signed_in(Role.PHARMACIST).get(URL).content.decode()
    assert 'href="/alerts/" aria-current="page"' in page  # in the menu, marked current
    row = page[page.index(f'id="notification-{broken.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'class="failed"' in row and "status-overdue" in row
    assert "550 5.1.1 No such user here" in row
    assert f'action="/alerts/{broken.pk}/resend/"' in row and "data-confirm=" in row
    assert '<td data-label="Recipients" class="num">2</td>' in row
    sent_row = page[page.index(f'id="notification-{sent.pk}"') :]
    assert "resend" not in sent_row[: sent_row.index("</tr>")]
    assert 'data-failed-count="1"' in page


def test_viewers_read_but_cannot_resend(roles):
    broken = failed()
    viewer = signed_in(Role.VIEWER)
    page = viewer.get(URL).content.decode()
    assert f'id="notification-{broken.pk}"' in page and "/resend/" not in page
    assert viewer.post(f"/alerts/{broken.pk}/resend/").status_code == 403
    broken.refresh_from_db()
    assert broken.status == NotificationStatus.FAILED


def test_resend_queues_the_failed_one_again_after_commit_and_returns_to_the_filtered_list(
    roles, django_capture_on_commit_callbacks
):
    broken = failed()
    pharmacist = signed_in(Role.PHARMACIST)
    with django_capture_on_commit_callbacks() as callbacks:
        response = pharmacist.post(
            f"/alerts/{broken.pk}/resend/", {"next": "/alerts/?status=failed"}
        )
    assert (response.status_code, response.url) == (302, "/alerts/?status=failed")
    assert len(callbacks) == 1, "the sender is woken"
    broken.refresh_from_db()
    assert (broken.status, broken.attempts, broken.resent_at is not None) == ("pending", 0, True)
    assert "Queued again" in pharmacist.get(response.url).content.decode()


def test_resending_one_that_is_not_failed_says_why_and_changes_nothing(roles):
    pending, _ = enqueue()
    pharmacist = signed_in(Role.PHARMACIST)
    response = pharmacist.post(f"/alerts/{pending.pk}/resend/", {"next": "https://evil.test/"})
    assert response.url == URL  # an outside address is not followed
    assert "Only failed notifications can be re-sent" in pharmacist.get(URL).content.decode()
    assert pharmacist.get(f"/alerts/{pending.pk}/resend/").status_code == 405


def test_filters_by_kind_status_and_date(roles):
    reminder, _ = enqueue(subject="A reminder")
    failed(kind=NotificationKind.EXPIRY_ALERT, subject="An expiry digest")
    old, _ = enqueue(kind=NotificationKind.WARD_DIGEST, subject="An old digest")
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=7))
    viewer = signed_in(Role.VIEWER)

    def subjects(query: str) -> list[str]:
        page = viewer.get(f"{URL}?{query}").content.decode()
        return [s for s in ("A reminder", "An expiry digest", "An old digest") if s in page]

    assert subjects("kind=expiry_alert") == ["An expiry digest"]
    assert subjects("kind=&status=failed&created_from=") == ["An expiry digest"]  # the form's "All"
    assert subjects("status=pending") == ["A reminder", "An old digest"]
    today = timezone.localdate()
    assert subjects(f"created_from={today}") == ["A reminder", "An expiry digest"]
    assert subjects(f"created_to={today - dt.timedelta(days=1)}") == ["An old digest"]
    bad = viewer.get(f"{URL}?status=nonsense")
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()


def test_the_query_count_stays_flat_as_rows_grow(roles, django_assert_max_num_queries):
    pharmacist = signed_in(Role.PHARMACIST)
    for _ in range(3):
        failed()
    pharmacist.get(URL)  # warm the session and the role cache paths

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        pharmacist.get(URL)
    for _ in range(60):
        failed()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = pharmacist.get(URL)
    assert response.content.decode().count('class="failed"') == 50  # one page


def test_the_log_lists_subjects_in_the_readers_language_and_keeps_the_stored_one(roles):
    """A row is stored in the site's language; the page renders its subject again from the
    stored context in the reader's language, as the sender does for each recipient."""
    alert, _ = enqueue(
        kind=NotificationKind.SENSOR_SILENT,
        subject="No temperature reading from Pharmacy fridge for 45 min",
        template="sensor_silent",
        context={"location": "Pharmacy fridge", "minutes": 45},
    )
    plain, _ = enqueue(subject="A row stored without a subject template")
    client = signed_in(Role.PHARMACIST)
    ukrainian = client.get(URL, HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert "Немає показань температури з місця «Pharmacy fridge» вже 45 хв" in ukrainian
    assert "No temperature reading from" not in ukrainian
    assert "A row stored without a subject template" in ukrainian  # nothing to render it from
    english = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No temperature reading from Pharmacy fridge for 45 min" in english
    alert.refresh_from_db()
    assert alert.subject == "No temperature reading from Pharmacy fridge for 45 min"
