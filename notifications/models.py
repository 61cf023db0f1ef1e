from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    DOSE_REMINDER = "dose_reminder", _("Dose reminder")
    WARD_DIGEST = "ward_digest", _("Ward morning digest")
    DOSE_OVERDUE = "dose_overdue", _("Dose overdue")
    DOSE_MISSED_ESCALATION = "dose_missed_escalation", _("Missed dose (escalated to pharmacy)")
    EXPIRY_ALERT = "expiry_alert", _("Expiry alert")
    EXCURSION_ALERT = "excursion_alert", _("Temperature excursion")
    EXCURSION_REMINDER = "excursion_reminder", _("Unresolved excursion reminder")
    SHORTAGE_ALERT = "shortage_alert", _("Stock shortage")
    SENSOR_SILENT = "sensor_silent", _("Temperature sensor silent")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending (claimed by a worker)")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Notification(models.Model):
    """One e-mail that must reach its readers once: the row is the outbox and the audit trail.

    The alert stores its template and a snapshot of its context when it is raised; the sender
    renders each recipient's copy from them in that recipient's language
    (`notifications.rendering`). So a retry in one language sends the message the first attempt
    tried (the stable Message-ID names one content), and sending never reads the domain rows (a
    dose or lot changed or deleted later cannot break or alter the e-mail). `subject`,
    `body_text` and `body_html` are the same rendering in the site's LANGUAGE_CODE, kept as the
    record the admin and the API show.

    `next_attempt_at` is the due time while pending and the claim lease's end while sending: a
    worker that dies mid-batch leaves rows `sending` that become due again when the lease ends.
    """

    kind = models.CharField(max_length=40, choices=NotificationKind.choices, verbose_name=_("kind"))
    key = models.CharField(
        max_length=200,
        unique=True,
        help_text=_('Idempotency key, e.g. "dose_reminder:dose:123" or "expiry:lot:9:30d".'),
        verbose_name=_("key"),
    )
    subject_type = models.CharField(
        max_length=40,
        help_text=_('What the alert is about, e.g. "dose", "lot", "ward".'),
        verbose_name=_("subject type"),
    )
    subject_id = models.CharField(max_length=64, blank=True, verbose_name=_("subject ID"))
    threshold = models.CharField(
        max_length=20,
        blank=True,
        help_text=_('Which threshold fired, e.g. "30d" or "2h".'),
        verbose_name=_("threshold"),
    )
    for_date = models.DateField(
        null=True,
        blank=True,
        help_text=_("The day the alert concerns (digest day, expiry date)."),
        verbose_name=_("for date"),
    )
    recipients = models.JSONField(
        default=list, help_text=_("E-mail addresses (To)."), verbose_name=_("recipients")
    )
    subject = models.CharField(max_length=255, verbose_name=_("subject"))
    template = models.CharField(max_length=100, verbose_name=_("template"))
    context = models.JSONField(
        null=True,
        blank=True,
        help_text=_("The template's context when the alert was raised (rendered at send time)."),
        verbose_name=_("context"),
    )
    body_text = models.TextField(verbose_name=_("body text"))
    body_html = models.TextField(verbose_name=_("body html"))
    message_id = models.CharField(
        max_length=255, help_text=_("Derived from the key."), verbose_name=_("message ID")
    )
    status = models.CharField(
        max_length=10,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
        verbose_name=_("status"),
    )
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    due_at = models.DateTimeField(
        help_text=_("When it was meant to go out."), verbose_name=_("due at")
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    claim_token = models.UUIDField(
        null=True, blank=True, editable=False, verbose_name=_("claim token")
    )
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resent by"),
    )
    resent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resent at"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The due scan: status IN (pending, sending) AND next_attempt_at <= now.
            models.Index(fields=["status", "next_attempt_at"], name="notification_due_scan"),
            models.Index(fields=["created_at"], name="notification_created"),
            models.Index(fields=["subject_type", "subject_id"], name="notification_subject"),
            # The sender reads its claimed batch back by token; only claimed rows carry one.
            models.Index(
                fields=["claim_token"],
                name="notification_claim_token",
                condition=Q(claim_token__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(key=""), name="notification_key_not_empty"),
            models.CheckConstraint(
                condition=Q(status=NotificationStatus.SENT, sent_at__isnull=False)
                | ~Q(status=NotificationStatus.SENT),
                name="notification_sent_has_sent_at",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING],
                    next_attempt_at__isnull=False,
                )
                | ~Q(status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING]),
                name="notification_open_has_next_attempt",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"


class NotificationPreference(models.Model):
    """A user's preferences: the digest opt-out and the language of pages and e-mails.

    Only digests can be declined: alerts that need action always go out. A blank language
    follows the browser's Accept-Language on pages and LANGUAGE_CODE in e-mails.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("user"),
    )
    receive_digests = models.BooleanField(default=True, verbose_name=_("receive digests"))
    language = models.CharField(
        max_length=10, blank=True, choices=settings.LANGUAGES, verbose_name=_("language")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        if self.receive_digests:
            return gettext("%(user)s: digests on") % {"user": self.user}
        return gettext("%(user)s: digests off") % {"user": self.user}


class AlertMarker(models.Model):
    """One subject already reported under a shared notification, e.g. "expiry:lot:9:30d".

    A digest lists many subjects under one key (one expiry e-mail per run); the markers record
    which lot crossed which threshold in it, so the next run lists only the new ones. Written in
    the transaction that stores the digest, so a digest and its markers exist together or not.
    """

    key = models.CharField(max_length=200, verbose_name=_("key"))
    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        related_name="markers",
        verbose_name=_("notification"),
    )
    created_at = models.DateTimeField(
        default=timezone.now, editable=False, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("alert marker")
        verbose_name_plural = _("alert markers")
        constraints = [
            # Unique by a constraint rather than unique=True: on PostgreSQL the field option also
            # builds a varchar_pattern_ops index for LIKE 'prefix%', and a digest's first run
            # writes ~125,000 markers at 1,000,000 lots (that second index was ~0.3 s of it). A
            # prefix filter gains nothing from it: the expiry markers all share "expiry:lot:", so
            # such a filter scans the table with or without it (EXPLAIN at 300,000 markers).
            models.UniqueConstraint(fields=["key"], name="alert_marker_key_unique"),
            models.CheckConstraint(condition=~Q(key=""), name="alert_marker_key_not_empty"),
        ]

    def __str__(self) -> str:
        return self.key
