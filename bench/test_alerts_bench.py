"""The reminder scan over 10,000 due doses: found, rendered and enqueued in one call.

20 patients on 5 wards, 500 scheduled doses each, all inside their ward's lead time, as the
`courses.dose_reminders_scan` task finds them (the sender's 10k run is in
test_notifications_bench.py).
"""

import datetime as dt

import pytest
from django.utils import timezone

from config.roles import Role, roles_ensure
from courses.alerts import dose_reminders_enqueue
from courses.models import Dose, Protocol
from courses.services import course_create, formulary_load
from inventory.notifications.models import Notification
from tests.factories import PatientFactory, UserFactory, WardFactory

DUE = 10_000
PATIENTS = 20


@pytest.fixture
def due_doses(db):
    formulary_load()
    roles_ensure()
    physician = UserFactory(roles=[Role.PHYSICIAN])
    now = timezone.now()
    wards = [WardFactory(code=f"bench-{n}", email=f"bench-{n}@hospital.test") for n in range(5)]
    for ward in wards:
        ward.members.add(*(UserFactory(roles=[Role.NURSE]) for _ in range(4)))
    protocol = Protocol.objects.get(code="ceruloplasmin-postop")
    doses = []
    for number in range(PATIENTS):
        course = course_create(
            patient=PatientFactory(ward=wards[number % len(wards)]),
            protocol=protocol,
            user=physician,
            on=timezone.localdate(),
            phases=[{"dose": "3", "count": 7}],
        )
        template = course.doses.order_by("sequence").first()
        course.doses.all().delete()
        for index in range(DUE // PATIENTS):
            dose = Dose(**{f.attname: getattr(template, f.attname) for f in Dose._meta.fields})
            dose.pk = None
            dose.sequence = index + 1
            dose.scheduled_at = now + dt.timedelta(seconds=index * 7)  # within the hour's lead
            doses.append(dose)
    Dose.objects.bulk_create(doses, batch_size=2000)
    return now


def _no_notifications() -> None:
    Notification.objects.all().delete()


@pytest.mark.django_db(transaction=True)
def test_bench_reminder_scan_finds_and_enqueues_10000_due_doses(benchmark, due_doses):
    created = benchmark.pedantic(
        lambda: dose_reminders_enqueue(now=due_doses),
        setup=_no_notifications,
        rounds=2,
        iterations=1,
    )
    assert created == DUE
    assert Notification.objects.count() == DUE
