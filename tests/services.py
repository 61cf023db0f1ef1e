"""Which outside services the tests can reach, decided once per run.

`DATABASE_URL` / `REDIS_URL` name them; otherwise the local ones are tried
(postgres://postgres@127.0.0.1:5432/test, redis://127.0.0.1:6379/0). With `REQUIRE_SERVICES=1`
a missing service fails the tests that need it instead of skipping them.
"""

import os
import socket
from urllib.parse import urlparse

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
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
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    return url if reachable(url, 6379) else None


def celery_worker_command(name: str) -> list[str]:
    """argv of a real `celery worker` process for the tests: one solo worker, no cluster chatter."""
    import sys

    return [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
        "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--hostname", f"{name}-{os.getpid()}@localhost",
    ]  # fmt: skip
