"""The real process set: `make run` (honcho: gunicorn, worker, beat) and beat on every broker.

Slow (a SQLite migrate and seed, real processes): marked `ops`; CI runs them in `make test`."""

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


def test_make_run_serves_50_concurrent_clients_is_ready_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    var_dir = str(tmp_path / "var")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(VAR_DIR=var_dir, HEALTH_PING_TIMEOUT_SECONDS="3")
    log = (tmp_path / "make-run.log").open("w")
    # Its own process group, as a terminal gives a foreground job: SIGINT reaches all of it.
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
            assert run.poll() is None, (tmp_path / "make-run.log").read_text()[-3000:]
            try:
                if get(f"{base}/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the web app never answered"
            time.sleep(1)

        # 50 clients at once, each a few requests: pages, a static file, the liveness probe.
        paths = ["/accounts/login/", "/static/pharmacy/app.css", "/healthz"]

        def client(number: int) -> list[int]:
            return [get(base + paths[(number + i) % len(paths)], timeout=60)[0] for i in range(3)]

        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = [status for result in pool.map(client, range(50)) for status in result]
        assert len(statuses) == 150 and set(statuses) == {200}  # no reset, no error

        # Ready: database, broker, a worker answering its ping, and beat's first tick.
        deadline = time.monotonic() + 90
        while (status := get(f"{base}/readyz")[0]) != 200 and time.monotonic() < deadline:
            time.sleep(2)
        assert status == 200, get(f"{base}/readyz")[1]
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
    output = (tmp_path / "make-run.log").read_text()
    assert stopped_in < 10, output[-3000:]
    assert returncode in (0, 130, -signal.SIGINT), output[-3000:]
    time.sleep(0.5)
    assert processes_using(f"VAR_DIR={var_dir}") == [], "an orphan survived Ctrl-C"
    assert "Segmentation fault" not in output and "Traceback" not in output


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
