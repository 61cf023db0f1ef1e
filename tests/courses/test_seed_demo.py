from io import StringIO

from django.core.management import call_command

from courses.models import Course, Dose, Patient


def test_seed_demo_is_idempotent(formulary, settings):
    settings.DEBUG = True
    first, second = StringIO(), StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)
    assert "2 created" in first.getvalue() and "0 created, 2 in all" in second.getvalue()
    assert Patient.objects.filter(ward__code__in=["ward-3a", "ward-5b"]).count() == 3
    assert Course.objects.count() == 2
    assert Dose.objects.filter(status="given").count() == 5
