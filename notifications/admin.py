from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from config.admin import NamedAdmin, ReadOnlyAdmin
from config.roles import AUDITORS, has_role
from notifications.models import (
    AlertMarker,
    Notification,
    NotificationPreference,
    NotificationStatus,
)
from notifications.services import notification_resend


class AuditorsOnly:
    """The notification log is for pharmacists and auditors (`AUDITORS`), as on the API and the
    alerts page: other roles' admin view permission does not reach it."""

    def has_view_permission(self, request, obj=None):
        return has_role(request.user, *AUDITORS) and super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return has_role(request.user, *AUDITORS) and super().has_module_permission(request)


@admin.register(Notification)
class NotificationAdmin(AuditorsOnly, NamedAdmin):
    """Read-only: rows are written by the alert scans and the sender, never by hand."""

    list_display = [
        "created_at",
        "kind",
        "subject",
        "status",
        "attempts",
        "due_at",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "kind", "created_at"]
    search_fields = ["key", "subject", "subject_id", "message_id"]
    date_hierarchy = "created_at"
    actions = ["resend_failed"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the audit trail of what the wards were told

    @admin.action(
        description=gettext_lazy("Re-send the selected failed notifications"),
        permissions=["change"],
    )
    def resend_failed(self, request, queryset):
        resent, selected = 0, list(queryset)
        failed = [n for n in selected if n.status == NotificationStatus.FAILED]
        for notification in failed:
            try:
                notification_resend(notification=notification, user=request.user)
            except ValidationError as error:
                self.message_user(request, f"{notification}: {error.messages[0]}", messages.ERROR)
            else:
                resent += 1
        skipped = len(selected) - len(failed)
        self.message_user(
            request,
            _("Queued %(resent)s again; skipped %(skipped)s not failed.")
            % {"resent": resent, "skipped": skipped},
        )


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(NamedAdmin):
    # A language changed here reaches the user's pages at their next sign-in (the Settings page
    # changes it at once); e-mails follow it from the next one sent.
    list_display = ["user", "receive_digests", "language", "updated_at"]
    list_filter = ["receive_digests", "language"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user"]


@admin.register(AlertMarker)
class AlertMarkerAdmin(AuditorsOnly, ReadOnlyAdmin):
    """Which subject (e.g. a lot at a threshold) a digest already reported."""

    accusative = pgettext_lazy("accusative", "alert marker")

    list_display = ["key", "notification", "created_at"]
    search_fields = ["key"]
    list_select_related = ["notification"]
