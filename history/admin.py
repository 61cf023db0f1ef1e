"""The admin's "History" button shows the recorded changes (django-pghistory), not only the
admin's own log: edits from the API, the pages, the shell and migrations appear there too."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from config.admin import AccessLabelsAdmin, NamedAdmin
from history import selectors

SHOWN = 200


class RecordedHistoryAdmin:
    """Mixin for a ModelAdmin of a tracked model (see selectors.RESOURCE_EVENTS)."""

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(_("No such object."))
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        enabled = selectors.enabled()
        entries = selectors.entries(selectors.object_events(obj)[:SHOWN]) if enabled else []
        context = {
            **self.admin_site.each_context(request),
            "title": _("History: %(object)s") % {"object": obj},
            "subtitle": None,
            "opts": self.model._meta,
            "object": obj,
            "entries": entries,
            "enabled": enabled,
            "shown": SHOWN,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "history/admin_history.html", context)


# Users and their role membership: the same History button on the user's admin page.
User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(RecordedHistoryAdmin, AccessLabelsAdmin, NamedAdmin, auth_admin.UserAdmin):
    accusative = pgettext_lazy("accusative", "user")
