"""Seed the stress run's scratch database: `python -m bench.stress.seed OUT.json` with
DJANGO_SETTINGS_MODULE and DATABASE_URL set to it (after `migrate` and `load_formulary`).

One ward with STRESS_PATIENTS patients, each on a course whose first dose is due now; a ward
fridge stocked for every dose; a dispensing fridge with a deliberately short supply (running it
dry is part of the test: the last dispenses must be refused, never oversold); probe fridges with a
few vials each for the sensor readings. One account per simulated user (nurses and pharmacists),
each with an API token and a logged-in session, so the load is requests, not password hashing.
Writes what the load needs (ids, tokens, sessions) and the patients' names and MRNs (the log
check greps for them) to OUT.json.
"""

import datetime as dt
import json
import os
import sys
from decimal import Decimal


def seed(*, users: int, patients: int) -> dict:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group, User
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone
    from knox.models import AuthToken

    from config.roles import Role, roles_ensure
    from courses import services as courses
    from courses.models import Protocol
    from inventory import services as inventory
    from inventory.models import LocationKind, Presentation, StorageLocation, Ward

    roles_ensure()
    today = timezone.localdate()
    ward = Ward.objects.create(code="stress-ward", name="Stress ward", email="ward@hospital.test")
    accounts = []
    for number in range(users):
        role = Role.NURSE if number % 2 == 0 else Role.PHARMACIST
        user = User.objects.create_user(
            username=f"stress-{number}", email=f"stress-{number}@hospital.test"
        )
        user.groups.set([Group.objects.get(name=role.value)])
        if role == Role.NURSE:
            ward.members.add(user)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        accounts.append(
            {
                "role": role.value,
                "token": AuthToken.objects.create(user)[1],
                "session": session.session_key,
            }
        )
    pharmacist = User.objects.get(username="stress-1")

    def fridge(code: str) -> StorageLocation:
        return StorageLocation.objects.create(
            code=code,
            name=code.replace("-", " ").title(),
            kind=LocationKind.FRIDGE,
            ward=ward,
            min_c=Decimal("2"),
            max_c=Decimal("8"),
        )

    def receive(location, presentation, quantity, lot_number, days):
        inventory.lot_receive(
            presentation_id=presentation.pk,
            location_id=location.pk,
            quantity=quantity,
            lot_number=lot_number,
            expiry_date=today + dt.timedelta(days=days),
            user=pharmacist,
            on=today,
        )

    presentations = list(Presentation.objects.order_by("pk"))
    ward_fridge = fridge("stress-ward-fridge")
    for p in presentations:  # expiring first: FEFO takes the doses' vials from here
        receive(ward_fridge, p, 40 * patients, f"W{p.pk:03d}", 200)
    short = presentations[0]
    dispensing = fridge("stress-dispensing")
    receive(dispensing, short, 150, "SHORT1", 300)
    probes = [fridge(f"stress-probe-{n}") for n in range(10)]
    for number, probe in enumerate(probes):
        receive(probe, short, 2, f"P{number:03d}", 300)

    protocol = Protocol.objects.get(code="ceruloplasmin-postop")
    now = timezone.localtime()
    people, doses = [], []
    for number in range(patients):
        mrn, name = f"STRS-{number:05d}", f"Stresspatient Nr{number:05d}"
        patient = courses.patient_save(
            fields={
                "mrn": mrn,
                "name": name,
                "birth_date": dt.date(1960, 1, 1) + dt.timedelta(days=97 * number),
                "sex": "female" if number % 2 else "male",
                "ward": ward,
            },
            weight_kg=Decimal("70"),
            measured_on=today,
            user=pharmacist,
        )
        course = courses.course_create(
            patient=patient,
            protocol=protocol,
            user=pharmacist,
            on=today,
            start_date=today,
            administration_time=now.time().replace(second=0, microsecond=0),
            phases=[{"dose": "3", "count": 7}],
        )
        doses.append(course.doses.order_by("scheduled_at").first().pk)
        people.append({"mrn": mrn, "name": name})
    return {
        "accounts": accounts,
        "doses": doses,
        "dispense": {"presentation_id": short.pk, "location_id": dispensing.pk},
        "probes": [probe.pk for probe in probes],
        "patients": people,
    }


if __name__ == "__main__":
    import django

    django.setup()
    data = seed(
        users=int(os.environ.get("STRESS_USERS", "50")),
        patients=int(os.environ.get("STRESS_PATIENTS", "80")),
    )
    with open(sys.argv[1], "w") as handle:
        json.dump(data, handle)
