from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import ngettext

from history.services import history_prune


class Command(BaseCommand):
    help = "Delete history events older than HISTORY_RETENTION_DAYS (the only path that may)."

    def handle(self, *args, **options):
        # Written in LANGUAGE_CODE, the language management commands run in.
        deleted = history_prune()
        days = settings.HISTORY_RETENTION_DAYS
        self.stdout.write(
            ngettext(
                "%(count)d event older than %(days)d days deleted.",
                "%(count)d events older than %(days)d days deleted.",
                deleted,
            )
            % {"count": deleted, "days": days}
        )
