"""Demo patients and courses for the embedded set-up (`seed_demo`). Idempotent: matched by MRN,
and a patient's demo course is only prescribed once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from courses import services
from courses.models import Course, DoseStatus, Patient, Protocol
from inventory.demo import inventory_demo_seed
from inventory.models import Ward

WARDS = [("ward-3a", "Ward 3A (haematology)"), ("ward-5b", "Ward 5B (surgery)")]
PATIENTS = [
    # mrn, name, birth date, sex, ward, weight kg
    ("DEMO-0001", "Anna Demo", dt.date(1968, 4, 2), "female", "ward-3a", "64"),
    ("DEMO-0002", "Boris Demo", dt.date(1955, 11, 20), "male", "ward-3a", "81.5"),
    ("DEMO-0003", "Clara Demo", dt.date(1979, 7, 14), "female", "ward-5b", "58"),
]


@transaction.atomic
def courses_demo_seed(*, prescriber, nurse, pharmacist=None) -> str:
    # Stock first, so that the demo's recorded doses are dispensed from real lots.
    inventory_demo_seed(user=pharmacist or prescriber)
    today = timezone.localdate()
    wards = {}
    for code, name in WARDS:
        wards[code], _ = Ward.objects.get_or_create(code=code, defaults={"name": name})
        wards[code].members.add(nurse)
    patients = {}
    for mrn, name, birth, sex, ward, weight in PATIENTS:
        patient = Patient.objects.filter(mrn=mrn).first()
        if patient is None:
            patient = services.patient_save(
                fields={
                    "mrn": mrn,
                    "name": name,
                    "birth_date": birth,
                    "sex": sex,
                    "ward": wards[ward],
                },
                weight_kg=Decimal(weight),
                measured_on=today - dt.timedelta(days=21),
                user=prescriber,
            )
        patients[mrn] = patient
    made = 0
    if not Course.objects.filter(patient=patients["DEMO-0001"]).exists():
        # Started three weeks ago in the story: planned from 20 days back, first doses recorded.
        course = services.course_create(
            patient=patients["DEMO-0001"],
            protocol=Protocol.objects.get(code="betaleukin-leukopoiesis-toxic-iv"),
            user=prescriber,
            on=today - dt.timedelta(days=20),
            start_date=today - dt.timedelta(days=20),
            phases=[{"dose": "15", "cycles": 2}],
            infusion_minutes=150,
        )
        # The story's course was prescribed when it started: doses are not recorded as given
        # before the day their course was prescribed.
        Course.objects.filter(pk=course.pk).update(
            prescribed_at=timezone.now() - dt.timedelta(days=20)
        )
        for dose in course.doses.order_by("scheduled_at")[:5]:
            # No lot scanned: stock picks first-expiry-first-out from the demo lots.
            services.dose_administer(dose=dose, user=nurse, now=dose.scheduled_at)
        made += 1
    if not Course.objects.filter(patient=patients["DEMO-0003"]).exists():
        soon = _due_soon(wards["ward-5b"])
        course = services.course_create(
            patient=patients["DEMO-0003"],
            protocol=Protocol.objects.get(code="ceruloplasmin-postop"),
            user=prescriber,
            on=today,
            start_date=soon.date(),
            administration_time=soon.time(),
            phases=[{"dose": "3", "count": 7}],
        )
        made += 1
    scheduled = Course.objects.filter(patient__mrn__startswith="DEMO-").count()
    given = sum(
        c.doses.filter(status=DoseStatus.GIVEN).count()
        for c in Course.objects.filter(patient__mrn__startswith="DEMO-")
    )
    return f"Demo courses: {made} created, {scheduled} in all, {given} doses recorded as given."


def _due_soon(ward: Ward) -> dt.datetime:
    """A local time inside the ward's reminder lead time, for the demo course's daily dose: the
    first `make run` then shows its dose reminder (and the ward's digest) in var/mail within a
    minute or two, and the same reminder comes each day of the course at that time."""
    lead = dt.timedelta(minutes=ward.reminder_lead_minutes)
    moment = timezone.localtime(timezone.now() + min(lead / 2, dt.timedelta(minutes=20)))
    return moment.replace(second=0, microsecond=0)
