"""Which outside services the tests can reach, decided once per run.

`DATABASE_URL` / `TEST_REDIS_URL` (else `REDIS_URL`) / `TEST_AMQP_URL` name them; otherwise the
local ones are tried (postgres://postgres@127.0.0.1:5432/test, redis://127.0.0.1:6379/0,
amqp://guest:guest@127.0.0.1:5672//). With `REQUIRE_SERVICES=1`
a missing service fails the tests that need it instead of skipping them.
"""

import contextlib
import os
import socket
from urllib.parse import urlparse

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


def database_url() -> str | None:
    """The PostgreSQL URL to test against, or None to use SQLite."""
    if os.environ.get("TEST_DB") == "sqlite":
        return None
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if url.startswith("sqlite"):
        return None
    if reachable(url, 5432):
        return url
    if REQUIRE_SERVICES:
        raise RuntimeError(f"REQUIRE_SERVICES=1 but PostgreSQL at {url} is unreachable")
    return None


def redis_url() -> str | None:
    """The Redis database the run was given, exactly as given (the tests never pick another)."""
    url = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    return url if reachable(url, 6379) else None


def amqp_url() -> str | None:
    url = os.environ.get("TEST_AMQP_URL") or DEFAULT_AMQP_URL
    return url if reachable(url, 5672) else None


def celery_worker_command(name: str) -> list[str]:
    """argv of a real `celery worker` process for the tests: one solo worker, no cluster chatter."""
    import sys

    return [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
        "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--hostname", f"{name}-{os.getpid()}@localhost",
    ]  # fmt: skip


def queue_length(broker_url: str, queue: str) -> int:
    """Messages waiting in `queue` (not those a worker holds unacknowledged), on either broker."""
    if broker_url.startswith("redis"):
        import redis

        return redis.Redis.from_url(broker_url).llen(queue)
    from kombu import Connection

    with Connection(broker_url) as connection:
        return connection.default_channel.queue_declare(queue=queue, passive=True).message_count


def queue_delete(broker_url: str, queue: str) -> None:
    """Remove a test's own queue (and, on Redis, its binding key): nothing another run uses."""
    if broker_url.startswith("redis"):
        import redis

        redis.Redis.from_url(broker_url).delete(queue, f"_kombu.binding.{queue}")
        return
    from kombu import Connection

    with Connection(broker_url) as connection:
        channel = connection.default_channel
        channel.queue_delete(queue=queue)
        # Celery names the default exchange after the queue; absent if the test failed early.
        with contextlib.suppress(Exception):
            channel.exchange_delete(exchange=queue)
