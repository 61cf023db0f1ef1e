from celery import shared_task

from config.health.services import heartbeat_record


@shared_task(name="health.worker_heartbeat", acks_late=False, ignore_result=True)
def worker_heartbeat() -> None:
    """Queued by beat every HEALTH_BEAT_INTERVAL_SECONDS; its row says a worker takes tasks."""
    heartbeat_record(name="worker")
