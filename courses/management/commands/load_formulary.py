from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from config.roles import roles_ensure
from courses.services import formulary_load


class Command(BaseCommand):
    help = (
        "Load products, presentations and protocols from the leaflets (idempotent); set up roles."
    )

    def handle(self, *args, **options):
        roles_ensure()
        report = formulary_load()
        self.stdout.write(_("Formulary: %(report)s") % {"report": report})
        for line in report.created + report.updated:
            self.stdout.write(f"  {line}")
