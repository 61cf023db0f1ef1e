"""10,000 due notifications through one call of the sender, to an SMTP server on loopback.

One worker's view: `notifications_send_due` claims batches of NOTIFICATION_BATCH_SIZE, sends each
over one SMTP connection and commits each row as sent, as the `notifications.send_due` task does.
"""

import pytest
from django.utils import timezone

from inventory.notifications.models import Notification, NotificationKind, NotificationStatus
from inventory.notifications.services import (
    NotificationDraft,
    notifications_enqueue_many,
    notifications_send_due,
)
from tests.notifications.smtp import SinkProcess, free_port

DUE = 10_000


def _drafts():
    now = timezone.now()
    return [
        NotificationDraft(
            kind=NotificationKind.DOSE_REMINDER,
            key=f"dose_reminder:dose:{number}",
            recipients=["ward-3a@hospital.test", f"nurse{number % 40}@hospital.test"],
            subject=f"Dose due at 10:00 on Ward 3A (bed {number % 30})",
            template="message",
            context={"heading": "Dose due at 10:00", "lines": [f"Bed {number % 30}: 100 mg"]},
            subject_type="dose",
            subject_id=number,
            due_at=now,
        )
        for number in range(DUE)
    ]


@pytest.mark.django_db(transaction=True)
def test_bench_send_10000_due_notifications(benchmark, settings, tmp_path):
    """The SMTP server runs in its own process, as a real one does."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    servers = []

    def fill():
        Notification.objects.all().delete()
        notifications_enqueue_many(drafts=_drafts())
        settings.EMAIL_PORT = free_port()
        servers.append(SinkProcess(settings.EMAIL_PORT, str(tmp_path / f"sink{len(servers)}.json")))

    stats = benchmark.pedantic(
        lambda: notifications_send_due(now=timezone.now()), setup=fill, rounds=2, iterations=1
    )
    received = servers[-1].stop()
    for server in servers[:-1]:
        server.stop()
    assert stats.sent == DUE and stats.failed == stats.retried == 0
    assert len(received["message_ids"]) == len(set(received["message_ids"])) == DUE
    assert received["connections"] == -(-DUE // settings.NOTIFICATION_BATCH_SIZE)
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() == DUE


@pytest.mark.django_db(transaction=True)
def test_bench_enqueue_10000_reminders(benchmark):
    def empty():
        Notification.objects.all().delete()

    created = benchmark.pedantic(
        lambda: notifications_enqueue_many(drafts=_drafts()), setup=empty, rounds=2, iterations=1
    )
    assert created == DUE
