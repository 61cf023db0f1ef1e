from django.conf import settings
from django.core.management.base import BaseCommand

from history.services import history_prune


class Command(BaseCommand):
    help = "Delete history events older than HISTORY_RETENTION_DAYS (the only path that may)."

    def handle(self, *args, **options):
        deleted = history_prune()
        self.stdout.write(
            f"{deleted} events older than {settings.HISTORY_RETENTION_DAYS} days deleted."
        )
