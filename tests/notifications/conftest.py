import itertools

import pytest

from notifications.models import Notification, NotificationKind, NotificationStatus
from notifications.services import notification_enqueue
from tests.notifications.smtp import smtp_sink

_keys = itertools.count(1)


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback, and Django's SMTP backend pointed at it."""
    with smtp_sink() as (sink, port):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 10
        sink.port = port
        yield sink


def enqueue(**overrides):
    """notification_enqueue with a plausible dose reminder; override what the test is about."""
    number = next(_keys)
    arguments = {
        "kind": NotificationKind.DOSE_REMINDER,
        "key": f"dose_reminder:dose:{number}",
        "recipients": ["nurse@hospital.test", "ward-3a@hospital.test"],
        "subject": f"Dose due at 10:00 on Ward 3A (bed {number})",
        "template": "message",
        "context": {"heading": "Dose due at 10:00", "lines": ["Bed 4, J.D.: Biocerulin 100 mg"]},
        "subject_type": "dose",
        "subject_id": number,
    }
    return notification_enqueue(**{**arguments, **overrides})


def enqueue_failed(**overrides):
    """A notification the sender gave up on (a permanent 550), as the admin, API and page show."""
    notification, _ = enqueue(**overrides)
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.FAILED,
        next_attempt_at=None,
        attempts=6,
        last_error="550 5.1.1 No such user here",
    )
    notification.refresh_from_db()
    return notification
