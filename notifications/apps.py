from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from config.i18n import remember_on_login

        user_logged_in.connect(remember_on_login, dispatch_uid="config.i18n.remember_on_login")
