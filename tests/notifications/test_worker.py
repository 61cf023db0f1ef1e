"""Exactly-once through a real broker (Redis and RabbitMQ, each test runs on both), real
`celery worker` processes and a real SMTP server.

The workers run `config.settings` against this run's test database (committed rows only, hence
transactional_db) and send to the aiosmtpd server in this process; the tests count what that
server received, by Message-ID.
"""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection, transaction

from notifications.models import Notification, NotificationStatus
from notifications.services import notifications_send_after_commit
from tests.notifications.conftest import enqueue
from tests.services import celery_worker_command, queue_length

ROOT = Path(__file__).resolve().parents[2]
TASK = "notifications.send_due"


def wait_for(condition, *, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def shared_database(transactional_db):
    """A database URL a worker process can open: the live PostgreSQL test database."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "worker tests need PostgreSQL: the SQLite test database is in memory, private to "
            "this process, so a worker process cannot see the rows the test commits"
        )
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, name: str, env: dict, log: Path):
        self.name, self.log = name, log
        self.process = subprocess.Popen(
            celery_worker_command(name),
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL reaches all of it
        )
        wait_for(lambda: "ready." in self.output() or self.process.poll() is not None, what="ready")
        assert self.process.poll() is None, self.output()

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def succeeded(self) -> int:
        return sum(
            f"Task {TASK}[" in line and " succeeded " in line for line in self.output().splitlines()
        )

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def workers(shared_database, broker_url, task_queue, smtp, tmp_path):
    """start(name, **env) runs a worker; every one started is stopped before the DB is flushed."""
    started: list[Worker] = []
    base_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": shared_database,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_DEFAULT_QUEUE": task_queue,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp.port),
        "EMAIL_TIMEOUT": "10",
        "VAR_DIR": str(tmp_path),
    }

    def start(name: str, **env) -> Worker:
        worker = Worker(name, {**base_env, **env}, tmp_path / f"{name}-{len(started)}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def broker(broker_url, task_queue):
    """A Celery client publishing to the workers' queue, as beat does."""
    client = Celery("probe", broker=broker_url, set_as_current=False)
    client.conf.task_default_queue = task_queue
    yield client
    client.close()


def all_sent() -> bool:
    return not Notification.objects.exclude(status=NotificationStatus.SENT).exists()


pytestmark = [pytest.mark.redis, pytest.mark.rabbitmq]


@pytest.mark.worker
def test_a_send_due_task_through_redis_delivers_one_email(workers, broker, smtp):
    notification, _ = enqueue()
    workers("solo")
    broker.send_task(TASK)
    wait_for(all_sent, what="the notification to be sent")
    assert smtp.message_ids() == {notification.message_id: 1}


@pytest.mark.worker
def test_the_same_task_sent_four_times_to_two_workers_still_delivers_each_email_once(
    workers, broker, smtp, broker_url, task_queue
):
    notifications = [enqueue()[0] for _ in range(12)]
    smtp.delay_before = 0.05  # slow enough that the workers' runs overlap
    first, second = (
        workers("a", NOTIFICATION_BATCH_SIZE="3"),
        workers("b", NOTIFICATION_BATCH_SIZE="3"),
    )
    for _ in range(4):  # a duplicated message, a second beat, a retried publish
        broker.send_task(TASK)
    wait_for(
        lambda: (
            all_sent()
            and queue_length(broker_url, task_queue) == 0
            and first.succeeded() + second.succeeded() == 4
        ),
        what="all four tasks to finish",
    )
    assert first.succeeded() >= 1 and second.succeeded() >= 1, "both workers took part"
    assert smtp.message_ids() == {n.message_id: 1 for n in notifications}
    assert smtp.count() == 12


@pytest.mark.worker
@pytest.mark.parametrize(
    ("kill_when", "raw_duplicates"),
    [
        # The server is still taking message 4 (not stored): it is re-sent, delivered once.
        ("before the server stores it", 0),
        # The server stored message 3 but its 250 is not out yet (RFC 1047's window): the row
        # is still `sending`, so it goes out again, with the same Message-ID.
        ("after the server stored it, before the 250", 1),
    ],
)
def test_a_worker_killed_mid_batch_then_restarted_leaves_every_email_sent_once_by_message_id(
    workers, broker, smtp, kill_when, raw_duplicates
):
    notifications = [enqueue()[0] for _ in range(12)]
    expected = {n.message_id for n in notifications}
    # Slow at the server both before and after it stores a message, so the kill lands in the
    # phase the test picks; the kill waits on the server's own progress, not on a clock.
    smtp.delay_before = smtp.delay_after = 0.3
    env = {"NOTIFICATION_BATCH_SIZE": "5", "NOTIFICATION_CLAIM_LEASE_SECONDS": "4"}

    doomed = workers("doomed", **env)
    broker.send_task(TASK)
    if raw_duplicates:
        wait_for(lambda: smtp.count() == 3, what="the third message stored")
    else:
        wait_for(lambda: smtp.data_started == 4, what="the fourth message under way")
    doomed.kill()
    # Three messages were under way or done; the one in the window is not marked sent.
    marked_sent = 3 - raw_duplicates
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() == marked_sent
    # Mid-batch: the rest of the first batch of five is still claimed by the dead worker.
    assert Notification.objects.filter(status=NotificationStatus.SENDING).count() == 5 - marked_sent

    workers("restarted", **env)
    deadline = time.monotonic() + 40
    while not all_sent():  # what beat does: a tick every so often, until the lease has ended
        assert time.monotonic() < deadline, "rows left unsent after the restart"
        broker.send_task(TASK)
        time.sleep(1)

    received = smtp.message_ids()
    assert set(received) == expected, "every due e-mail arrived"
    assert smtp.count() - len(expected) == raw_duplicates
    assert sorted(received.values()) == [1] * (12 - raw_duplicates) + [2] * raw_duplicates
    assert not Notification.objects.filter(attempts__gt=2).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.redis
def test_a_rolled_back_transaction_queues_nothing(redis_url):
    """The alert and its wake-up are queued in the caller's transaction: a rollback drops both.

    Checked on the Redis list the broker really uses, with the project's own Celery app."""
    from config.celery import app

    queue = redis.Redis.from_url(redis_url)
    waiting = queue.llen("celery")  # the database is shared, not flushed: count from here
    previous = app.conf.broker_url
    app.conf.broker_url = redis_url
    app._after_fork()  # drop the pools built for the previous broker (Celery's own reset hook)
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            enqueue(key="excursion:fridge-2:1")
            notifications_send_after_commit()
            raise RuntimeError("the temperature reading failed to save")
        assert not Notification.objects.exists()
        assert queue.llen("celery") == waiting

        with transaction.atomic():  # the control: the same thing committed queues one task
            enqueue(key="excursion:fridge-2:1")
            notifications_send_after_commit()
            assert queue.llen("celery") == waiting, "nothing is queued before the commit"
        assert queue.llen("celery") == waiting + 1
        # LPUSH: the newest message is at the head.
        assert json.loads(queue.lindex("celery", 0))["headers"]["task"] == TASK
        queue.lrem("celery", 1, queue.lindex("celery", 0))  # take back only what this test put
    finally:
        app.conf.broker_url = previous
        app._after_fork()
