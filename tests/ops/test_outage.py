"""A broker outage loses nothing: a real `redis-server` of this test's own is killed under a real
worker and beat, API writes still commit, and when it is back everything that came due is
delivered exactly once (the outbox table is the source of truth, not the broker's messages).

The Redis server is this test's alone (a spare port, no persistence), so killing it touches
nothing anyone else uses. Slow (real processes): marked `ops`; CI runs it in `make test`.
"""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone

from config.roles import Role
from notifications.models import Notification, NotificationStatus
from tests.factories import StorageLocationFactory, UserFactory
from tests.notifications import test_worker
from tests.notifications.smtp import free_port, smtp_sink
from tests.notifications.test_worker import ROOT, Worker, wait_for

shared_database = test_worker.shared_database  # the live test database, for the processes

pytestmark = [pytest.mark.ops, pytest.mark.worker, pytest.mark.redis]


class RedisServer:
    """`redis-server` on a spare loopback port, no RDB or AOF: a restart comes back empty, as a
    broker that lost its messages does (the harshest case for the outbox)."""

    def __init__(self, port: int, log: Path):
        self.port, self.log = port, log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.log.parent)],
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        import redis

        def answers() -> bool:
            assert self.process.poll() is None, self.log.read_text()
            try:
                return redis.Redis(port=self.port, socket_timeout=1).ping()
            except redis.ConnectionError:
                return False

        wait_for(answers, timeout=15, what="redis-server to answer")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.kill()


@pytest.fixture
def redis_server(tmp_path):
    if not Path("/usr/bin/redis-server").exists() and not any(
        (Path(d) / "redis-server").exists() for d in os.environ.get("PATH", "").split(":")
    ):
        pytest.fail("redis-server is not installed")
    server = RedisServer(free_port(), tmp_path / "redis.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_on(redis_server):
    """The project's Celery app in this process (the API's on_commit wake-ups) on that server."""
    from config.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = redis_server.url
    app._after_fork()  # drop pools built for the previous broker (Celery's own reset hook)
    yield app
    app.conf.broker_url = previous
    app._after_fork()


def reading(location, minutes: int, celsius: str) -> dict:
    t0 = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=1)
    return {
        "location": location.pk,
        "sensor_id": f"probe-{location.pk}",
        "taken_at": (t0 + datetime.timedelta(minutes=minutes)).isoformat(),
        "temperature_c": celsius,
    }


def test_a_killed_broker_loses_no_write_and_no_email_and_sends_each_once_when_back(
    shared_database, redis_server, app_on, tmp_path, receive, cerulo
):
    from rest_framework.test import APIClient

    pharmacist = UserFactory(roles=[Role.PHARMACIST], email="pharmacist@hospital.test")
    client = APIClient()
    client.force_authenticate(pharmacist)
    fridges = [StorageLocationFactory(code=f"outage-fridge-{n}") for n in range(8)]
    for number, fridge in enumerate(fridges):  # an excursion is about the vials stored there
        receive(cerulo, fridge, 2, lot_number=f"OUT{number}")

    with smtp_sink() as (sink, smtp_port):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": shared_database,
            "CELERY_BROKER_URL": redis_server.url,
            "REDIS_URL": "",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_TIMEOUT": "10",
            "VAR_DIR": str(tmp_path / "var"),
            # Beat's sender tick every 3 s instead of 60: the test waits on it, not on a clock.
            "NOTIFICATION_SEND_INTERVAL_SECONDS": "3",
        }
        worker = Worker("outage", env, tmp_path / "worker.log")
        beat_log = tmp_path / "beat.log"
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"],
            cwd=ROOT,
            env=env,
            stdout=beat_log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            # Before: the broker is up; an excursion's alert goes out at once, through the wake-up.
            before = client.post("/api/v1/readings/", reading(fridges[0], 0, "9.5"), format="json")
            assert before.status_code == 201, before.content
            wait_for(
                lambda: Notification.objects.filter(status=NotificationStatus.SENT).count() == 1,
                what="the first alert delivered",
            )

            redis_server.kill()
            # During: every write commits and answers success; each queued its alert in the
            # outbox, and its wake-up to the broker failed (robust on_commit: logged, not raised).
            started = time.monotonic()
            for minute, fridge in enumerate(fridges[1:], start=1):
                response = client.post(
                    "/api/v1/readings/", reading(fridge, minute, "11.0"), format="json"
                )
                assert response.status_code == 201, response.content
                assert len(response.json()["excursions"]) == 1
            during_seconds = time.monotonic() - started
            assert Notification.objects.count() == 8, "every write's alert is in the outbox"
            # (A sender run already under way when the broker died may still take a new row: it
            # needs only the database. What matters is below: each one arrives, once.)
            waiting = Notification.objects.exclude(status=NotificationStatus.SENT).count()
            time.sleep(5)  # down for a while: the worker and beat keep retrying, and survive it
            assert worker.process.poll() is None, worker.output()
            assert beat.poll() is None, beat_log.read_text()

            # After: the same port, an empty broker (no message survived); beat's next tick runs
            # the sender, which finds the rows in the outbox.
            redis_server.start()
            restarted = time.monotonic()
            wait_for(
                lambda: not Notification.objects.exclude(status=NotificationStatus.SENT).exists(),
                timeout=90,
                what="every alert sent after the broker came back",
            )
            recovered_seconds = time.monotonic() - restarted
            # A few more ticks: anything still in flight would show up as a second copy.
            time.sleep(7)
            expected = set(Notification.objects.values_list("message_id", flat=True))
            received = sink.message_ids()
            assert set(received) == expected and len(expected) == 8
            assert set(received.values()) == {1}, f"a message went out twice: {received}"
            assert not Notification.objects.filter(attempts__gt=1).exists()
            print(
                f"\noutage: 7 writes during the outage in {during_seconds:.2f}s, {waiting} waiting; "
                f"all sent {recovered_seconds:.1f}s after the restart; "
                f"{sink.count()} messages, {len(expected)} distinct"
            )
        finally:
            os.killpg(beat.pid, signal.SIGTERM)
            try:
                beat.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(beat.pid, signal.SIGKILL)
            worker.stop()
