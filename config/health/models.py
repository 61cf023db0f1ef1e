from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last sign of life of a background role ("beat", "worker"), one row each.

    In the database because it is the one store every process shares in every set-up (the cache is
    per process in the embedded one). Beat writes its row itself while it ticks; a worker writes
    its row when it runs the heartbeat task that beat queues, so a stale worker row with a fresh
    beat row means no worker is taking tasks."""

    name = models.CharField(_("role"), max_length=32, primary_key=True)
    at = models.DateTimeField(_("last seen at"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
