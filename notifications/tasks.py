"""The one notification task: send what is due. Beat runs it every minute.

Exactly once, from the reader's view — what holds and where it stops
--------------------------------------------------------------------
* One row per alert. `Notification.key` is unique; `notification_enqueue` inserts inside a
  savepoint and treats the unique violation as "already there", so a scan that runs twice, two
  beat schedulers, or two workers racing on one key store one row. Tested on PostgreSQL with two
  threads released together (tests/notifications/test_enqueue.py).
* Nothing is queued from a rolled-back transaction: callers enqueue rows in their transaction and
  the worker is woken with `transaction.on_commit` (`notifications_send_after_commit`). Tested
  against the real Redis list the broker uses (tests/notifications/test_worker.py).
* Reminders are not ETA messages in Redis: they are rows with `next_attempt_at`, found by this
  task's due scan, so the broker's message is only a "look now" that may be duplicated or lost.
  The task is idempotent (`acks_late`: a lost worker's message is delivered again, harmless).
* Claims: a batch is taken with SELECT … FOR UPDATE SKIP LOCKED (PostgreSQL) and stamped with a
  claim token and a lease (`next_attempt_at` = now + NOTIFICATION_CLAIM_LEASE_SECONDS). A worker
  stops sending a batch at 80 % of its lease, so a live worker and a reclaiming one never hold
  the same row. A killed worker's rows are due again when the lease ends.
* The window: the SMTP server accepts a message (250) and the row is then marked sent in its own
  short commit. A worker killed between the two leaves the row `sending`; after the lease it is
  sent again. Raw deliveries can therefore exceed one for the message in flight at the moment of
  the kill (at most one per killed worker, since a worker sends one message at a time). The
  same bytes go out with the same `Message-ID` (a pure function of the key), which is what mail
  clients and archives use to collapse duplicates. SMTP itself offers nothing better (RFC 1047:
  a connection lost after the final "." cannot tell the client whether the message was taken).
* Why not one UPDATE per batch for the sent marks: a worker killed mid-batch would then leave
  every message it had sent in that batch unmarked, and all of them would go out again — up to
  a batch per kill instead of one message. The per-row mark stays; what it no longer does is
  wait for the disk: on PostgreSQL the sender's session commits with `synchronous_commit = off`
  (`_commits_without_flush_wait`). A committed mark is visible to every worker at once and
  survives the worker's death, so the window above is unchanged for a lost worker. A crash of
  the database server itself can lose the marks of its last fraction of a second (at most
  3 × `wal_writer_delay`); those rows are re-sent after their lease with the same Message-ID.
* What the tests prove (tests/notifications/test_worker.py, real Redis, real `celery worker`
  processes, aiosmtpd on loopback): a task sent through the broker delivers one e-mail; the same
  task sent four times to two workers delivers each due e-mail exactly once (raw count = unique
  Message-IDs); a worker SIGKILLed mid-batch and restarted leaves every row `sent` and every
  Message-ID delivered — once when the kill lands before the server stored the message in
  flight, twice (same Message-ID, exactly one extra) when it lands after the server stored it
  and before its 250 reached the worker. The kill is placed by watching the server, so both
  cases run every time. Not proven: delivery beyond the first SMTP hop, or that every mail
  client collapses duplicates by Message-ID.
"""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from notifications.services import notifications_send_due


@shared_task(
    name="notifications.send_due",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=settings.NOTIFICATION_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.NOTIFICATION_TASK_SOFT_TIME_LIMIT + 30,
)
def send_due() -> dict:
    return notifications_send_due(now=timezone.now()).as_dict()
