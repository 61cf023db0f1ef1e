import logging
import os
import time

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

task_logger = logging.getLogger("config.task")
_started: dict[str, float] = {}


@app.task(name="config.healthcheck", acks_late=False)
def healthcheck() -> dict:
    """Proves a worker is alive and reaches the database; used by monitoring and the tests."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return {"database": connection.vendor, "ok": one == 1}


@signals.setup_logging.connect
def _logging_from_django(**_) -> None:
    """Workers and beat log through Django's LOGGING (text or JSON, with request ids) instead of
    Celery's own set-up: one format for every process."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@signals.worker_init.connect
@signals.beat_init.connect
def _folders(**_) -> None:
    from config.paths import var_dirs_ensure

    var_dirs_ensure()


@signals.before_task_publish.connect
def _carry_request_id(headers=None, **_) -> None:
    """A task queued while serving a request carries that request's id into the worker's logs."""
    from config.logging import request_id

    if headers is not None and request_id() != "-":
        headers["request_id"] = request_id()


@signals.task_prerun.connect
def _task_started(task_id=None, task=None, **_) -> None:
    from config.logging import request_id_var

    carried = getattr(task.request, "request_id", None) or (task.request.headers or {}).get(
        "request_id"
    )
    request_id_var.set(carried or task_id)
    _started[task_id] = time.monotonic()


@signals.task_postrun.connect
def _task_finished(task_id=None, task=None, state=None, **_) -> None:
    """One line per task run: its name, id, state and duration — never its arguments or result."""
    from config.logging import request_id_var

    started = _started.pop(task_id, None)
    duration_ms = round((time.monotonic() - started) * 1000, 1) if started else None
    task_logger.info(
        "task %s %s %s %sms",
        task.name,
        task_id,
        state,
        duration_ms,
        extra={
            "event": "task",
            "task": task.name,
            "task_id": task_id,
            "state": state,
            "duration_ms": duration_ms,
        },
    )
    request_id_var.set("-")
