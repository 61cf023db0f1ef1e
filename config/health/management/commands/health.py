import json

from django.core.management.base import BaseCommand, CommandError

from config.health.checks import readiness


class Command(BaseCommand):
    help = "The /readyz checks for monitoring: database, broker, worker ping, beat's last tick."

    def add_arguments(self, parser):
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="print the report as JSON"
        )

    def handle(self, *args, as_json: bool = False, **options):
        report = readiness()
        if as_json:
            self.stdout.write(json.dumps(report, indent=2))
        else:
            for name, check in report["checks"].items():
                self.stdout.write(
                    f"{name:<9} {'ok  ' if check['ok'] else 'FAIL'} {check['detail']}"
                )
        if report["failed"]:
            raise CommandError(f"unhealthy: {', '.join(report['failed'])}", returncode=1)
