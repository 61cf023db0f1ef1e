"""Re-planning the doses still scheduled around what has been recorded."""

import datetime as dt

from courses import selectors, stock
from courses.models import (
    RECORDED_STATUSES,
    Course,
    Dose,
    DoseStatus,
)
from courses.schedule import (
    Pattern,
    PhasePlan,
    Slot,
    course_replan,
    local_date,
    local_datetime,
)

from .prescribing import _anchors_from_json, _dose_new, _vial_plan, amount_on
from .revisions import doses_touched

# --- Re-planning ------------------------------------------------------------------------------


def _replan(course: Course, *, earliest: dt.date, after: dt.datetime | None = None) -> None:
    """Move the still-scheduled doses around what has been recorded (courses/schedule.py).

    Recorded doses are never touched; scheduled rows get new times, missing ones are added at the
    end (re-added doses), surplus ones are cancelled. Scheduled rows before `after` are fixed:
    the engine plans around them as if they were given on their day, and they do not move.
    """
    phases = list(course.phases.select_related("protocol_phase").order_by("order"))
    index = {phase.id: i for i, phase in enumerate(phases)}
    doses = list(course.doses.order_by("scheduled_at", "sequence"))
    tz = course.time_zone
    recorded = []
    fixed = set()
    for dose in doses:
        if dose.status == DoseStatus.SCHEDULED and after is not None and dose.scheduled_at < after:
            fixed.add(dose.id)
            on = local_date(dose.scheduled_at, tz)
            recorded.append(Slot(phase=index[dose.phase_id], on=on, given=True, consumed=True))
            continue
        if dose.status not in RECORDED_STATUSES:
            continue
        given = dose.status == DoseStatus.GIVEN
        anchored = Pattern.from_dict(phases[index[dose.phase_id]].pattern).anchored
        moment = dose.given_at if given and not anchored else dose.scheduled_at
        recorded.append(
            Slot(
                phase=index[dose.phase_id],
                on=local_date(moment, tz),
                given=given,
                consumed=given or not dose.replaced,
            )
        )
    engine = [PhasePlan(Pattern.from_dict(p.pattern), p.count) for p in phases]
    plan = course_replan(
        engine, anchors=_anchors_from_json(course), recorded=recorded, earliest=earliest
    )
    presentations = selectors.presentations_for(course.protocol)
    next_sequence = max((d.sequence for d in doses), default=0) + 1
    moved, cancelled, created = [], [], []
    for phase, days in zip(phases, plan, strict=True):
        rows = [
            d
            for d in doses
            if d.phase_id == phase.id and d.status == DoseStatus.SCHEDULED and d.id not in fixed
        ]
        for row, day in zip(rows, days, strict=False):
            moment = local_datetime(day, course.administration_time, tz)
            # An age-band dose moved across a birthday takes the band of its new date.
            amount = amount_on(course, phase, day)
            changed = row.scheduled_at != moment
            if (amount.amount, amount.unit) != (row.amount, row.amount_unit):
                row.amount, row.amount_unit = amount.amount, amount.unit
                row.vials, row.waste_amount = _vial_plan(amount, presentations)
                changed = True
            row.scheduled_at = moment
            if changed:
                moved.append(row)
        for row in rows[len(days) :]:
            row.status = DoseStatus.CANCELLED
            row.reason = "Dropped by re-planning."
            cancelled.append(row)
        for day in days[len(rows) :]:
            created.append(_dose_new(course, phase, next_sequence, day, presentations))
            next_sequence += 1
    Dose.objects.bulk_update(
        moved,
        ["scheduled_at", "amount", "amount_unit", "vials", "waste_amount", *doses_touched(moved)],
    )
    Dose.objects.bulk_update(cancelled, ["status", "reason", *doses_touched(cancelled)])
    Dose.objects.bulk_create(created)
    stock.release(dose_ids=[d.id for d in moved + cancelled], reason="re-planned")
