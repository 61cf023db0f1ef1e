"""LOG_FORMAT=json on the real processes: gunicorn and a Celery worker write one JSON object per
line; the request's line and the lines of the task it queued carry the same request id; no line
names the patient the requests were about.

A pharmacist reads a patient (by a search holding her name, and by id) and posts an out-of-range
reading, which queues the sender's wake-up; the test reads both processes' whole output.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from knox.models import AuthToken

from config.roles import Role
from tests.factories import PatientFactory, UserFactory
from tests.notifications import test_worker
from tests.notifications.smtp import free_port, smtp_sink
from tests.notifications.test_worker import ROOT, Worker, wait_for
from tests.services import queue_delete

pytestmark = [pytest.mark.ops, pytest.mark.worker, pytest.mark.redis]
shared_database = test_worker.shared_database  # the live test database, for the processes


def _lines(text: str) -> list[dict]:
    """Every non-empty line as a JSON object (fails, naming the line, on one that is not).

    Except Celery's shutdown notice ("worker: Warm shutdown (MainProcess)"), which it writes
    straight to the terminal, not through logging."""
    parsed = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("worker: "):
            continue
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON object: {line!r}")
    return parsed


class QuietWorker(Worker):
    """The test's worker without Celery's start-up banner (`celery --quiet`), which is printed,
    not logged; what remains is log lines."""

    def __init__(self, name, env, log):
        import tests.notifications.test_worker as module

        command = module.celery_worker_command
        module.celery_worker_command = lambda n: [*command(n)[:5], "--quiet", *command(n)[5:]]
        try:
            super().__init__(name, env, log)
        finally:
            module.celery_worker_command = command


def test_json_logs_of_web_and_worker_carry_the_request_id_and_no_patient(
    shared_database, redis_url, tmp_path, receive, cerulo, fridge
):
    patient = PatientFactory(name="Zelda Logcheck", mrn="LOGMRN-4711")
    pharmacist = UserFactory(roles=[Role.PHARMACIST], email="pharmacist@hospital.test")
    _, token = AuthToken.objects.create(user=pharmacist)
    receive(cerulo, fridge, 2, lot_number="LOG1")
    queue, port = f"test-{os.getpid()}-{uuid.uuid4().hex[:10]}", free_port()
    with smtp_sink() as (_, smtp_port):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": shared_database,
            "CELERY_BROKER_URL": redis_url,
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "REDIS_URL": "",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "VAR_DIR": str(tmp_path / "var"),
            "LOG_FORMAT": "json",
            "WEB_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "1",
            # Celery warns before its logging is set up when run as root (CI runs as root); a
            # production worker runs as its own user and never prints it.
            "PYTHONWARNINGS": "ignore:You're running the worker with superuser privileges",
        }
        worker = QuietWorker("jsonlog", env, tmp_path / "worker.log")
        web_log = tmp_path / "web.log"
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "config/gunicorn.conf.py",
                "config.wsgi",
            ],
            cwd=ROOT,
            env=env,
            stdout=web_log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"

        def call(path: str, body: dict | None = None, rid: str = "") -> int:
            request = urllib.request.Request(
                base + path,
                data=json.dumps(body).encode() if body is not None else None,
                headers={
                    "Authorization": f"Token {token}",
                    "Content-Type": "application/json",
                    "X-Request-ID": rid,
                },
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status

        try:

            def up() -> bool:
                assert web.poll() is None, web_log.read_text()
                try:
                    return urllib.request.urlopen(f"{base}/healthz", timeout=2).status == 200
                except OSError:
                    return False

            wait_for(up, timeout=60, what="gunicorn")
            rid = f"logtest-{uuid.uuid4().hex[:12]}"
            assert call(f"/api/v1/patients/?search={quote(patient.name)}") == 200
            assert call(f"/api/v1/patients/{patient.pk}/") == 200
            reading = {
                "location": fridge.pk,
                "sensor_id": "probe-1",
                "taken_at": datetime.now(UTC).isoformat(),
                "temperature_c": "9.5",
            }
            assert call("/api/v1/readings/", reading, rid=rid) == 201
            wait_for(
                lambda: f"{rid}" in worker.output() and "SUCCESS" in worker.output(),
                what="the woken sender's task lines",
            )
            time.sleep(1)
        finally:
            os.killpg(web.pid, signal.SIGTERM)
            web.wait(timeout=20)
            worker.stop()
            queue_delete(redis_url, queue)

    web_lines, worker_lines = _lines(web_log.read_text()), _lines(worker.output())
    requests = [
        line for line in web_lines if line.get("event") == "request" and line["path"] != "/healthz"
    ]
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("GET", "/api/v1/patients/", 200),  # the query string (her name) is not logged
        ("GET", f"/api/v1/patients/{patient.pk}/", 200),
        ("POST", "/api/v1/readings/", 201),
    ]
    assert len({r["request_id"] for r in requests}) == 3
    (posted,) = [r for r in requests if r["method"] == "POST"]
    assert posted["request_id"] == rid and posted["user_id"] == pharmacist.pk
    task_lines = [line for line in worker_lines if line.get("event") == "task"]
    carried = [line for line in task_lines if line["request_id"] == rid]
    assert [(t["task"], t["state"]) for t in carried] == [("notifications.send_due", "SUCCESS")]
    for line in web_lines + worker_lines:
        text = json.dumps(line)
        assert "Zelda" not in text and "Logcheck" not in text and "LOGMRN-4711" not in text
