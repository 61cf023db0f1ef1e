from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("Courses")

    def ready(self):
        # Inventory's forecast and shortage logic read scheduled doses through this provider.
        from courses import demand, stock

        demand.register()
        # `dose:<id>` stock references are used only by recording the dose (its ward checked).
        stock.register()
        # SQLite drops triggers when a migration rebuilds a table: put them back after migrate.
        from django.db.models.signals import post_migrate

        from courses.db_guards import reinstall_sqlite_triggers

        post_migrate.connect(
            reinstall_sqlite_triggers, sender=self, dispatch_uid="courses_sqlite_triggers"
        )
