"""Thin beat tasks of inventory; the alert scans are safe to run twice (unique keys)."""

from celery import shared_task
from django.utils import timezone

from inventory import alerts, services
from notifications.services import notifications_wake_sender


@shared_task(name="inventory.lots_expire")
def lots_expire() -> int:
    """Daily: mark lots past their expiry day as expired. Safe to run twice (already expired)."""
    return services.lots_expire(on=timezone.localdate())


@shared_task(name="inventory.expiry_alerts", ignore_result=True, soft_time_limit=240)
def expiry_alerts() -> int:
    created = int(alerts.expiry_alerts_enqueue(on=timezone.localdate()) is not None)
    alerts.expiry_markers_prune(now=timezone.now())
    return notifications_wake_sender(created)


@shared_task(name="inventory.excursion_reminders_scan", ignore_result=True, soft_time_limit=240)
def excursion_reminders_scan() -> int:
    return notifications_wake_sender(alerts.excursion_reminders_enqueue(now=timezone.now()))


@shared_task(name="inventory.shortage_alerts", ignore_result=True, soft_time_limit=240)
def shortage_alerts() -> int:
    return notifications_wake_sender(alerts.shortage_alerts_enqueue(on=timezone.localdate()))


@shared_task(name="inventory.sensor_silence_scan", ignore_result=True, soft_time_limit=240)
def sensor_silence_scan() -> int:
    return notifications_wake_sender(alerts.sensor_silence_alerts_enqueue(now=timezone.now()))
