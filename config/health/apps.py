from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "config.health"
    label = "health"
    verbose_name = "Service health"
    default_auto_field = "django.db.models.BigAutoField"
