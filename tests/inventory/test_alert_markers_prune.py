"""Expiry markers are pruned once their lot is past its expiry: the table stops growing with
every lot ever received, and no lot is alerted twice for a threshold."""

import datetime

import pytest
from django.utils import timezone

from inventory import alerts, tasks
from notifications.models import AlertMarker, Notification

pytestmark = pytest.mark.django_db


def test_markers_older_than_the_widest_threshold_are_pruned_and_no_lot_is_alerted_twice(
    receive, cerulo, fridge, today, settings
):
    settings.EXPIRY_ALERT_DAYS = [90, 30, 7]
    receive(cerulo, fridge, 2, lot_number="SOON", expiry_days=20)
    digest = alerts.expiry_alerts_enqueue(on=today)
    assert digest is not None
    keys = set(AlertMarker.objects.values_list("key", flat=True))
    assert len(keys) == 2  # the 90- and 30-day thresholds, crossed at once
    now = timezone.now()
    # Within the widest threshold and its month's margin: kept, so the lot is not alerted again.
    assert alerts.expiry_markers_prune(now=now + datetime.timedelta(days=120)) == 0
    assert alerts.expiry_alerts_enqueue(on=today + datetime.timedelta(days=1)) is None
    # An unrelated marker (another alert's key) is never touched.
    AlertMarker.objects.create(key="other:kind:1", notification=digest)
    AlertMarker.objects.filter(key__in=keys).update(created_at=now - datetime.timedelta(days=122))
    assert alerts.expiry_markers_prune(now=now) == 2
    assert list(AlertMarker.objects.values_list("key", flat=True)) == ["other:kind:1"]
    assert Notification.objects.filter(pk=digest.pk).exists()  # the e-mail record stays


def test_the_daily_task_prunes_after_its_digest(receive, cerulo, fridge, settings):
    settings.EXPIRY_ALERT_DAYS = [90, 30, 7]
    receive(cerulo, fridge, 2, lot_number="SOON", expiry_days=20)
    tasks.expiry_alerts()
    assert AlertMarker.objects.count() == 2
    AlertMarker.objects.update(created_at=timezone.now() - datetime.timedelta(days=200))
    receive(cerulo, fridge, 1, lot_number="LATER", expiry_days=60)
    tasks.expiry_alerts()  # the 200-day-old markers go; the task runs whatever it lists
    assert (
        not AlertMarker.objects.filter(key__contains=":lot:")
        .exclude(created_at__gte=timezone.now() - datetime.timedelta(days=1))
        .exists()
    )
