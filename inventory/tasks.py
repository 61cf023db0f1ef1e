from celery import shared_task
from django.utils import timezone

from inventory import services


@shared_task(name="inventory.lots_expire")
def lots_expire() -> int:
    """Daily: mark lots past their expiry day as expired. Safe to run twice (already expired)."""
    return services.lots_expire(on=timezone.localdate())
