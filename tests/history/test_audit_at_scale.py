"""The audit page at a large hospital's scale (issue 14).

pghistory's `Events` view builds every event's snapshot and diff before PostgreSQL can sort the
rows and keep a page: sorted and cut, it took 5.8 s a page at 146,436 events. The page is now
chosen from the event tables' own columns by their audit indexes, and only its rows go through
the view (history.selectors.AuditTrail). These tests pin what that must keep and what it buys:

- the same events as the view, newest first by the same key (pgh_created_at, pgh_id), each
  exactly once across the pages, each with the view's own snapshot, diff and context, for every
  filter of the page; the count is exact;
- the same number of queries for a few events and for several times more;
- plans that read every event table through its audit index, never a sequential scan, and build
  only the page's rows (each table reached by its primary key).

What they do not prove: the timing. That is measured on the bench's large data (README,
"Benchmarks"); a plan here is forced (`enable_seqscan = off`, the tables are tiny) to show that
the indexes match the queries' expressions, not that the planner prefers them.
"""

import datetime as dt

import pgtrigger
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pghistory.models import Events

from history.context import recording
from history.selectors import AuditTrail, event_models
from tests.factories import PatientFactory

pytestmark = pytest.mark.usefixtures("postgres")


def _patients(ward, user, n: int, *, days_ago: int) -> None:
    """n patients (a patient and a weighing event each), recorded as `user`'s, back-dated by
    `days_ago` — every one the same instant, as one transaction writes them: ties on the time."""
    with recording(user=user):
        made = [PatientFactory(ward=ward) for _ in range(n)]
    ids = [patient.pk for patient in made]
    for label, table, column in (
        ("courses.PatientEvent", "courses_patientevent", "pgh_obj_id"),
        ("courses.PatientWeightEvent", "courses_patientweightevent", "patient_id"),
    ):
        with pgtrigger.ignore(f"{label}:append_only"), connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET pgh_created_at = now() - make_interval(days => %s)"  # noqa: S608
                f" WHERE {column} = ANY(%s)",
                [days_ago, ids],
            )


def _the_view(*, user_id=None, start=None, end=None) -> list:
    """The page's former query: pghistory's view, filtered, sorted and read whole."""
    events = Events.objects.across(*event_models()).order_by("-pgh_created_at", "-pgh_id")
    if user_id is not None:
        events = events.filter(pgh_context__user=user_id)
    if start is not None:
        events = events.filter(pgh_created_at__gte=start)
    if end is not None:
        events = events.filter(pgh_created_at__lt=end)
    return list(events)


def _row(event):
    return (
        event.pgh_slug,
        event.pgh_created_at,
        event.pgh_label,
        event.pgh_data,
        event.pgh_diff,
        event.pgh_context,
        event.pgh_obj_model,
        event.pgh_obj_id,
    )


@pytest.fixture
def trail(ward, nurse, physician):
    """Events of two users on three days, with ties in time and in ids across tables."""
    _patients(ward, nurse, 4, days_ago=3)
    _patients(ward, physician, 3, days_ago=2)
    _patients(ward, nurse, 5, days_ago=0)
    return {"nurse": nurse, "physician": physician}


def test_the_pages_hold_the_views_events_newest_first_each_once(trail, today):
    two_days_ago = timezone.make_aware(dt.datetime.combine(today, dt.time.min)) - dt.timedelta(2)
    for filters in (
        {},
        {"user_id": trail["nurse"].pk},
        {"user_id": trail["physician"].pk},
        {"start": two_days_ago},
        {"end": two_days_ago},
        {
            "user_id": trail["nurse"].pk,
            "start": two_days_ago,
            "end": two_days_ago + dt.timedelta(3),
        },
    ):
        expected = _the_view(**filters)
        audit = AuditTrail(**filters)
        assert audit.count() == len(expected) > 0, filters
        pages = [
            event for first in range(0, len(expected), 7) for event in audit[first : first + 7]
        ]
        assert [_row(event) for event in pages] == [_row(event) for event in audit[0:1000]]
        # The same events, in the same order of (time, id); within a tie, the model decides.
        assert sorted(map(_row, pages), key=str) == sorted(map(_row, expected), key=str), filters
        key = [(event.pgh_created_at, event.pgh_id) for event in pages]
        assert key == [(event.pgh_created_at, event.pgh_id) for event in expected], filters
        assert len({event.pgh_slug for event in pages}) == len(pages)
    assert audit[1000:1007] == []


def test_the_audit_pages_queries_do_not_grow_with_the_events(
    client, pharmacist, ward, nurse, today
):
    client.force_login(pharmacist)
    day = today.isoformat()
    urls = [
        "/audit/",
        "/audit/?page=2",
        f"/audit/?user={nurse.pk}",
        f"/audit/?user={nurse.pk}&start={day}&end={day}&page=2",
    ]
    counts: dict[str, list[int]] = {}
    for n in (30, 120):  # 60 and 240 events more: a second page, then several
        _patients(ward, nurse, n, days_ago=0)
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert response.status_code == 200, url
            counts.setdefault(url, []).append(len(queries))
    assert all(first == second for first, second in counts.values()), counts


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
    return plan


def test_the_page_is_chosen_from_the_audit_indexes_and_only_its_rows_are_built(trail, today):
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    for filters, index in (
        ({}, "time_idx"),
        ({"start": start, "end": start + dt.timedelta(1)}, "time_idx"),
        ({"user_id": trail["nurse"].pk}, "user_idx"),
    ):
        plan = _plan(AuditTrail(**filters).keys().order_by(*AuditTrail.ORDER)[50:100])
        assert "Seq Scan" not in plan, plan
        for model in event_models():
            assert f"{model._meta.model_name}_{index}" in plan, (model, plan)
    # A page's keys from two tables. Not simply the first ten: events of one transaction share
    # their time, and which table's ids sort first then depends on the sequences, which the
    # tests run before in this process have moved.
    every = [
        (model, pgh_id) for _, pgh_id, model in AuditTrail().keys().order_by(*AuditTrail.ORDER)
    ]
    keys = [key for key in every if key[0] == "courses.PatientEvent"][:5] + [
        key for key in every if key[0] == "courses.PatientWeightEvent"
    ][:5]
    assert len(keys) == 10
    plan = _plan(AuditTrail.rows(keys))
    assert "Seq Scan" not in plan, plan
    assert "courses_patientevent_pkey" in plan and "courses_patientweightevent_pkey" in plan, plan
