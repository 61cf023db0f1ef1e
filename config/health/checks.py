"""What /readyz and `manage.py health` check: the database, the broker, a worker, the beat.

Each check answers (ok, detail) and never raises; the detail names what failed without secrets
(no URLs with passwords). The worker is pinged only when the broker answered.
"""

from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.health.models import Heartbeat


@dataclass(frozen=True)
class Result:
    ok: bool
    detail: str


def database() -> Result:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return Result(True, connection.vendor)
    except Exception as exc:
        return Result(False, f"{type(exc).__name__}: {str(exc).strip()[:200]}")


def broker() -> Result:
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.5, timeout=3)
            return Result(True, conn.transport.driver_name)
    except Exception as exc:
        return Result(False, f"{type(exc).__name__}: {str(exc).strip()[:200]}")


def worker() -> Result:
    from config.celery import app

    try:
        replies = app.control.ping(timeout=settings.HEALTH_PING_TIMEOUT_SECONDS, limit=1)
    except Exception as exc:
        return Result(False, f"{type(exc).__name__}: {str(exc).strip()[:200]}")
    if not replies:
        return Result(
            False, f"no worker answered a ping within {settings.HEALTH_PING_TIMEOUT_SECONDS:g} s"
        )
    return Result(True, ", ".join(sorted(name for reply in replies for name in reply)))


def heartbeat_age(name: str, beats: dict | None = None) -> timedelta | None:
    """How old `name`'s last heartbeat is (None: never seen)."""
    if beats is None:
        beats = heartbeats_read()
    at = beats.get(name)
    return None if at is None else timezone.now() - at


def heartbeats_read() -> dict:
    return dict(Heartbeat.objects.values_list("name", "at"))


def stale_after() -> timedelta:
    return timedelta(seconds=2 * settings.HEALTH_BEAT_INTERVAL_SECONDS)


def beat() -> Result:
    try:
        age = heartbeat_age("beat")
    except Exception as exc:
        return Result(False, f"{type(exc).__name__}: heartbeat unreadable")
    if age is None:
        return Result(False, "beat has never ticked")
    if age > stale_after():
        return Result(False, f"beat's last tick was {age.total_seconds():.0f} s ago")
    return Result(True, f"last tick {age.total_seconds():.0f} s ago")


def readiness() -> dict:
    """{"status": "ok"|"fail", "checks": {name: {"ok", "detail"}}, "failed": [names]}."""
    results = {"database": database(), "broker": broker()}
    results["worker"] = (
        worker() if results["broker"].ok else Result(False, "not checked: broker unreachable")
    )
    results["beat"] = (
        beat() if results["database"].ok else Result(False, "not checked: no database")
    )
    failed = [name for name, result in results.items() if not result.ok]
    return {
        "status": "fail" if failed else "ok",
        "checks": {name: asdict(result) for name, result in results.items()},
        "failed": failed,
    }
