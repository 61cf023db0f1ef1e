"""Our AppConfigs for django-axes, django-rest-knox and django-pghistory, named in INSTALLED_APPS
in place of the apps' own: the admin's index, breadcrumbs and permission lists show an app's
verbose_name, which for these is their package name ("Axes", "Knox", "Pghistory")."""

from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from pghistory.apps import PGHistoryConfig


def relabel(model, singular, plural, fields=None) -> None:
    """Name a library's model and fields that the library names in plain English strings (no
    gettext, which no catalogue can translate): the same English words, lazily translated.

    Neither the model's Meta as migrations read it (`Options.original_attrs`) nor a field's
    deconstruction (`Field._verbose_name`) sees this, so no migration follows from it."""
    model._meta.verbose_name = singular
    model._meta.verbose_name_plural = plural
    for name, label in (fields or {}).items():
        model._meta.get_field(name).verbose_name = label


def sign_in_record_label(record) -> str:
    """axes' records name themselves in English ("Attempted Access: <time>", "Access Log for
    <user> @ <time>") on every admin page that names one: a change page, a selection checkbox,
    a delete confirmation. Named here by who, from where and when, in no language's words."""
    when = record.attempt_time and formats.date_format(
        timezone.localtime(record.attempt_time), "DATETIME_FORMAT"
    )
    return " · ".join(str(part or "—") for part in (record.username, record.ip_address, when))


class AxesConfig(AxesAppConfig):
    verbose_name = _("Sign-ins")

    def ready(self):
        super().ready()
        for name in ("AccessAttempt", "AccessFailureLog", "AccessLog"):
            self.get_model(name).__str__ = sign_in_record_label


class KnoxConfig(AppConfig):
    name = "knox"
    verbose_name = _("API tokens")

    def ready(self):
        relabel(
            self.get_model("AuthToken"),
            _("auth token"),
            _("auth tokens"),
            {
                "digest": _("digest"),
                "token_key": _("token key"),
                "user": _("user"),
                "created": _("created"),
                "expiry": _("expiry"),
            },
        )


class PghistoryConfig(PGHistoryConfig):
    verbose_name = _("History records")

    def ready(self):
        super().ready()
        relabel(self.get_model("Context"), _("history context"), _("history contexts"))
        relabel(self.get_model("Events"), _("events"), _("events"))
        relabel(self.get_model("MiddlewareEvents"), _("middleware events"), _("middleware events"))


class LibrariesConfig(AppConfig):
    """This package as an app, after auth, axes and knox in INSTALLED_APPS: its admin module,
    found by the admin's autodiscovery after theirs, replaces their registrations."""

    name = "config.libraries"
    label = "libraries"
