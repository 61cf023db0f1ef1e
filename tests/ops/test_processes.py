"""The real process set: `make run` (honcho: gunicorn, worker, beat) and beat on every broker.

Slow (a SQLite migrate and seed, real processes): marked `ops`; CI runs them in `make test`."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.ops


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def processes_using(marker: str) -> list[int]:
    """Live processes whose environment names `marker` (this run's VAR_DIR)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@contextlib.contextmanager
def make_run(tmp_path: Path, **environment: str):
    """`make run` in a process group of its own (as a terminal's foreground job), answering on a
    free port; on leaving, Ctrl-C (SIGINT to the group) and the checks that it stopped cleanly:
    within 10 s, exit 0 or 130, no orphan, no crash."""
    port = free_port()
    var_dir = str(tmp_path / "var")
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "CELERY_TASK_DEFAULT_QUEUE",
            "DJANGO_SETTINGS_MODULE",
        }
    }
    env.update(VAR_DIR=var_dir, HEALTH_PING_TIMEOUT_SECONDS="3", **environment)
    log_path = tmp_path / "make-run.log"
    log = log_path.open("w")
    run = subprocess.Popen(
        ["make", "-s", "run", f"HOST=127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        process_group=0,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert run.poll() is None, log_path.read_text()[-3000:]
            try:
                if get(f"{base}/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the web app never answered"
            time.sleep(1)
        yield base, env
    finally:
        stopping = time.monotonic()
        os.killpg(run.pid, signal.SIGINT)  # Ctrl-C
        try:
            returncode = run.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            raise
        stopped_in = time.monotonic() - stopping
        log.close()
    output = log_path.read_text()
    assert stopped_in < 10, output[-3000:]
    assert returncode in (0, 130, -signal.SIGINT), output[-3000:]
    time.sleep(0.5)
    assert processes_using(f"VAR_DIR={var_dir}") == [], "an orphan survived Ctrl-C"
    assert "Segmentation fault" not in output and "Traceback" not in output


def wait_ready(base: str, seconds: float = 90) -> None:
    """/readyz 200: database, broker, a worker answering its ping, and beat's tick."""
    deadline = time.monotonic() + seconds
    while (status := get(f"{base}/readyz")[0]) != 200 and time.monotonic() < deadline:
        time.sleep(2)
    assert status == 200, get(f"{base}/readyz")[1]


# Moves one seeded scheduled dose to two minutes from now (inside its ward's reminder lead time)
# and prints its id: the reminder must then come from beat's scan, through the worker.
DUE_DOSE = """
import datetime as dt
from django.utils import timezone
from courses.models import Dose
dose = (
    Dose.objects.filter(status="scheduled", scheduled_at__gt=timezone.now() + dt.timedelta(hours=1))
    .exclude(course__patient__ward__reminder_lead_minutes__lt=5)
    .order_by("scheduled_at")
    .first()
)
Dose.objects.filter(pk=dose.pk).update(scheduled_at=timezone.now() + dt.timedelta(minutes=2))
print(dose.pk)
"""

REMINDED = """
from notifications.models import Notification
print(list(Notification.objects.filter(kind="dose_reminder", subject_id="{dose}")
    .values_list("status", "attempts")))
"""


@pytest.fixture
def scratch_postgres():
    """A PostgreSQL database of this test's own on the server the run was given, dropped after."""
    from urllib.parse import urlparse

    import psycopg

    from tests import services

    url = services.database_url()
    if url is None:
        pytest.skip("needs PostgreSQL")
    name = f"{urlparse(url).path.lstrip('/')}_run_{os.getpid()}"
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def assert_a_due_dose_is_reminded(env: dict[str, str], tmp_path: Path) -> None:
    """A dose coming due is reminded by beat's scan and sent by the worker, once."""

    def shell(code: str) -> str:
        return (
            subprocess.run(
                [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
                cwd=ROOT,
                env={**env, "DJANGO_DEBUG": "1"},
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )

    dose = shell(DUE_DOSE)
    # Beat scans for reminders every minute; on a loaded machine a scan can queue behind others.
    deadline = time.monotonic() + 240
    while (found := shell(REMINDED.format(dose=dose))) != "[('sent', 1)]":
        assert time.monotonic() < deadline, (
            found + "\n" + (tmp_path / "make-run.log").read_text()[-4000:]
        )
        time.sleep(5)
    assert list((tmp_path / "var" / "mail").glob("*.log")), "sent, but no message was written"


# Sends due e-mail every 10 s instead of every minute, so the reminder arrives sooner.
QUICK_SENDER = {"NOTIFICATION_SEND_INTERVAL_SECONDS": "10"}


def test_make_run_serves_50_concurrent_clients_reminds_a_due_dose_and_stops_on_ctrl_c(tmp_path):
    """The embedded defaults (SQLite, filesystem broker): the issue's "done when" for them."""
    with make_run(tmp_path, **QUICK_SENDER) as (base, env):
        # 50 clients at once, each a few requests: pages, a static file, the liveness probe.
        paths = ["/accounts/login/", "/static/pharmacy/app.css", "/healthz"]

        def client(number: int) -> list[int]:
            return [get(base + paths[(number + i) % len(paths)], timeout=60)[0] for i in range(3)]

        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = [status for result in pool.map(client, range(50)) for status in result]
        assert len(statuses) == 150 and set(statuses) == {200}  # no reset, no error
        wait_ready(base)
        assert_a_due_dose_is_reminded(env, tmp_path)


@pytest.mark.redis
@pytest.mark.rabbitmq
@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
def test_make_run_on_postgres_with_each_broker_reminds_a_due_dose(
    broker, task_queue_for, scratch_postgres, tmp_path
):
    """`make run` with DATABASE_URL + REDIS_URL, and with a RabbitMQ broker: web, worker and beat
    ready, a due dose reminded through beat and worker, and Ctrl-C stops it all cleanly."""
    environment = {**QUICK_SENDER, **task_queue_for(broker), "DATABASE_URL": scratch_postgres}
    with make_run(tmp_path, **environment) as (base, env):
        wait_ready(base)
        assert_a_due_dose_is_reminded(env, tmp_path)


@pytest.fixture
def task_queue_for(request):
    """{broker settings} for a broker by name, on a queue of this test's own (deleted after)."""
    import uuid

    from tests import services

    made: list[tuple[str, str]] = []

    def make(broker: str) -> dict[str, str]:
        url = request.getfixturevalue("redis_url" if broker == "redis" else "amqp_url")
        name = f"test-{os.getpid()}-{uuid.uuid4().hex[:10]}"
        made.append((url, name))
        settings = {"CELERY_TASK_DEFAULT_QUEUE": name}
        settings["REDIS_URL" if broker == "redis" else "CELERY_BROKER_URL"] = url
        return settings

    yield make
    for url, name in made:
        services.queue_delete(url, name)


@pytest.mark.redis
@pytest.mark.rabbitmq
def test_beat_starts_on_a_fresh_checkout_with_each_broker(broker_url, task_queue, tmp_path):
    """The schedule's folder did not exist and no settings import made it: beat makes it."""
    var_dir = tmp_path / "fresh-var"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_DEFAULT_QUEUE": task_queue,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'beat.sqlite3'}",
        "VAR_DIR": str(var_dir),
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    log = tmp_path / "beat.log"
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        import sqlite3

        deadline = time.monotonic() + 60
        database = sqlite3.connect(tmp_path / "beat.sqlite3")
        # Its first tick records beat's heartbeat: it started, opened its schedule and ticks.
        while not database.execute("SELECT 1 FROM health_heartbeat WHERE name='beat'").fetchall():
            assert beat.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        database.close()
        time.sleep(2)
        assert beat.poll() is None, log.read_text()
    finally:
        beat.terminate()
        beat.wait(timeout=15)
    assert (var_dir / "celery" / "beat-schedule").exists() or any(
        (var_dir / "celery").glob("beat-schedule*")
    )
    assert "FileNotFoundError" not in log.read_text()
