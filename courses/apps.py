from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = "Courses"

    def ready(self):
        # Inventory's forecast and shortage logic read scheduled doses through this provider.
        from courses import demand, stock

        demand.register()
        # `dose:<id>` stock references are used only by recording the dose (its ward checked).
        stock.register()
