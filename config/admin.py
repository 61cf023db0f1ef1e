"""Admin building blocks shared by the apps."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext, gettext_lazy

from config.roles import role_label


class LabelledDateTimeAdmin(admin.ModelAdmin):
    """The admin's date-and-time field is two inputs after the words "Date:" and "Time:", which
    are not their <label>s (axe: every form field needs a label, WCAG 1.3.1/4.1.2): each input
    is named by its field and its part ("Last login: date")."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(formfield, "widget", None)
        if isinstance(widget, AdminSplitDateTime):
            date, time = widget.widgets
            names = {"field": formfield.label}
            date.attrs["aria-label"] = gettext("%(field)s: date") % names
            time.attrs["aria-label"] = gettext("%(field)s: time") % names
        return formfield


class NamedAdmin(LabelledDateTimeAdmin):
    """Titles that name the model as the object of a verb ("View lot", "Add presentation") with
    `accusative`, the model's name as Ukrainian declines it there ("Переглянути серію", not the
    nominative "серія" Django's admin puts in). Unset, the verbose name is used (English, and
    the Ukrainian names whose accusative is the nominative: "препарат", "протокол")."""

    accusative = None  # pgettext_lazy("accusative", "<verbose name>")

    def _object_name(self):
        return self.accusative or self.opts.verbose_name

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is None:
            title = gettext("Add %s")
        else:
            obj = self.get_object(request, admin.utils.unquote(object_id))
            title = (
                gettext("Change %s")
                if self.has_change_permission(request, obj)
                else gettext("View %s")
            )
        extra_context = {
            "title": title % self._object_name(),
            "object_name": self._object_name(),
            **(extra_context or {}),
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        if admin.options.IS_POPUP_VAR in request.GET:
            title = gettext("Select %s")
        elif self.has_change_permission(request):
            title = gettext("Select %s to change")
        else:
            title = gettext("Select %s to view")
        extra_context = {
            "title": title % self._object_name(),
            "object_name": self._object_name(),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)


class ReadOnlyAdmin(NamedAdmin):
    """Rows written only by services (the ledger, readings, recorded doses, alert markers): the
    admin lists and shows them, and runs actions that call services, but never adds, edits or
    deletes them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AdminRefusal(Exception):
    """A service refused an admin save: carried out of the admin's transaction (rolling it back)
    to the view, which shows the reasons."""

    def __init__(self, error: ValidationError):
        self.error = error


def refusal_messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            f"{field}: {message}"
            for field, texts in error.message_dict.items()
            for message in texts
        ]
    return list(error.messages)


class ThroughServicesAdmin(NamedAdmin):
    """Add/change forms whose saves call a service. The forms validate first (model validators
    and constraints); when the service then refuses, the whole save is rolled back (the admin's
    change view is one transaction) and its reasons are shown on the form's page."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except AdminRefusal as refusal:
            for message in refusal_messages(refusal.error):
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(request.path)


class LabelledTabularInline(admin.TabularInline):
    """A tabular inline whose inputs carry their field's name: the admin's table names each
    column once in its header, which no assistive technology ties to the input under it (axe:
    every form field needs a label, WCAG 1.3.1/4.1.2)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None:
            formfield.widget.attrs.setdefault("aria-label", formfield.label)
        return formfield


# Django stores a permission's name once, in English, when it creates the row ("Can add dose"):
# the admin's permission lists compose it instead, in the reader's language, from the action and
# the model's translated name. The rows are left as they are.
PERMISSION_ACTIONS = {
    "add": gettext_lazy("Can add %(name)s"),
    "change": gettext_lazy("Can change %(name)s"),
    "delete": gettext_lazy("Can delete %(name)s"),
    "view": gettext_lazy("Can view %(name)s"),
}


def model_name(model) -> str:
    """A model's verbose name, or one made from the models it stands for: a history event model
    (django-pghistory names it from its class, "dose event") is named after its tracked model, a
    many-to-many table after the two models it joins."""
    tracked = getattr(model, "pgh_tracked_model", None)
    if tracked is not None:
        return gettext("%(name)s event") % {"name": model_name(tracked)}
    if model._meta.auto_created:
        source, target = (field.related_model for field in model._meta.fields if field.is_relation)
        return gettext("%(source)s – %(target)s") % {
            "source": model_name(source),
            "target": model_name(target),
        }
    return str(model._meta.verbose_name)


def permission_label(permission: Permission) -> str:
    """The permission as Permission.__str__ writes it, "app | model | action", each part in the
    active language. A permission of a model's own Meta.permissions shows its stored name
    through gettext (its translation when the name was marked)."""
    model = permission.content_type.model_class()
    if model is None:  # a model since removed: nothing to translate it from
        return str(permission)
    action, _, model_part = permission.codename.partition("_")
    name = model_name(model)
    if action in PERMISSION_ACTIONS and model_part == model._meta.model_name:
        text = PERMISSION_ACTIONS[action] % {"name": name}
    else:
        text = gettext(permission.name)
    return f"{model._meta.app_config.verbose_name} | {name} | {text}"


class PermissionChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return permission_label(obj)


class GroupChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return role_label(obj.name)


class AccessLabelsAdmin:
    """ModelAdmin mixin: its permission fields (a user's, a group's) list permissions by
    `permission_label`, its group field (a user's) the role groups by their role's name. The
    permissions' queryset must select_related("content_type"), as Django's user form and group
    admin do."""

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.related_model is Permission:
            kwargs.setdefault("form_class", PermissionChoiceField)
        elif db_field.related_model is Group:
            kwargs.setdefault("form_class", GroupChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)
