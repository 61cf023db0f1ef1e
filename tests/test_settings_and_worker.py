"""Settings follow the environment; a task runs through real Redis and a real worker process."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import celery_worker_command

ROOT = Path(__file__).resolve().parents[1]

PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], "
    "'db': s.DATABASES['default']['NAME'], 'broker': s.CELERY_BROKER_URL, "
    "'email': s.EMAIL_BACKEND, 'tz': s.TIME_ZONE, 'debug': s.DEBUG}))"
)


def _settings_under(env: dict, var_dir: str = "/nonexistent-var") -> dict:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "EMAIL_HOST",
            "DJANGO_DEBUG",
            "TIME_ZONE",
        }
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "VAR_DIR": var_dir,
            "DJANGO_DEBUG": "1",  # the embedded demo's settings, as `make run` exports
            **env,
        },
    )
    return json.loads(out.stdout)


def test_embedded_defaults_need_no_service(tmp_path):
    s = _settings_under({}, var_dir=str(tmp_path))
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["broker"] == "filesystem://"
    assert s["email"] == "django.core.mail.backends.filebased.EmailBackend"
    assert s["tz"] == "UTC"


def test_environment_switches_to_postgres_redis_smtp_and_time_zone():
    s = _settings_under(
        {
            "DATABASE_URL": "postgres://app@db.example:5432/pharmacy",
            "REDIS_URL": "redis://cache.example:6379/2",
            "EMAIL_HOST": "smtp.example",
            "TIME_ZONE": "Europe/Berlin",
        }
    )
    assert s["engine"] == "django.db.backends.postgresql" and s["db"] == "pharmacy"
    assert s["broker"] == "redis://cache.example:6379/2"
    assert s["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert s["tz"] == "Europe/Berlin"
    assert (
        _settings_under({"REDIS_URL": "redis://a:6379/0", "CELERY_BROKER_URL": "redis://b:6379/1"})[
            "broker"
        ]
        == "redis://b:6379/1"
    )


def test_without_django_debug_the_settings_are_production_and_need_a_secret_key(tmp_path):
    """Reported: with no DJANGO_DEBUG, DEBUG was on and SECRET_KEY fell back to the public key."""
    clean = {k: v for k, v in os.environ.items() if k not in {"DJANGO_DEBUG", "DJANGO_SECRET_KEY"}}
    env = {**clean, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path)}
    refused = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert refused.returncode != 0 and "DJANGO_SECRET_KEY" in refused.stderr
    started = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**env, "DJANGO_SECRET_KEY": "x9" * 30},
    )
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["debug"] is False


def test_persistent_connections_are_off_in_debug_and_health_checked_in_production(tmp_path):
    probe = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; print(json.dumps([d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS']]))"
    )
    base = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": "postgres://app@db.example:5432/pharmacy",
        "VAR_DIR": str(tmp_path),
    }
    runs = {
        debug: json.loads(
            subprocess.run(
                [sys.executable, "-c", probe],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
                env={**base, "DJANGO_DEBUG": debug, "DJANGO_SECRET_KEY": "x9" * 30},
            ).stdout
        )
        for debug in ("0", "1")
    }
    # The development server opens a thread (and a connection) per request: none kept in debug.
    assert runs == {"0": [60, True], "1": [0, True]}


def test_production_refuses_to_start_without_a_secret_key():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "",
        },
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE must not leak into a deploy check.
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "x9" * 30 + "-production-like-secret",
            "DJANGO_ALLOWED_HOSTS": "pharmacy.hospital.example",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
            "VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.worker
@pytest.mark.redis
@pytest.mark.rabbitmq
def test_task_runs_through_a_real_broker_and_a_worker_process(broker_url, task_queue, tmp_path):
    """Not eager mode: the task crosses the broker (Redis, RabbitMQ) to a separate `celery worker`
    process and back."""
    from celery import Celery

    backend = broker_url if broker_url.startswith("redis") else "rpc://"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": backend,
        "CELERY_TASK_DEFAULT_QUEUE": task_queue,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
        "VAR_DIR": str(tmp_path),
    }
    worker = subprocess.Popen(
        celery_worker_command("test"),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        client = Celery("probe", broker=broker_url, backend=backend, set_as_current=False)
        client.conf.task_default_queue = task_queue
        result = client.send_task("config.healthcheck")
        assert result.get(timeout=60) == {"database": "sqlite", "ok": True}
        assert worker.poll() is None  # the worker, not this process, ran it
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0]
    assert "config.healthcheck" in output and "succeeded" in output


@pytest.mark.worker
def test_embedded_set_up_runs_a_task_without_any_service(tmp_path):
    """`make run`'s set-up: filesystem broker, SQLite, a worker process — no PostgreSQL or Redis."""
    from celery import Celery

    env = {
        **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
        "VAR_DIR": str(tmp_path),
        "CELERY_RESULT_BACKEND": f"file://{tmp_path / 'results'}",
    }
    (tmp_path / "results").mkdir()
    worker = subprocess.Popen(
        celery_worker_command("embedded"),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        broker_dir = tmp_path / "celery" / "broker"
        broker_dir.mkdir(parents=True, exist_ok=True)
        client = Celery(
            "probe",
            broker="filesystem://",
            backend=env["CELERY_RESULT_BACKEND"],
            set_as_current=False,
        )
        client.conf.broker_transport_options = {
            "data_folder_in": str(broker_dir),
            "data_folder_out": str(broker_dir),
            "control_folder": str(tmp_path / "celery" / "control"),
        }
        result = client.send_task("config.healthcheck")
        assert result.get(timeout=60) == {"database": "sqlite", "ok": True}
    finally:
        worker.terminate()
        worker.communicate(timeout=30)
