"""Same-day weighings of one patient at once, on real PostgreSQL."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from courses import services
from courses.models import PatientWeight
from tests.factories import PatientFactory

pytestmark = pytest.mark.postgres


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_a_second_same_day_weighing_while_the_first_commits_updates_it(
    postgres, transactional_db, ward, today
):
    """Nurse A has inserted the day's weight but not yet committed when nurse B records one:
    B cannot see A's row, its insert waits on the one-a-day constraint, and must then update A's
    row instead of failing."""
    patient = PatientFactory(ward=ward, weight_kg=False)
    inserted, commit = threading.Event(), threading.Event()
    outcome: dict = {}

    def nurse_a():
        try:
            with transaction.atomic():
                services.patient_weight_record(
                    patient=patient, weight_kg=Decimal("60"), measured_on=today
                )
                inserted.set()
                commit.wait(timeout=30)
        finally:
            connection.close()

    def nurse_b():
        try:
            inserted.wait(timeout=30)
            outcome["b"] = services.patient_weight_record(
                patient=patient, weight_kg=Decimal("61"), measured_on=today
            )
        except Exception as exc:  # noqa: BLE001 - any failure is what this test looks for
            outcome["b"] = exc
        finally:
            connection.close()

    pool = [threading.Thread(target=nurse_a), threading.Thread(target=nurse_b)]
    for thread in pool:
        thread.start()
    inserted.wait(timeout=30)
    # Let A commit once B is blocked on A's uncommitted row (or has finished, if it never blocks).
    while pool[1].is_alive() and not _waiting_on_a_lock():
        pool[1].join(timeout=0.01)
    commit.set()
    for thread in pool:
        thread.join()
    assert isinstance(outcome["b"], PatientWeight), outcome["b"]
    assert list(
        PatientWeight.objects.filter(patient=patient).values_list("weight_kg", flat=True)
    ) == [Decimal("61")]


def _rows_free_while(lock, *querysets) -> list[bool]:
    """Hold `lock()` open in one transaction; try each queryset's row with NOWAIT in another."""
    from django.db import DatabaseError

    held, done = threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():
                lock()
                held.set()
                done.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(timeout=30)
    free = []
    try:
        for queryset in querysets:
            try:
                with transaction.atomic():
                    queryset.select_for_update(nowait=True).get()
                free.append(True)
            except DatabaseError:
                free.append(False)
    finally:
        done.set()
        thread.join()
    return free


def test_recording_a_dose_locks_the_dose_and_course_but_not_shared_rows(
    postgres, transactional_db, formulary, physician, ward, today
):
    from courses.models import Course, Dose, Protocol
    from inventory.models import Product
    from tests.courses.helpers import seven_doses

    course = seven_doses("ceruloplasmin-postop", physician, ward, today)
    dose = course.doses.first()
    protocol, patient = course.protocol, course.patient
    shared = (
        Protocol.objects.filter(pk=protocol.pk),
        Product.objects.filter(pk=protocol.product_id),
        type(patient).objects.filter(pk=patient.pk),
    )
    mine = (Dose.objects.filter(pk=dose.pk), Course.objects.filter(pk=course.pk))
    assert _rows_free_while(lambda: services._dose_locked(dose), *shared, *mine) == [
        True,
        True,
        True,
        False,
        False,
    ]
    assert _rows_free_while(lambda: services._course_locked(course), *shared, mine[1]) == [
        True,
        True,
        True,
        False,
    ]
