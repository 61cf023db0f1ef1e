"""The bulk prescribing path for imports: the same checks and rows as course_create, one INSERT
per table for all the courses, and all or nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import Course, Dose, Protocol
from courses.services import course_create, courses_create_bulk
from tests.courses.test_prescribing import HARD_STOPS, REGIMENS, _anchors, _patient

pytestmark = pytest.mark.django_db

COURSE_FIELDS = [
    "start_date",
    "anchors",
    "administration_time",
    "time_zone",
    "diluent",
    "drip_rate_drops_per_min",
    "infusion_minutes",
    "weight_kg",
    "weight_measured_on",
    "age_months",
    "hard_stops",
    "override_reason",
    "warnings",
    "status",
]
DOSE_FIELDS = [
    "sequence",
    "scheduled_at",
    "amount",
    "amount_unit",
    "weight_kg",
    "vials",
    "waste_amount",
    "drip_rate_drops_per_min",
    "infusion_minutes",
    "status",
]


def _rows(course):
    doses = course.doses.order_by("sequence")
    phases = course.phases.order_by("order")
    return (
        {f: getattr(course, f) for f in COURSE_FIELDS},
        [
            (p.order, p.pattern, p.count, p.cycles, p.dose_value, p.dose_amount, p.amount_unit)
            for p in phases
        ],
        [{f: getattr(d, f) for f in DOSE_FIELDS} | {"phase": d.phase.order} for d in doses],
    )


def test_bulk_gives_every_leaflet_regimen_the_rows_course_create_gives(
    formulary, physician, ward, today
):
    singles, prescriptions = [], []
    for code, patient, choices, *_ in REGIMENS:
        protocol = Protocol.objects.get(code=code)
        args = {"phases": choices, "anchors": _anchors(today, code)}
        singles.append(
            course_create(
                patient=_patient(today, ward, **patient),
                protocol=protocol,
                user=physician,
                on=today,
                **args,
            )
        )
        prescriptions.append(
            {"patient": _patient(today, ward, **patient), "protocol": protocol, **args}
        )
    made = courses_create_bulk(prescriptions=prescriptions, user=physician, on=today)
    assert len(made) == len(REGIMENS)
    for single, bulk in zip(singles, made, strict=True):
        bulk = Course.objects.get(pk=bulk.pk)
        assert bulk.prescribed_by == physician and bulk.protocol_id == single.protocol_id
        assert _rows(bulk) == _rows(Course.objects.get(pk=single.pk)), single.protocol.code


@pytest.mark.parametrize(("code", "patient", "choices", "stop"), HARD_STOPS[:3])
def test_a_hard_stop_refuses_the_whole_import_naming_the_prescription(
    formulary, physician, ward, today, code, patient, choices, stop
):
    protocol = Protocol.objects.get(code="biocerulin-general")
    fine = {"patient": _patient(today, ward), "protocol": protocol}
    fine["phases"] = [{"pattern": {"kind": "daily"}, "dose": "100"}]
    stopped = {
        "patient": _patient(today, ward, **patient),
        "protocol": Protocol.objects.get(code=code),
        "phases": choices,
    }
    with pytest.raises(ValidationError) as error:
        courses_create_bulk(prescriptions=[fine, stopped], user=physician, on=today)
    messages = error.value.message_dict["prescriptions.1.hard_stops"]
    assert any(f"[{stop}]" in m for m in messages)
    assert "prescriptions.0.hard_stops" not in error.value.message_dict
    assert Course.objects.count() == 0 and Dose.objects.count() == 0
    # A physician's override reason lets it through, kept on the course as course_create does.
    made = courses_create_bulk(
        prescriptions=[fine, stopped], user=physician, on=today, override_reason="MDT decision"
    )
    assert made[1].override_reason == "MDT decision" and made[1].overridden_by == physician
    assert stop in {s["code"] for s in Course.objects.get(pk=made[1].pk).hard_stops}


def test_bulk_queries_do_not_grow_with_the_courses(postgres, formulary, physician, ward, today):
    """PostgreSQL: one INSERT per table whatever the batch. (SQLite splits a bulk insert into
    batches of at most 999 parameters, so there the count grows with the rows by design.)"""
    protocol = Protocol.objects.get(code="ceruloplasmin-postop")

    def queries(n):
        batch = [
            {
                "patient": _patient(today, ward),
                "protocol": protocol,
                "phases": [{"dose": "3", "count": 10}],
            }
            for _ in range(n)
        ]
        with CaptureQueriesContext(connection) as captured:
            courses_create_bulk(prescriptions=batch, user=physician, on=today)
        return len(captured)

    assert queries(8) <= queries(2)
    assert Course.objects.count() == 10 and Dose.objects.count() == 100


@pytest.mark.usefixtures("postgres")
def test_bulk_records_who_prescribed_each_row_in_the_history(formulary, physician, ward, today):
    from pghistory.models import Events

    protocol = Protocol.objects.get(code="ceruloplasmin-postop")
    made = courses_create_bulk(
        prescriptions=[
            {
                "patient": _patient(today, ward),
                "protocol": protocol,
                "phases": [{"dose": "3", "count": 10}],
            },
        ],
        user=physician,
        on=today,
    )
    course_events = list(
        Events.objects.across("courses.CourseEvent").filter(pgh_obj_id=str(made[0].pk))
    )
    assert [e.pgh_label for e in course_events] == ["insert"]
    context = course_events[0].pgh_context
    assert context["user"] == physician.pk and context["action"] == "course.prescribe"
    dose_ids = [str(pk) for pk in made[0].doses.values_list("pk", flat=True)]
    dose_events = Events.objects.across("courses.DoseEvent").filter(pgh_obj_id__in=dose_ids)
    assert dose_events.count() == 10
    assert all(e.pgh_context["action"] == "course.prescribe" for e in dose_events)
