"""Beat-driven dose alert scans (see config/settings.py CELERY_BEAT_SCHEDULE).

Thin: each selects what is due now and enqueues rows with unique keys (courses.alerts), so it is
safe to run twice or from two schedulers; when something new was stored it wakes the sender
instead of waiting for its next tick.
"""

from celery import shared_task
from django.utils import timezone

from courses import alerts
from inventory.notifications.tasks import wake_sender


@shared_task(name="courses.dose_reminders_scan", ignore_result=True, soft_time_limit=50)
def dose_reminders_scan() -> int:
    return wake_sender(alerts.dose_reminders_enqueue(now=timezone.now()))


@shared_task(name="courses.ward_digests_scan", ignore_result=True, soft_time_limit=50)
def ward_digests_scan() -> int:
    return wake_sender(alerts.ward_digests_enqueue(now=timezone.now()))


@shared_task(name="courses.doses_overdue_scan", ignore_result=True, soft_time_limit=240)
def doses_overdue_scan() -> int:
    return wake_sender(alerts.doses_overdue_enqueue(now=timezone.now()))
