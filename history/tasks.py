"""The history's one beat task: pruning past the retention period (thin: the service decides)."""

from celery import shared_task

from history.services import history_prune


@shared_task(name="history.prune", ignore_result=True)
def prune() -> int:
    """Daily: delete events older than HISTORY_RETENTION_DAYS (none when it is 0). Safe to run
    twice: a second run finds nothing older left."""
    return history_prune()
