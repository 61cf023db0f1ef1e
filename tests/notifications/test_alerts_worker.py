"""A dose reminder end to end: beat's tasks through a real broker (Redis, then RabbitMQ) to a real
`celery worker`, which scans, enqueues and sends to the aiosmtpd server in this process, once,
however often they run."""

import datetime as dt

import pytest
from django.utils import timezone

from notifications.models import Notification, NotificationKind, NotificationStatus
from tests.courses.test_alerts import single_dose
from tests.factories import PatientFactory
from tests.notifications import test_worker
from tests.notifications.test_worker import TASK, wait_for
from tests.services import queue_length

# The worker fixtures of the outbox's own exactly-once tests, shared by name.
broker, shared_database, workers = (
    test_worker.broker,
    test_worker.shared_database,
    test_worker.workers,
)

SCAN = "courses.dose_reminders_scan"

pytestmark = [pytest.mark.redis, pytest.mark.rabbitmq, pytest.mark.worker]


@pytest.fixture
def dose_due_soon(formulary, physician, ward, nurse):
    ward.email = "ward-3a@hospital.test"
    ward.save()
    return single_dose(
        PatientFactory(ward=ward, name="Anna Beck"),
        physician,
        timezone.now() + dt.timedelta(minutes=10),
    )


def test_a_reminder_scanned_and_sent_twice_through_the_broker_reaches_smtp_once(
    dose_due_soon, workers, broker, smtp, broker_url, task_queue, nurse
):
    worker = workers("alerts")
    for _ in range(2):  # a second beat scheduler, a redelivered message
        broker.send_task(SCAN)
        broker.send_task(TASK)

    def done() -> bool:
        scans = worker.output().count(f"Task {SCAN}[")
        finished = sum(
            f"Task {SCAN}[" in line and " succeeded " in line
            for line in worker.output().splitlines()
        )
        return (
            scans >= 2
            and finished == 2
            and queue_length(broker_url, task_queue) == 0
            and Notification.objects.filter(status=NotificationStatus.SENT).exists()
        )

    wait_for(done, what="both scans and every send to finish")
    reminder = Notification.objects.get()
    assert reminder.kind == NotificationKind.DOSE_REMINDER
    assert reminder.status == NotificationStatus.SENT
    assert smtp.message_ids() == {reminder.message_id: 1}
    (message,) = smtp.messages
    assert sorted(message["To"].addresses, key=str) and nurse.email in str(message["To"])
    assert "A.B. · MRN" in message["Subject"]
