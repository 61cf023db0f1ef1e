from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "inventory.notifications"
    label = "notifications"
    verbose_name = "Notifications"
