"""Writes for notifications: enqueue (idempotent by key), the batch sender, re-send.

Domain alerts select their rows, render nothing themselves and call `notification_enqueue`
(or `notifications_enqueue_many`) inside their own transaction; the beat task
`notifications.send_due` delivers. See `notifications.tasks` for the exactly-once
reasoning.
"""

import hashlib
import json
import logging
import random
import smtplib
import time
import uuid
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from email.utils import formataddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from notifications import rendering
from notifications.models import AlertMarker, Notification, NotificationStatus
from notifications.selectors import recipient_languages

logger = logging.getLogger(__name__)

OPEN_STATUSES = (NotificationStatus.PENDING, NotificationStatus.SENDING)


# --- Enqueue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationDraft:
    """Everything `notification_enqueue` takes, for enqueueing many in one statement."""

    kind: str
    key: str
    recipients: Iterable[str]
    template: str
    context: dict
    subject_type: str
    subject: str = ""
    subject_id: str | int = ""
    due_at: datetime | None = None
    threshold: str = ""
    for_date: date | None = None


def notification_message_id(key: str) -> str:
    """A Message-ID that is a pure function of the key, so every retry carries the same one.

    Hashed because a key holds characters (":") that a Message-ID's dot-atom may not.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<notification.{digest}@{settings.NOTIFICATION_MESSAGE_ID_DOMAIN}>"


def _clean_recipients(recipients: Iterable[str]) -> list[str]:
    # Sorted and de-duplicated: one mailbox reached through two roles gets one copy.
    return sorted({address.strip() for address in recipients if address and address.strip()})


def _build(draft: NotificationDraft, *, now: datetime) -> Notification:
    if not draft.key or len(draft.key) > 200:
        raise ValidationError({"key": _("A key of 1 to 200 characters is required.")})
    recipients = _clean_recipients(draft.recipients)
    context = rendering.context_encode(draft.context)
    # The row's own subject and bodies, in the site's language, are the record the admin and the
    # API show; each recipient's copy is rendered again at send time in their language.
    subject, body_text, body_html = rendering.render(
        template=draft.template,
        context=context,
        subject=draft.subject,
        language=settings.LANGUAGE_CODE,
    )
    due_at = draft.due_at or now
    notification = Notification(
        kind=draft.kind,
        key=draft.key,
        subject_type=draft.subject_type,
        subject_id=str(draft.subject_id),
        threshold=draft.threshold,
        for_date=draft.for_date,
        recipients=recipients,
        subject=subject,
        template=draft.template,
        context=context,
        body_text=body_text,
        body_html=body_html,
        message_id=notification_message_id(draft.key),
        due_at=due_at,
        next_attempt_at=due_at,
        created_at=now,
    )
    if not recipients:
        # Kept as a visible failure, not an exception: an alert nobody can receive must show up
        # in the admin and API instead of vanishing in a task log.
        notification.status = NotificationStatus.FAILED
        notification.next_attempt_at = None
        notification.last_error = "No recipients: nobody holds the role or the ward has no mailbox."
    return notification


def notification_enqueue(
    *,
    kind: str,
    key: str,
    recipients: Iterable[str],
    template: str,
    context: dict,
    subject_type: str,
    subject: str = "",
    subject_id: str | int = "",
    due_at: datetime | None = None,
    threshold: str = "",
    for_date: date | None = None,
) -> tuple[Notification, bool]:
    """Store one notification unless one with this key exists; returns (row, created).

    `template` names `notifications/email/<template>.txt` and `.html` (and
    `<template>_subject.txt`, else `subject` is the subject), rendered with `context` at send
    time in each recipient's language (`notifications.rendering`); `context` must hold only
    JSON values, dates, times and decimals. `due_at` (default now) is when it should go out.
    Idempotent under concurrency: the unique key decides, inside a savepoint, so two callers
    racing on one key get one row (the loser waits for the winner's commit, then reads it).
    """
    draft = NotificationDraft(**locals())  # exactly the keyword arguments above
    notification = _build(draft, now=timezone.now())
    try:
        with transaction.atomic():
            notification.save(force_insert=True)
        return notification, True
    except IntegrityError:
        existing = Notification.objects.filter(key=key).first()
        if existing is None:  # another constraint failed, not the key's: a real error
            raise
        return existing, False


def notifications_enqueue_many(*, drafts: Iterable[NotificationDraft]) -> int:
    """Store many notifications in few statements; keys already present are skipped.

    For scans that raise thousands at once (dose reminders). Uses INSERT … ON CONFLICT DO
    NOTHING, so it is as idempotent as `notification_enqueue`. Returns how many keys were new
    when it looked; under a concurrent run that number is approximate, the rows are not.
    """
    now = timezone.now()
    rows = [_build(draft, now=now) for draft in drafts]
    if not rows:
        return 0
    keys = [row.key for row in rows]
    before = set(Notification.objects.filter(key__in=keys).values_list("key", flat=True))
    with transaction.atomic():
        Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return len(set(keys) - before)


def alert_markers_add(*, notification: Notification, keys: Iterable[str]) -> int:
    """Record `keys` as reported under `notification` (keys already there are skipped); returns
    how many were new. Call it in the transaction that stored the notification.

    One statement whatever the count: the keys travel as one JSON array that the database
    unpacks, because a digest's first run marks tens of thousands of lots and building a model
    instance per marker (bulk_create) took longer than everything else the digest does.
    """
    # In key order: the unique index then takes them page by page rather than at random
    # (~10 % of the insert for a first run's ~125,000 markers).
    keys = sorted(keys)
    if not keys:
        return 0
    table = AlertMarker._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    # The two databases the project runs on (PostgreSQL in production, SQLite embedded).
    source = {"postgresql": "json_array_elements_text(%s::json)", "sqlite": "json_each(%s)"}[
        connection.vendor
    ]
    with connection.cursor() as cursor:
        # "WHERE true": SQLite's parser needs it between INSERT … SELECT and ON CONFLICT.
        cursor.execute(
            f"INSERT INTO {table} (key, notification_id, created_at) "
            f"SELECT value, %s, %s FROM {source} WHERE true ON CONFLICT (key) DO NOTHING",
            [notification.pk, now, json.dumps(keys)],
        )
        return cursor.rowcount


def notifications_send_after_commit() -> None:
    """Ask a worker to run the sender as soon as the current transaction commits.

    For alerts that must not wait for the next beat tick (excursions). Nothing is queued if the
    transaction rolls back, so a worker never looks for a row that does not exist.
    """
    from notifications.tasks import send_due

    # robust: with the broker down the commit stands and the caller gets its answer; the rows
    # wait in the outbox and beat's next `send_due` tick (or this wake-up, next time) sends them.
    transaction.on_commit(send_due.delay, robust=True)


def notifications_wake_sender(created: int) -> int:
    """For the alert scans: run the sender now when a scan stored something new (after commit)."""
    if created:
        notifications_send_after_commit()
    return created


# --- Sending ---------------------------------------------------------------------------------


@dataclass
class SendStats:
    batches: int = 0
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    lost_claims: int = 0
    stopped: str = ""
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Outcome:
    temporary: bool
    connection_lost: bool
    error: str


def _classify(exc: Exception) -> _Outcome:
    """Temporary (4xx, connection trouble) is retried; permanent (5xx) is not."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        error = "; ".join(
            f"{address}: {code} {_text(message)}"
            for address, (code, message) in exc.recipients.items()
        )
        # Retry while any recipient was only deferred; the 5xx ones fail again and the row
        # ends failed after the last attempt.
        return _Outcome(
            any(400 <= code < 500 for code in codes), False, f"Recipients refused: {error}"
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        error = f"{code} {_text(exc.smtp_error)}"
        # 421: the server is closing the channel.
        return _Outcome(not 500 <= code < 600, code == 421, error)
    if isinstance(exc, (smtplib.SMTPServerDisconnected, OSError)):
        # OSError covers refused connections, resets and timeouts (TimeoutError, socket.timeout).
        return _Outcome(True, True, f"{type(exc).__name__}: {exc}")
    return _Outcome(False, False, f"{type(exc).__name__}: {exc}")


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter, so a server coming back is not hit by every row at once."""
    ceiling = min(
        settings.NOTIFICATION_RETRY_MAX_SECONDS,
        settings.NOTIFICATION_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
    )
    return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))


def _due(now: datetime):
    return Notification.objects.filter(status__in=OPEN_STATUSES, next_attempt_at__lte=now)


_CLAIMED_FIELDS = (
    "id",
    "kind",
    "key",
    "recipients",
    "subject",
    "template",
    "context",
    "body_text",
    "body_html",
    "message_id",
    "attempts",
    "next_attempt_at",
)


def _claim(*, now: datetime, batch_size: int, lease: timedelta, max_attempts: int):
    """Take up to batch_size due rows for this worker alone; returns (token, rows)."""
    token = uuid.uuid4()
    with transaction.atomic():
        # SKIP LOCKED (PostgreSQL): concurrent workers take disjoint batches without waiting.
        # SQLite ignores it; its IMMEDIATE transactions serialise claims instead. The rows are
        # read here, with what sending needs, so the claim does not read them back.
        rows = list(
            _due(now)
            .select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "id")
            .only(*_CLAIMED_FIELDS)[:batch_size]
        )
        if not rows:
            return token, []
        # Rows whose lease ran out max_attempts times killed their workers each time: stop.
        given_up = {row.pk for row in rows if row.attempts >= max_attempts}
        if given_up:
            _due(now).filter(pk__in=given_up, attempts__gte=max_attempts).update(
                status=NotificationStatus.FAILED,
                next_attempt_at=None,
                claim_token=None,
                last_error="Gave up: the worker sending it was lost on every attempt.",
            )
        rows = [row for row in rows if row.pk not in given_up]
        # The due condition is repeated so the update is right even where no row lock was held.
        claimed = _due(now).filter(pk__in=[row.pk for row in rows], attempts__lt=max_attempts)
        if rows and claimed.update(
            status=NotificationStatus.SENDING,
            claim_token=token,
            attempts=F("attempts") + 1,
            next_attempt_at=now + lease,
        ) == len(rows):
            for row in rows:
                row.attempts += 1
                row.claim_token = token
            return token, rows
    # Some rows changed between the read and the update (no lock held): send only what this
    # claim took, read back by its token.
    rows = list(
        Notification.objects.filter(claim_token=token)
        .only(*_CLAIMED_FIELDS)
        .order_by("next_attempt_at", "id")
    )
    return token, rows


# Digests are a mailing list people may leave (RFC 2919 List-Id, RFC 2369 / 8058 unsubscribe);
# alerts that need action are not, and carry no unsubscribe link.
UNSUBSCRIBABLE_KINDS = {"ward_digest"}
UNSUBSCRIBE_SALT = "notifications.digest-unsubscribe"


def site_link(path: str) -> str:
    """An absolute link into the app (SITE_URL): e-mails are read outside it."""
    return f"{settings.SITE_URL}{path}"


def digest_unsubscribe_url(address: str) -> str:
    from django.urls import reverse

    token = signing.dumps(address.strip().lower(), salt=UNSUBSCRIBE_SALT, compress=True)
    return site_link(reverse("digest-unsubscribe", args=[token]))


def digest_unsubscribe_address(token: str) -> str | None:
    """The address a signed unsubscribe token was made for, or None if it was tampered with."""
    try:
        return signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None


@transaction.atomic
def digest_unsubscribe(*, address: str) -> int:
    """Stop digests to `address`: every active user with it opts out, and a ward mailbox with
    it stops receiving its ward's digest. Returns how many users and wards changed."""
    from django.contrib.auth import get_user_model

    from inventory.models import Ward
    from notifications.models import NotificationPreference

    changed = 0
    for user in get_user_model().objects.filter(email__iexact=address, is_active=True):
        NotificationPreference.objects.update_or_create(
            user=user, defaults={"receive_digests": False}
        )
        changed += 1
    changed += Ward.objects.filter(email__iexact=address, mailbox_digests=True).update(
        mailbox_digests=False
    )
    return changed


def _sender() -> str:
    return formataddr((settings.EMAIL_FROM_NAME, settings.DEFAULT_FROM_EMAIL))


def _emails(row: Notification, connection, languages: dict[str, str], rendered: dict) -> list:
    """The messages of one row: one per language of its recipients (each rendered in it), or for
    a digest one per recipient, each with its own unsubscribe link (and a Message-ID per copy
    derived from key + address). A row stored without a context (before e-mails were rendered
    at send time) goes out as stored. `rendered` is the batch's cache of renderings (see
    `_rendered`)."""
    headers = {
        "Message-ID": row.message_id,
        "X-Notification-Key": row.key,
        # RFC 3834: out-of-office robots must not answer a machine.
        "Auto-Submitted": "auto-generated",
    }
    groups: dict[str, list[str]] = {}
    for address in row.recipients:
        groups.setdefault(languages.get(address.lower(), settings.LANGUAGE_CODE), []).append(
            address
        )
    rendered = {language: _rendered(row, language, rendered) for language in groups}
    if row.kind not in UNSUBSCRIBABLE_KINDS:
        messages = []
        for language, addresses in sorted(groups.items()):
            # One language: the row's Message-ID; several: one per language, stable on retry.
            own = headers
            if len(groups) > 1:
                own = {**headers, "Message-ID": notification_message_id(f"{row.key}:{language}")}
            messages.append(_message(*rendered[language], addresses, own, connection))
        return messages
    # RFC 2919: a list id under a domain the deployment controls (the site's).
    domain = urlsplit(settings.SITE_URL).hostname or settings.NOTIFICATION_MESSAGE_ID_DOMAIN
    messages = []
    for language, addresses in sorted(groups.items()):
        subject, body_text, body_html = rendered[language]
        with translation.override(language):
            stop = _("Stop receiving these digests")
        for address in addresses:
            url = digest_unsubscribe_url(address)
            own = {
                **headers,
                "Message-ID": notification_message_id(f"{row.key}:{address.lower()}"),
                "List-Id": f"Ward digests <ward-digests.{domain}>",
                "List-Unsubscribe": f"<{url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
            text = f"{body_text.rstrip()}\n\n{stop}: {url}\n"
            html = body_html.replace(
                "</body>",
                f'<p style="color: #666; font-size: 12px;"><a href="{escape(url)}">{escape(stop)}'
                "</a></p>\n</body>",
            )
            messages.append(_message(subject, text, html, [address], own, connection))
    return messages


def _rendered(row: Notification, language: str, cache: dict) -> tuple[str, str, str]:
    """One row's (subject, text, HTML) in `language`, rendered once per batch for every row with
    the same template, context and subject (reminders of one ward's round share them): the same
    inputs render the same bytes, so a cached copy is exactly what rendering again would give."""
    if row.context is None:
        return row.subject, row.body_text, row.body_html
    key = (row.template, language, row.subject, json.dumps(row.context, sort_keys=True))
    if key not in cache:
        cache[key] = rendering.render(
            template=row.template, context=row.context, subject=row.subject, language=language
        )
    return cache[key]


def _message(subject, text, html, to, headers, connection) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=_sender(),
        to=to,
        connection=connection,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message


def _mine(row: Notification, token: uuid.UUID):
    return Notification.objects.filter(pk=row.pk, claim_token=token)


def _mark_sent(row, token) -> bool:
    return bool(
        _mine(row, token).update(
            status=NotificationStatus.SENT,
            sent_at=timezone.now(),
            next_attempt_at=None,
            claim_token=None,
            last_error="",
        )
    )


def _mark_error(row, token, outcome: _Outcome, *, now: datetime, max_attempts: int) -> str:
    if outcome.temporary and row.attempts < max_attempts:
        status, next_attempt_at = NotificationStatus.PENDING, now + _retry_delay(row.attempts)
    else:
        status, next_attempt_at = NotificationStatus.FAILED, None
    updated = _mine(row, token).update(
        status=status,
        next_attempt_at=next_attempt_at,
        claim_token=None,
        last_error=outcome.error[:2000],
    )
    return status if updated else ""


def _release(rows, token, *, at: datetime) -> int:
    """Give untried rows back without counting an attempt."""
    return Notification.objects.filter(pk__in=[row.pk for row in rows], claim_token=token).update(
        status=NotificationStatus.PENDING,
        next_attempt_at=at,
        claim_token=None,
        attempts=F("attempts") - 1,
    )


def _close(connection) -> None:
    try:
        connection.close()
    except Exception:  # a dead connection cannot be closed politely; it is gone either way
        logger.debug("closing the SMTP connection failed", exc_info=True)


def _send_batch(rows, token, *, now, stats: SendStats, lease: timedelta, max_attempts: int) -> bool:
    """Send one claimed batch over one SMTP connection. False: stop the run (server down)."""
    # Stop before the lease ends so another worker never re-sends a row this one still holds.
    lease_deadline = time.monotonic() + lease.total_seconds() * 0.8
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as exc:
        outcome = _classify(exc)
        stats.errors.append(f"connect: {outcome.error}")
        for row in rows:
            _count(stats, _mark_error(row, token, outcome, now=now, max_attempts=max_attempts))
        return False
    # Every recipient's language, read once for the batch (users' preferences, ward mailboxes).
    languages = recipient_languages({address for row in rows for address in row.recipients})
    rendered = {}
    try:
        with _commits_without_flush_wait():
            for index, row in enumerate(rows):
                if time.monotonic() > lease_deadline:
                    stats.released += _release(rows[index:], token, at=now)
                    return True  # the next claim takes them up under a fresh lease
                try:
                    connection.send_messages(_emails(row, connection, languages, rendered))
                except Exception as exc:
                    outcome = _classify(exc)
                    status = _mark_error(row, token, outcome, now=now, max_attempts=max_attempts)
                    _count(stats, status)
                    if outcome.connection_lost:
                        stats.errors.append(outcome.error)
                        retry_at = now + _retry_delay(1)
                        stats.released += _release(rows[index + 1 :], token, at=retry_at)
                        return False
                    continue
                # Its own short transaction (autocommit), right after the server said 250.
                if _mark_sent(row, token):
                    stats.sent += 1
                else:
                    stats.lost_claims += 1
            return True
    finally:
        _close(connection)


@contextmanager
def _commits_without_flush_wait():
    """PostgreSQL: the sender's own commits (each row's sent mark) return without waiting for
    the write-ahead log to reach disk (`synchronous_commit = off` for this session, reset after).

    The mark is still committed and visible to every other worker the moment it returns, and it
    survives this worker being killed: the exactly-once window of `notifications.tasks` is
    unchanged for a lost worker. Only a crash of the database server itself can lose the last
    marks (at most 3 × `wal_writer_delay`, 0.6 s by default); those rows come back `sending`
    and go out again after their lease with the same Message-ID, as a lost worker's message in
    flight does. Waiting for the flush was a third of the sender's time.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        except DatabaseError:  # a broken connection is discarded, its settings with it
            logger.debug("resetting synchronous_commit failed", exc_info=True)


def _count(stats: SendStats, status: str) -> None:
    if status == NotificationStatus.PENDING:
        stats.retried += 1
    elif status == NotificationStatus.FAILED:
        stats.failed += 1
    else:
        stats.lost_claims += 1


def notifications_send_due(
    *,
    now: datetime,
    batch_size: int | None = None,
    max_batches: int | None = None,
    time_budget_seconds: float | None = None,
) -> SendStats:
    """Send every notification due at `now`, batch by batch, one SMTP connection per batch.

    Safe to run in many workers at once: each batch is claimed under a lease
    (NOTIFICATION_CLAIM_LEASE_SECONDS) and each row is marked sent in its own commit right
    after the server accepts it. Stops after `time_budget_seconds` so the task ends well inside
    its time limit; the next beat tick carries on.
    """
    batch_size = batch_size or settings.NOTIFICATION_BATCH_SIZE
    budget = time_budget_seconds or settings.NOTIFICATION_TIME_BUDGET_SECONDS
    lease = timedelta(seconds=settings.NOTIFICATION_CLAIM_LEASE_SECONDS)
    max_attempts = settings.NOTIFICATION_MAX_ATTEMPTS
    started = time.monotonic()
    stats = SendStats()
    while max_batches is None or stats.batches < max_batches:
        if time.monotonic() - started > budget:
            stats.stopped = "time budget"
            break
        # The run's clock moves on: a batch claimed late in a long run is due-checked and leased
        # from its own moment, matching the sender's deadline (measured from the claim), so no
        # other worker takes it over while this one may still be sending it.
        claimed_at = now + timedelta(seconds=time.monotonic() - started)
        token, rows = _claim(
            now=claimed_at, batch_size=batch_size, lease=lease, max_attempts=max_attempts
        )
        if not rows:
            break
        stats.batches += 1
        stats.claimed += len(rows)
        if not _send_batch(
            rows, token, now=now, stats=stats, lease=lease, max_attempts=max_attempts
        ):
            stats.stopped = stats.stopped or "smtp"
            break
    if stats.claimed:
        logger.info("notifications sent: %s", stats.as_dict())
    return stats


# --- Re-send ---------------------------------------------------------------------------------


def notification_resend(*, notification: Notification, user) -> Notification:
    """Put a failed notification back in the queue (same key, same Message-ID) and kick a worker."""
    with transaction.atomic():
        locked = Notification.objects.select_for_update().get(pk=notification.pk)
        if locked.status != NotificationStatus.FAILED:
            raise ValidationError(
                {
                    "status": _("Only failed notifications can be re-sent; this one is %(status)s.")
                    % {"status": locked.get_status_display().lower()}
                }
            )
        if not locked.recipients:
            raise ValidationError({"recipients": _("This notification has no recipients.")})
        now = timezone.now()
        Notification.objects.filter(pk=locked.pk).update(
            status=NotificationStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            resent_by=user,
            resent_at=now,
        )
        notifications_send_after_commit()
    locked.refresh_from_db()
    return locked


# --- Preferences -------------------------------------------------------------------------------


def notification_preference_save(*, user, language: str, receive_digests: bool):
    """A user's own settings (the Settings page): language of pages and e-mails ("" = the
    browser's, and LANGUAGE_CODE in e-mails) and whether ward digests reach them."""
    from notifications.models import NotificationPreference

    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Choose one of the languages offered.")})
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, defaults={"language": language, "receive_digests": receive_digests}
    )
    return preference
