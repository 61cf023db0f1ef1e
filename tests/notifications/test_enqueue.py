import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from notifications.models import Notification, NotificationKind, NotificationStatus
from notifications.services import (
    NotificationDraft,
    notification_message_id,
    notifications_enqueue_many,
)
from tests.notifications.conftest import enqueue


@pytest.mark.django_db
def test_enqueue_renders_both_bodies_and_derives_the_message_id():
    notification, created = enqueue(
        key="expiry:lot:9:30d",
        subject="Lot 9 expires in 30 days",
        context={"heading": "Expiry <soon>", "lines": ["Lot 9 & co"]},
        threshold="30d",
    )
    assert created
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING
    assert notification.next_attempt_at == notification.due_at
    assert notification.message_id == notification_message_id("expiry:lot:9:30d")
    assert notification.message_id.startswith("<notification.")
    assert "Expiry <soon>" in notification.body_text and "Lot 9 & co" in notification.body_text
    assert "Expiry &lt;soon&gt;" in notification.body_html and "<li>Lot 9 &amp; co</li>" in (
        notification.body_html
    )


@pytest.mark.django_db
def test_second_enqueue_with_the_same_key_creates_nothing_and_changes_nothing():
    first, created = enqueue(key="digest:ward-3a:2026-11-23", subject="First")
    again, created_again = enqueue(
        key="digest:ward-3a:2026-11-23", subject="Second", recipients=["other@hospital.test"]
    )
    assert created and not created_again
    assert again.pk == first.pk and again.subject == "First"
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_recipients_are_deduplicated_and_a_subject_cannot_carry_a_newline():
    notification, _ = enqueue(
        recipients=["b@hospital.test", " a@hospital.test", "b@hospital.test", ""],
        subject="Dose due\r\nBcc: everyone@example.com",
    )
    assert notification.recipients == ["a@hospital.test", "b@hospital.test"]
    assert notification.subject == "Dose due Bcc: everyone@example.com"


@pytest.mark.django_db
def test_an_alert_nobody_can_receive_is_kept_as_a_visible_failure():
    notification, created = enqueue(recipients=[])
    assert created
    assert notification.status == NotificationStatus.FAILED
    assert notification.next_attempt_at is None
    assert "No recipients" in notification.last_error


@pytest.mark.django_db
def test_enqueue_many_skips_keys_already_there():
    enqueue(key="dose_reminder:dose:1")

    def draft(number):
        return NotificationDraft(
            kind=NotificationKind.DOSE_REMINDER,
            key=f"dose_reminder:dose:{number}",
            recipients=["nurse@hospital.test"],
            subject=f"Dose {number}",
            template="message",
            context={},
            subject_type="dose",
            subject_id=number,
            due_at=timezone.now(),
        )

    assert notifications_enqueue_many(drafts=[draft(n) for n in range(1, 6)]) == 4
    assert notifications_enqueue_many(drafts=[draft(n) for n in range(1, 6)]) == 0
    assert Notification.objects.count() == 5
    assert Notification.objects.get(key="dose_reminder:dose:3").message_id == (
        notification_message_id("dose_reminder:dose:3")
    )


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_enqueues_of_one_key_store_one_row(postgres):
    """Two connections insert the same key at the same moment, each inside its own transaction
    that stays open a little: the unique index makes the second wait for the first's commit."""
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker(subject):
        from django.db import transaction

        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                results.append(enqueue(key="excursion:7", subject=subject))
                # Hold the transaction open so the other insert surely meets the uncommitted row.
                time.sleep(0.3)
        except Exception as exc:  # surfaced below: a thread's exception would be lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(created for _, created in results) == [False, True]
    assert Notification.objects.filter(key="excursion:7").count() == 1
    assert len({notification.pk for notification, _ in results}) == 1
