import datetime

import pytest
from django.utils import timezone

from notifications.models import Notification, NotificationKind, NotificationStatus
from tests.notifications.conftest import enqueue, enqueue_failed

pytestmark = pytest.mark.django_db


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == status
    return body["error"]


@pytest.fixture
def failed():
    return enqueue_failed(kind=NotificationKind.EXPIRY_ALERT, key="expiry:lot:9:30d")


@pytest.mark.parametrize("client_name", ["pharmacist_client", "viewer_client"])
def test_pharmacists_and_viewers_list_notifications(
    request, client_name, django_assert_max_num_queries
):
    client = request.getfixturevalue(client_name)
    for _ in range(15):
        enqueue()
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/notifications/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 15
    first = body["results"][0]
    assert first["status"] == "pending" and first["message_id"].startswith("<notification.")
    assert "body_text" not in first


@pytest.mark.parametrize("client_name", ["nurse_client", "physician_client"])
def test_other_roles_may_not_read_them(request, client_name):
    client = request.getfixturevalue(client_name)
    assert _error(client.get("/api/v1/notifications/"), 403)["code"] == "permission_denied"


def test_detail_shows_the_text_that_was_sent(viewer_client):
    notification, _ = enqueue(context={"heading": "Dose due", "lines": ["Bed 4: 100 mg"]})
    body = viewer_client.get(f"/api/v1/notifications/{notification.pk}/").json()
    assert "Bed 4: 100 mg" in body["body_text"] and body["template"] == "message"


def test_filters_by_kind_status_and_created_dates(pharmacist_client, failed):
    enqueue(kind=NotificationKind.DOSE_REMINDER)
    old, _ = enqueue(kind=NotificationKind.WARD_DIGEST)
    Notification.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=10)
    )
    today = timezone.localdate()

    def keys(query):
        response = pharmacist_client.get(f"/api/v1/notifications/?{query}")
        assert response.status_code == 200, response.content
        return {row["kind"] for row in response.json()["results"]}

    assert keys("kind=expiry_alert") == {"expiry_alert"}
    assert keys("status=failed") == {"expiry_alert"}
    assert keys("kind=ward_digest&kind=expiry_alert") == {"ward_digest", "expiry_alert"}
    assert keys(f"created_from={today}") == {"expiry_alert", "dose_reminder"}
    assert keys(f"created_to={today - datetime.timedelta(days=1)}") == {"ward_digest"}
    error = _error(pharmacist_client.get("/api/v1/notifications/?status=lost"), 400)
    assert "status" in error["fields"]


def test_a_pharmacist_resends_a_failed_one(
    pharmacist_client, failed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = pharmacist_client.post(f"/api/v1/notifications/{failed.pk}/resend/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "pending" and body["attempts"] == 0
    assert body["message_id"] == failed.message_id  # same key, same Message-ID
    failed.refresh_from_db()
    assert failed.resent_by == pharmacist_client.user and failed.next_attempt_at is not None
    assert len(callbacks) == 1  # a worker is woken after the commit


def test_only_failed_ones_can_be_resent(pharmacist_client):
    notification, _ = enqueue()
    error = _error(pharmacist_client.post(f"/api/v1/notifications/{notification.pk}/resend/"), 400)
    assert "pending" in error["fields"]["status"][0]
    _error(pharmacist_client.post("/api/v1/notifications/999999/resend/"), 404)


def test_viewers_may_not_resend(viewer_client, failed):
    _error(viewer_client.post(f"/api/v1/notifications/{failed.pk}/resend/"), 403)
    failed.refresh_from_db()
    assert failed.status == NotificationStatus.FAILED


def test_the_admin_lists_and_resends_failed_ones(admin_client, failed):
    sent, _ = enqueue()
    Notification.objects.filter(pk=sent.pk).update(
        status=NotificationStatus.SENT, sent_at=timezone.now(), next_attempt_at=None
    )
    page = admin_client.get("/admin/notifications/notification/?status__exact=failed")
    assert page.status_code == 200 and "expiry" in page.content.decode().lower()
    response = admin_client.post(
        "/admin/notifications/notification/",
        {"action": "resend_failed", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
    )
    assert "Queued 1 again; skipped 1 not failed." in response.content.decode()
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert failed.status == NotificationStatus.PENDING and sent.status == NotificationStatus.SENT
    assert (
        admin_client.get(f"/admin/notifications/notification/{failed.pk}/change/").status_code
        == 200
    )
