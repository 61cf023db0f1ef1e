"""Beat-driven dose scans: alerts and stock reservations (config/settings.py CELERY_BEAT_SCHEDULE).

Thin, and safe to run twice or from two schedulers: the alert scans select what is due now and
enqueue rows with unique keys (courses.alerts), waking the sender when something new was stored;
the reservation scan skips doses that already hold their vials.
"""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from courses import alerts, services
from notifications.services import notifications_wake_sender


@shared_task(name="courses.dose_reminders_scan", ignore_result=True, soft_time_limit=50)
def dose_reminders_scan() -> int:
    return notifications_wake_sender(alerts.dose_reminders_enqueue(now=timezone.now()))


@shared_task(name="courses.ward_digests_scan", ignore_result=True, soft_time_limit=50)
def ward_digests_scan() -> int:
    return notifications_wake_sender(alerts.ward_digests_enqueue(now=timezone.now()))


@shared_task(name="courses.doses_overdue_scan", ignore_result=True, soft_time_limit=240)
def doses_overdue_scan() -> int:
    return notifications_wake_sender(alerts.doses_overdue_enqueue(now=timezone.now()))


# Today's and tomorrow's doses: the pharmacy sees the vials held a day ahead, and a course
# prescribed or re-planned since the last tick is covered within the hour.
RESERVE_DAYS = 2


@shared_task(name="courses.doses_reserve_scan", ignore_result=True, soft_time_limit=600)
def doses_reserve_scan() -> int:
    """Hold vials for the scheduled doses of the next RESERVE_DAYS days; safe to run twice."""
    today = timezone.localdate()
    return services.doses_reserve(start=today, end=today + dt.timedelta(days=RESERVE_DAYS - 1))
