"""Recording doses, holds, resumes, cancels and re-planning around what really happened."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from courses import services
from courses.models import DoseStatus
from tests.courses.helpers import day_numbers, prescribe, seven_doses
from tests.factories import PatientFactory

D = Decimal


def _at(dose, **delta):
    return dose.scheduled_at + dt.timedelta(**delta)


def _doses(course):
    return list(course.doses.exclude(status="cancelled").order_by("scheduled_at"))


@pytest.fixture
def eod_course(formulary, physician, ward, today):
    pattern = {"kind": "every_n_days", "n": 2}
    return seven_doses("ceruloplasmin-preop-oncology", physician, ward, today, pattern=pattern)


@pytest.fixture
def daily_course(formulary, physician, ward, today):
    return seven_doses("ceruloplasmin-postop", physician, ward, today)


def test_record_given_once_only(eod_course, nurse, stocked):
    dose = _doses(eod_course)[0]
    lot = stocked["ceruloplasmin-100mg-vial-5"]
    recorded = services.dose_administer(
        dose=dose, user=nurse, now=_at(dose, minutes=20), lot_number=lot.lot_number, lot_id=lot.pk
    )
    assert recorded.status == DoseStatus.GIVEN and recorded.given_amount == D(140)
    assert (recorded.lot_number, recorded.lot_id) == (lot.lot_number, lot.pk)
    assert recorded.dispensed is True
    with pytest.raises(ValidationError) as error:
        services.dose_administer(dose=dose, user=nurse, now=_at(dose, minutes=30))
    assert "already given" in error.value.message_dict["status"][0]
    with pytest.raises(ValidationError):
        services.dose_record_not_given(
            dose=dose,
            status="refused",
            user=nurse,
            now=_at(dose, minutes=30),
            reason="x",
            replace=True,
        )


def test_far_from_time_needs_a_reason_and_future_is_refused(eod_course, nurse, stocked):
    dose = _doses(eod_course)[0]
    with pytest.raises(ValidationError) as error:
        services.dose_administer(dose=dose, user=nurse, now=_at(dose, hours=3))
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.dose_administer(
            dose=dose, user=nurse, now=_at(dose, hours=0), given_at=_at(dose, hours=1)
        )
    assert "given_at" in error.value.message_dict
    given = services.dose_administer(
        dose=dose, user=nurse, now=_at(dose, hours=3), reason="Patient was in theatre"
    )
    assert given.reason == "Patient was in theatre"


def test_amount_cannot_exceed_the_planned_dose(eod_course, nurse):
    dose = _doses(eod_course)[0]
    with pytest.raises(ValidationError) as error:
        services.dose_administer(dose=dose, user=nurse, now=_at(dose), amount=D("140.5"))
    assert "amount" in error.value.message_dict


def test_missed_dose_is_re_added_at_the_end_and_nothing_recorded_moves(eod_course, nurse, stocked):
    first, second = _doses(eod_course)[:2]
    services.dose_administer(dose=first, user=nurse, now=_at(first))
    given_before = first.__class__.objects.get(pk=first.pk).scheduled_at
    services.dose_record_not_given(
        dose=second,
        status="missed",
        user=nurse,
        now=_at(second, hours=5),
        reason="Vein access failed",
        replace=True,
    )
    assert day_numbers(eod_course) == [1, 3, 5, 7, 9, 11, 13, 15]  # 7 to give + the missed one
    assert eod_course.doses.filter(status="scheduled").count() == 6
    assert first.__class__.objects.get(pk=first.pk).scheduled_at == given_before


def test_dropped_dose_is_not_re_added(eod_course, nurse):
    first = _doses(eod_course)[0]
    services.dose_record_not_given(
        dose=first, status="refused", user=nurse, now=_at(first), reason="Declined", replace=False
    )
    assert eod_course.doses.filter(status="scheduled").count() == 6
    with pytest.raises(ValidationError) as error:
        services.dose_record_not_given(
            dose=_doses(eod_course)[1],
            status="missed",
            user=nurse,
            now=_at(first),
            reason="too early",
            replace=True,
        )
    assert "status" in error.value.message_dict


def test_hold_and_resume_keep_14_dose_free_days_between_betaleukin_cycles(
    formulary, physician, nurse, ward, today, stocked
):
    course = prescribe(
        PatientFactory(ward=ward),
        "betaleukin-immunodeficiency-sc",
        physician,
        today,
        phases=[{"dose": "5", "cycles": 2}],
    )
    doses = _doses(course)
    for dose in doses[:3]:
        services.dose_administer(dose=dose, user=nurse, now=_at(dose))
    services.course_hold(
        course=course, user=physician, on=today + dt.timedelta(3), reason="Fever 39.5 °C"
    )
    with pytest.raises(ValidationError):
        services.dose_administer(dose=doses[3], user=nurse, now=_at(doses[3]))
    services.course_resume(course=course, user=physician, on=today + dt.timedelta(7))
    assert day_numbers(course) == [1, 2, 3, 8, 9, 24, 25, 26, 27, 28]
    course.refresh_from_db()
    assert course.status == "active" and course.held_since is None


def test_cancel_keeps_the_record_and_completion_is_automatic(
    formulary, physician, nurse, ward, today, stocked
):
    course = prescribe(
        PatientFactory(ward=ward),
        "ceruloplasmin-pregnancy-anaemia",
        physician,
        today,
        override_reason="Trimester unknown: benefit judged to outweigh",
    )
    doses = _doses(course)
    for dose in doses:
        services.dose_administer(dose=dose, user=nurse, now=_at(dose))
    course.refresh_from_db()
    assert course.status == "completed"
    with pytest.raises(ValidationError):
        services.course_cancel(course=course, user=physician, reason="x")

    other = prescribe(
        PatientFactory(ward=ward),
        "biocerulin-general",
        physician,
        today,
        phases=[{"pattern": {"kind": "daily"}, "dose": "80"}],
    )
    first = _doses(other)[0]
    services.dose_administer(dose=first, user=nurse, now=_at(first))
    services.course_cancel(course=other, user=physician, reason="Discharged")
    statuses = sorted(other.doses.values_list("status", flat=True))
    assert statuses == ["cancelled"] * 4 + ["given"]


def test_reaction_reduces_later_doses_and_rate_where_the_leaflet_says_so(
    daily_course, physician, nurse, ward, today, stocked
):
    course = daily_course
    first, second = _doses(course)[:2]
    services.dose_administer(
        dose=first,
        user=nurse,
        now=_at(first),
        reaction="Chills, flushing",
        later_dose_percent=75,
        later_drip_rate_drops_per_min=20,
    )
    second.refresh_from_db()
    assert (second.amount, second.drip_rate_drops_per_min) == (D(105), 20)
    course.refresh_from_db()
    assert course.warnings[-1]["code"] == "reduced_after_reaction"
    with pytest.raises(ValidationError) as error:
        services.dose_administer(
            dose=second,
            user=nurse,
            now=_at(second),
            reaction="rash",
            later_drip_rate_drops_per_min=25,
        )
    assert "later_drip_rate_drops_per_min" in error.value.message_dict

    beta = prescribe(
        PatientFactory(ward=ward),
        "betaleukin-immunodeficiency-sc",
        physician,
        today,
        phases=[{"dose": "5", "cycles": 1}],
    )
    dose = _doses(beta)[0]
    with pytest.raises(ValidationError) as error:
        services.dose_administer(
            dose=dose, user=nurse, now=_at(dose), reaction="fever 38.5", later_dose_percent=50
        )
    assert "later_dose_percent" in error.value.message_dict


def test_anchored_dose_not_given_is_dropped_not_moved(formulary, physician, nurse, ward, today):
    from tests.courses.helpers import born

    child = PatientFactory(ward=ward, birth_date=born(today, years=6))
    course = prescribe(
        child,
        "ceruloplasmin-child-toxic-anaemia",
        physician,
        today,
        anchors={"chemotherapy_dates": [str(today), str(today + dt.timedelta(7))]},
    )
    first = _doses(course)[0]
    recorded = services.dose_record_not_given(
        dose=first,
        status="held",
        user=nurse,
        now=_at(first),
        reason="Chemo postponed",
        replace=True,
    )
    assert recorded.replaced is False
    assert day_numbers(course) == [1, 8]


def test_demand_lists_containers_of_scheduled_doses(eod_course, today):
    from courses.demand import scheduled_demand

    lines = scheduled_demand(today, today + dt.timedelta(days=4))
    assert [(line.on - today).days for line in lines] == [0, 2, 4]
    assert {line.quantity for line in lines} == {2}  # 140 mg from two 100 mg vials
    assert lines[0].reference == f"dose:{_doses(eod_course)[0].id}"


def test_given_dose_dispenses_from_inventory_and_is_traceable_from_the_lot(
    eod_course, nurse, stocked
):
    from inventory.models import StockLevel
    from inventory.selectors import lot_recipients

    dose = _doses(eod_course)[0]
    lot = stocked["ceruloplasmin-100mg-vial-5"]
    services.dose_administer(dose=dose, user=nurse, now=_at(dose), lot_id=lot.pk)

    level = StockLevel.objects.get(lot=lot)
    assert level.on_hand == 48  # 140 mg = two 100 mg vials
    recipients = lot_recipients(lot_id=lot.pk)
    assert [r["reference"] for r in recipients] == [f"dose:{dose.id}"]
    assert eod_course.patient.mrn in recipients[0]["recipient"]


def test_given_dose_without_stock_is_refused_and_not_recorded(eod_course, nurse):
    dose = _doses(eod_course)[0]
    with pytest.raises(ValidationError) as error:  # nothing received
        services.dose_administer(dose=dose, user=nurse, now=_at(dose))
    assert "Insufficient stock" in error.value.message_dict["quantity"][0]
    dose.refresh_from_db()
    assert dose.status == DoseStatus.SCHEDULED


def test_scanned_lot_number_is_the_lot_dispensed(eod_course, nurse, stocked):
    from inventory.models import StockMovement

    dose = _doses(eod_course)[0]
    lot = stocked["ceruloplasmin-100mg-vial-5"]
    with pytest.raises(ValidationError) as error:
        services.dose_administer(dose=dose, user=nurse, now=_at(dose), lot_number="NOPE-1")
    assert "lot_number" in error.value.message_dict
    with pytest.raises(ValidationError):  # a Betaleukin lot is not this dose's product
        services.dose_administer(
            dose=dose,
            user=nurse,
            now=_at(dose),
            lot_number=stocked["betaleukin-0-05ug-ampoule-5"].lot_number,
        )
    recorded = services.dose_administer(
        dose=dose, user=nurse, now=_at(dose), lot_number=lot.lot_number
    )
    assert recorded.lot_id == lot.pk
    moved = StockMovement.objects.filter(reference=f"dose:{dose.id}", kind="dispense")
    assert {m.lot_id for m in moved} == {lot.pk}


def test_holding_a_future_dose_leaves_the_earlier_due_dose_in_place(daily_course, nurse):
    course = daily_course
    first, second = _doses(course)[:2]
    services.dose_record_not_given(
        dose=second,
        status="held",
        user=nurse,
        now=_at(first, hours=-1),
        reason="Theatre",
        replace=True,
    )
    first.refresh_from_db()
    assert first.status == DoseStatus.SCHEDULED
    assert first.scheduled_at == _doses(course)[0].scheduled_at
    # Dose 1 keeps day 1, the held dose 2 stays on day 2, the rest follow it, one re-added.
    assert day_numbers(course) == [1, 2, 3, 4, 5, 6, 7, 8]


def test_dose_given_a_day_late_moves_the_rest_to_keep_the_minimum_gap(eod_course, nurse, stocked):
    first = _doses(eod_course)[0]
    services.dose_administer(
        dose=first, user=nurse, now=_at(first, days=1), reason="Patient in theatre"
    )
    doses = _doses(eod_course)
    # Every other day counts from the day the dose went in (day 2), not the planned day 1.
    assert day_numbers(eod_course) == [1, 4, 6, 8, 10, 12, 14]
    assert doses[1].scheduled_at - doses[0].given_at >= dt.timedelta(days=2)
    assert doses[0].scheduled_at == first.scheduled_at


def test_dose_given_late_the_same_day_moves_nothing(eod_course, nurse, stocked):
    first = _doses(eod_course)[0]
    before = [d.scheduled_at for d in _doses(eod_course)]
    services.dose_administer(dose=first, user=nurse, now=_at(first, hours=3), reason="Late")
    assert [d.scheduled_at for d in _doses(eod_course)] == before


def test_a_hold_cannot_start_in_the_past(daily_course, physician, today):
    with pytest.raises(ValidationError) as error:
        services.course_hold(
            course=daily_course, user=physician, on=today - dt.timedelta(1), reason="Fever"
        )
    assert "on" in error.value.message_dict
    daily_course.refresh_from_db()
    assert daily_course.status == "active"


def test_a_resume_dated_in_the_past_plans_no_dose_before_today(daily_course, physician, today):
    # A hold recorded three days ago, resumed today with the hold's own date.
    held_on = today - dt.timedelta(3)
    daily_course.__class__.objects.filter(pk=daily_course.pk).update(
        status="on_hold", held_since=held_on
    )
    services.course_resume(course=daily_course, user=physician, on=held_on)
    assert day_numbers(daily_course) == [1, 2, 3, 4, 5, 6, 7]
    services.course_hold(course=daily_course, user=physician, on=today, reason="Fever")
    services.course_resume(
        course=daily_course, user=physician, on=today + dt.timedelta(1), today=today
    )
    assert day_numbers(daily_course) == [2, 3, 4, 5, 6, 7, 8]
