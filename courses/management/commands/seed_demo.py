from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from config.roles import Role, roles_ensure
from courses.demo import courses_demo_seed

# Demo accounts for the embedded set-up only (refused when DEBUG is off).
DEMO_USERS = [
    ("pharmacist", Role.PHARMACIST, True),
    ("physician", Role.PHYSICIAN, False),
    ("nurse", Role.NURSE, False),
    ("viewer", Role.VIEWER, False),
]


class Command(BaseCommand):
    help = "Create demo users (one per role) and demo data for the embedded set-up. Idempotent."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(_("seed_demo creates known passwords; it runs only with DEBUG on."))
        roles_ensure()
        User = get_user_model()
        self.stdout.write(_("Demo users (username / password / role):"))
        for username, role, staff in DEMO_USERS:
            password = f"{username}-demo"
            user, _created = User.objects.get_or_create(username=username)
            user.is_staff = staff
            user.email = f"{username}@hospital.invalid"
            user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=role.value)])
            self.stdout.write(f"  {username:<11} {password:<16} {role.label}")
        admin, _created = User.objects.get_or_create(username="admin")
        admin.is_staff = admin.is_superuser = True
        admin.set_password("admin-demo")
        admin.save()
        self.stdout.write(f"  {'admin':<11} {'admin-demo':<16} {_('superuser')}")
        self.stdout.write(
            courses_demo_seed(
                prescriber=User.objects.get(username="physician"),
                nurse=User.objects.get(username="nurse"),
                pharmacist=User.objects.get(username="pharmacist"),
            )
        )
