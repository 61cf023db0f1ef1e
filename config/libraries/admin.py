"""The libraries' admins re-registered in our words: django-axes' three, knox's tokens and
Django's groups. Each subclasses the library's own, changing only what no catalogue can reach:
words built in code, titles that need the accusative, permission and role names."""

from axes import admin as axes_admin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group
from django.utils.translation import gettext, ngettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from knox import admin as knox_admin
from knox.models import AuthToken

from config.admin import AccessLabelsAdmin, LabelledDateTimeAdmin, NamedAdmin
from config.roles import Role, role_label


class AccessAttemptAdmin(NamedAdmin, axes_admin.AccessAttemptAdmin):
    accusative = pgettext_lazy("accusative", "access attempt")

    @admin.display(description=_("Status"))
    def status(self, obj):
        # axes writes f"{n} " + _("Attempt Remaining"): one word for every count, which Ukrainian
        # cannot do (1 спроба, 2 спроби, 5 спроб).
        remaining = settings.AXES_FAILURE_LIMIT - obj.failures_since_start
        if remaining > 0:
            return ngettext(
                "%(count)d attempt remaining", "%(count)d attempts remaining", remaining
            ) % {"count": remaining}
        return gettext("Locked Out")  # also axes' filter title (its msgid)

    @admin.action(description=_("Clean up expired attempts"))
    def cleanup_expired_attempts(self, request, queryset):
        # axes' message is an f-string inside _(): its msgid changes with the count.
        count = self.handler.clean_expired_user_attempts(request=request)
        self.message_user(
            request,
            ngettext(
                "%(count)d expired access attempt cleaned up.",
                "%(count)d expired access attempts cleaned up.",
                count,
            )
            % {"count": count},
        )


class AccessFailureLogAdmin(NamedAdmin, axes_admin.AccessFailureLogAdmin):
    accusative = pgettext_lazy("accusative", "access failure")


class AccessLogAdmin(NamedAdmin, axes_admin.AccessLogAdmin):
    accusative = pgettext_lazy("accusative", "access log")


class AuthTokenAdmin(LabelledDateTimeAdmin, knox_admin.AuthTokenAdmin):
    def save_model(self, request, obj, form, change):
        # knox's own says "TOKEN <token>" in English before saving; the rest of its save is
        # ModelAdmin's.
        if not change:
            self.message_user(
                request,
                gettext("The new token (shown only this once): %(token)s") % {"token": form.token},
                messages.INFO,
            )
        admin.ModelAdmin.save_model(self, request, obj, form, change)


class GroupAdmin(AccessLabelsAdmin, NamedAdmin, auth_admin.GroupAdmin):
    accusative = pgettext_lazy("accusative", "group")
    list_display = ("name", "role")

    @admin.display(description=_("Role"))
    def role(self, group):
        # A role group's name is the code the product reads (config.roles): kept, and said.
        return role_label(group.name) if group.name in Role.values else "—"


for model, model_admin in (
    (AccessAttempt, AccessAttemptAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
    (AccessLog, AccessLogAdmin),
    (AuthToken, AuthTokenAdmin),
    (Group, GroupAdmin),
):
    if admin.site.is_registered(model):  # axes registers its own only with AXES_ENABLE_ADMIN
        admin.site.unregister(model)
        admin.site.register(model, model_admin)
