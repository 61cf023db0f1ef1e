"""The batch sender against a real SMTP server on loopback."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import services
from notifications.models import Notification, NotificationStatus
from notifications.services import notifications_send_due
from tests.notifications.conftest import enqueue

pytestmark = pytest.mark.django_db


def test_due_notifications_arrive_with_html_and_text_parts_and_the_key_message_id(smtp):
    notification, _ = enqueue(
        key="dose_reminder:dose:41",
        context={"heading": "Dose due at 10:00", "lines": ["Bed 4, J.D.: Biocerulin 100 mg"]},
    )
    stats = notifications_send_due(now=timezone.now())

    assert (stats.sent, stats.batches, stats.failed, stats.retried) == (1, 1, 0, 0)
    [message] = smtp.messages
    assert message["Message-ID"].strip() == notification.message_id
    assert message["X-Notification-Key"] == "dose_reminder:dose:41"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == notification.subject
    assert sorted(a.addr_spec for a in message["To"].addresses) == notification.recipients
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert (
        "Bed 4, J.D.: Biocerulin 100 mg" in text
        and "<li>Bed 4, J.D.: Biocerulin 100 mg</li>" in html
    )
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert notification.sent_at is not None and notification.attempts == 1
    assert notification.next_attempt_at is None and notification.claim_token is None


def test_not_yet_due_ones_wait(smtp):
    now = timezone.now()
    enqueue(due_at=now + timedelta(minutes=30))
    assert notifications_send_due(now=now).claimed == 0
    assert notifications_send_due(now=now + timedelta(minutes=30)).sent == 1
    assert smtp.count() == 1


def test_one_smtp_connection_per_batch(smtp):
    for _ in range(25):
        enqueue()
    stats = notifications_send_due(now=timezone.now(), batch_size=10)
    assert (stats.sent, stats.batches) == (25, 3)
    assert smtp.connections == 3
    assert len(smtp.message_ids()) == 25


def test_451_is_retried_with_backoff_then_delivered_once(smtp, settings):
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 60
    notification, _ = enqueue()
    smtp.data_replies = ["451 4.3.0 Mailbox busy, try again later"]
    now = timezone.now()

    first = notifications_send_due(now=now)
    notification.refresh_from_db()
    assert (first.sent, first.retried) == (0, 1)
    assert notification.status == NotificationStatus.PENDING
    assert notification.attempts == 1 and "451" in notification.last_error
    # First retry: between half and all of the base delay (jitter), never at once.
    assert (
        now + timedelta(seconds=30) <= notification.next_attempt_at <= now + timedelta(seconds=60)
    )
    assert notifications_send_due(now=now + timedelta(seconds=29)).claimed == 0

    second = notifications_send_due(now=now + timedelta(seconds=60))
    notification.refresh_from_db()
    assert second.sent == 1
    assert notification.status == NotificationStatus.SENT and notification.attempts == 2
    assert smtp.message_ids() == {notification.message_id: 1}


@pytest.mark.parametrize("where", ["rcpt", "data"])
def test_550_is_recorded_as_failed_and_never_retried(smtp, where):
    if where == "rcpt":
        notification, _ = enqueue(recipients=["gone@hospital.test"])
        smtp.refuse_rcpt = {"gone@hospital.test"}
    else:
        notification, _ = enqueue()
        smtp.data_replies = ["550 5.7.1 Message rejected by policy"]
    now = timezone.now()

    stats = notifications_send_due(now=now)
    notification.refresh_from_db()
    assert (stats.failed, stats.retried, stats.sent) == (1, 0, 0)
    assert notification.status == NotificationStatus.FAILED
    assert "550" in notification.last_error and notification.next_attempt_at is None
    assert notifications_send_due(now=now + timedelta(days=1)).claimed == 0
    assert smtp.count() == 0


def test_a_rejected_message_does_not_stop_the_rest_of_its_batch(smtp):
    enqueue(recipients=["gone@hospital.test"])
    others = [enqueue()[0] for _ in range(3)]
    smtp.refuse_rcpt = {"gone@hospital.test"}
    stats = notifications_send_due(now=timezone.now(), batch_size=10)
    assert (stats.sent, stats.failed, stats.batches) == (3, 1, 1)
    assert smtp.connections == 1
    assert set(smtp.message_ids()) == {n.message_id for n in others}


def test_backoff_grows_and_gives_up_after_max_attempts(smtp, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 60
    notification, _ = enqueue()
    smtp.data_replies = ["452 4.2.2 Over quota"] * 3
    now = timezone.now()
    delays = []
    for _ in range(3):
        notifications_send_due(now=now)
        notification.refresh_from_db()
        if notification.next_attempt_at:
            delays.append((notification.next_attempt_at - now).total_seconds())
            now = notification.next_attempt_at
    assert notification.status == NotificationStatus.FAILED and notification.attempts == 3
    assert "452" in notification.last_error
    assert 30 <= delays[0] <= 60 and 60 <= delays[1] <= 120
    assert smtp.count() == 0


def test_an_unreachable_server_is_a_temporary_error(settings):
    from tests.notifications.smtp import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    notifications = [enqueue()[0] for _ in range(3)]
    stats = notifications_send_due(now=timezone.now())
    assert (stats.retried, stats.sent, stats.batches) == (3, 0, 1)
    assert stats.stopped == "smtp"
    for notification in notifications:
        notification.refresh_from_db()
        assert notification.status == NotificationStatus.PENDING
        assert notification.attempts == 1 and "ConnectionRefusedError" in notification.last_error


def test_a_connection_dropped_mid_batch_retries_the_message_and_hands_back_the_rest(smtp):
    smtp.data_replies = [None, "421 4.3.2 Shutting down"]
    rows = [enqueue()[0] for _ in range(4)]
    now = timezone.now()
    stats = notifications_send_due(now=now, batch_size=10)
    assert (stats.sent, stats.retried, stats.released) == (1, 1, 2)
    statuses = {}
    for row in rows:
        row.refresh_from_db()
        statuses.setdefault(row.status, []).append(row.attempts)
    # The two never tried get no attempt counted against them.
    assert statuses == {NotificationStatus.SENT: [1], NotificationStatus.PENDING: [1, 0, 0]}
    later = notifications_send_due(now=now + timedelta(hours=1))
    assert later.sent == 3
    assert sorted(smtp.message_ids().values()) == [1, 1, 1, 1]


def test_a_crashed_workers_claim_is_sent_again_only_after_its_lease(smtp, settings):
    settings.NOTIFICATION_CLAIM_LEASE_SECONDS = 300
    notification, _ = enqueue()
    now = timezone.now()
    # A worker claims the batch and dies before sending anything.
    _, rows = services._claim(now=now, batch_size=10, lease=timedelta(seconds=300), max_attempts=6)
    assert [row.pk for row in rows] == [notification.pk]

    assert notifications_send_due(now=now + timedelta(seconds=299)).claimed == 0
    stats = notifications_send_due(now=now + timedelta(seconds=300))
    notification.refresh_from_db()
    assert stats.sent == 1 and notification.attempts == 2
    assert smtp.message_ids() == {notification.message_id: 1}


def test_a_row_that_kills_its_worker_every_time_ends_failed(smtp, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    notification, _ = enqueue()
    now = timezone.now()
    lease = timedelta(seconds=300)
    for _ in range(2):
        services._claim(now=now, batch_size=10, lease=lease, max_attempts=2)
        now += lease
    stats = notifications_send_due(now=now)
    notification.refresh_from_db()
    assert stats.sent == 0 and notification.status == NotificationStatus.FAILED
    assert "lost" in notification.last_error
    assert smtp.count() == 0


def test_a_batch_stops_before_its_lease_ends_and_hands_the_rest_back(smtp, settings):
    settings.NOTIFICATION_CLAIM_LEASE_SECONDS = 1  # stop after 0.8 s of sending
    smtp.delay_before = 0.3
    for _ in range(6):
        enqueue()
    stats = notifications_send_due(now=timezone.now(), batch_size=6, max_batches=1)
    assert 1 <= stats.sent < 6 and stats.sent + stats.released == 6
    assert Notification.objects.filter(status=NotificationStatus.PENDING).count() == stats.released


def test_a_batch_renders_a_shared_message_once_per_language_and_reads_its_rows_once(
    smtp, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    renders = []
    render = services.rendering.render

    def counted(**kwargs):
        renders.append(kwargs["subject"])
        return render(**kwargs)

    monkeypatch.setattr(services.rendering, "render", counted)

    def send(rows: int) -> int:
        for _ in range(rows):
            enqueue(subject="Doses due at 10:00 on Ward 3A")
        renders.clear()
        with CaptureQueriesContext(connection) as queries:
            assert notifications_send_due(now=timezone.now()).sent == rows
        # Rows with one template, context and subject share one rendering.
        assert renders == ["Doses due at 10:00 on Ward 3A"]
        return len(queries)

    few, more = send(2), send(6)
    # One statement per row (its sent mark, right after the server's 250); the claim, the
    # recipients' languages and the session setting are per batch, and no row is read back.
    assert more - few == 4
    assert few <= 2 + 11
    texts = {m.get_body(preferencelist=("plain",)).get_content() for m in smtp.messages}
    assert len(texts) == 1 and len(smtp.messages) == 8
