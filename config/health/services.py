import logging

from django.db import close_old_connections, connection
from django.utils import timezone

from config.health.models import Heartbeat

logger = logging.getLogger(__name__)


def heartbeat_record(*, name: str) -> bool:
    """Store `name`'s heartbeat now; False (logged, not raised) when the database is away.

    Beat calls this from its loop: a database outage must not stop the scheduler, and the next
    call must reconnect rather than reuse a dead connection (hence close on error)."""
    # Outside a transaction only: inside one (a test, a caller's atomic block) it is not ours.
    if not connection.in_atomic_block:
        close_old_connections()
    try:
        Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})
        return True
    except Exception as exc:  # any database error: reported by /readyz, never fatal here
        logger.warning("heartbeat %s not recorded: %s", name, type(exc).__name__)
        if not connection.in_atomic_block:
            connection.close()
        return False
