"""Recording doses: given, held, refused, missed."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from courses import checks, selectors, stock
from courses.findings import Finding, words
from courses.models import (
    NOT_GIVEN_STATUSES,
    Course,
    CourseStatus,
    Dose,
    DoseStatus,
)
from courses.schedule import (
    Pattern,
    local_date,
)
from history.context import records

from .planning import _replan
from .prescribing import _vial_plan, amount_on
from .revisions import doses_touched

# --- Administration ---------------------------------------------------------------------------

# A record may say a dose was given a few minutes ahead of the server clock, never later.
CLOCK_SKEW = dt.timedelta(minutes=5)


def _dose_locked(dose: Dose) -> Dose:
    """The dose row, locked, and refused if it is already recorded (a dose is recorded once)."""
    # The dose and its course are locked; the patient, protocol and product rows it reads are
    # shared with every other course and must stay free (a course's hold, a weighing).
    locked = (
        Dose.objects.select_for_update(of=("self", "course"))
        .select_related("course__patient", "phase")
        .get(pk=dose.pk)
    )
    if locked.status != DoseStatus.SCHEDULED:
        raise ValidationError(
            {
                "status": _("Dose %(number)s is already %(status)s.")
                % {"number": locked.sequence, "status": str(locked.get_status_display()).lower()}
            }
        )
    if locked.course.status in {CourseStatus.CANCELLED, CourseStatus.COMPLETED}:
        raise ValidationError(
            {
                "status": _("The course is %(status)s.")
                % {"status": str(locked.course.get_status_display()).lower()}
            }
        )
    return locked


def _recipient(dose: Dose) -> str:
    return f"MRN {dose.course.patient.mrn} · course {dose.course_id} dose {dose.sequence}"


@records("dose.administer")
@transaction.atomic
def dose_administer(
    *,
    dose: Dose,
    user,
    now: dt.datetime,
    given_at: dt.datetime | None = None,
    amount: Decimal | None = None,
    drip_rate_drops_per_min: int | None = None,
    infusion_minutes: int | None = None,
    lot_id: int | None = None,
    lot_number: str = "",
    reaction: str = "",
    reason: str = "",
    later_dose_percent: int | None = None,
    later_drip_rate_drops_per_min: int | None = None,
) -> Dose:
    """Record a dose as given; dispense its containers from stock when inventory is present.

    A reaction may lower the later doses (`later_dose_percent` of the prescribed amount) and
    slow the later drips, where the leaflet says so (courses/checks.py REDUCE_ON_REACTION).
    """
    dose = _dose_locked(dose)
    if dose.held_by_course:
        raise ValidationError(
            {
                "status": _("The course is on hold from %(day)s; resume it first.")
                % {"day": dose.course.held_since}
            }
        )
    from courses.services.preparation import preparation_release_error, preparation_released

    if not preparation_released(dose):
        raise ValidationError(preparation_release_error())
    given_at = given_at or now
    errors: dict = {}
    if given_at > now + CLOCK_SKEW:
        errors["given_at"] = _("A dose cannot be recorded as given in the future.")
    elif local_date(given_at, dose.course.time_zone) < (
        prescribed_on := local_date(dose.course.prescribed_at, dose.course.time_zone)
    ):
        # The day, not the minute: a dose given this morning may be entered with a course
        # prescribed (typed in) this afternoon; one dated before that day was not given from it.
        errors["given_at"] = _(
            "A dose cannot be recorded as given before the day the course was prescribed (%(day)s)."
        ) % {"day": prescribed_on}
    window = selectors.on_time_window()
    if abs(given_at - dose.scheduled_at) > window and not reason.strip():
        errors["reason"] = _("Given more than %(hours)s h from the scheduled time: say why.") % {
            "hours": int(window.total_seconds() // 3600)
        }
    amount = dose.amount if amount is None else Decimal(amount)
    if amount <= 0 or amount > dose.amount:
        errors["amount"] = _("Between 0 and the planned %(amount)s %(unit)s.") % {
            "amount": f"{dose.amount.normalize():f}",
            "unit": dose.amount_unit,
        }
    reducing = later_dose_percent is not None or later_drip_rate_drops_per_min is not None
    if reducing:
        product_code = dose.course.protocol.product.code
        if not reaction.strip():
            errors["reaction"] = _("Describe the reaction that calls for the reduction.")
        elif product_code not in checks.REDUCE_ON_REACTION:
            errors["later_dose_percent"] = _(
                "This product's leaflet does not reduce the dose for reactions (they are "
                "expected and treated symptomatically)."
            )
        if later_dose_percent is not None and not 1 <= later_dose_percent < 100:
            errors["later_dose_percent"] = _("A reduction is 1–99 %% of the prescribed dose.") % {}
        current_rate = dose.drip_rate_drops_per_min
        if later_drip_rate_drops_per_min is not None and (
            current_rate is None or not 1 <= later_drip_rate_drops_per_min < current_rate
        ):
            errors["later_drip_rate_drops_per_min"] = (
                _("Must be slower than the current %(rate)s drops/min.") % {"rate": current_rate}
                if current_rate
                else _("This dose has no drip rate.")
            )
    if errors:
        raise ValidationError(errors)

    # The lot scanned at the bedside: a number alone is resolved among the dose's presentations.
    lot_id, lot_number = stock.scanned_lot(vials=dose.vials, lot_id=lot_id, lot_number=lot_number)
    tz = dose.course.time_zone
    stock.dispense(
        dose_id=dose.id,
        vials=dose.vials,
        on=local_date(given_at, tz),
        user=user,
        lot_id=lot_id,
        recipient=_recipient(dose),
    )
    dose.dispensed = True
    dose.status = DoseStatus.GIVEN
    dose.given_at = given_at
    dose.given_amount = amount
    dose.given_drip_rate_drops_per_min = drip_rate_drops_per_min or dose.drip_rate_drops_per_min
    dose.given_infusion_minutes = infusion_minutes or dose.infusion_minutes
    dose.lot_id = lot_id
    dose.lot_number = lot_number
    dose.reaction = reaction.strip()
    dose.reason = reason.strip()
    dose.recorded_by = user
    dose.recorded_at = now
    doses_touched([dose])
    dose.full_clean(validate_unique=False)
    dose.save()
    # Given on another day than planned: the minimum gaps count from the day it went in, so the
    # rest moves. Anchored doses (surgery, chemotherapy days) keep their dates.
    if (
        local_date(given_at, tz) != local_date(dose.scheduled_at, tz)
        and not Pattern.from_dict(dose.phase.pattern).anchored
    ):
        _replan_after(dose, now=now)
    if reducing:
        _reduce_later(dose, later_dose_percent, later_drip_rate_drops_per_min, user)
    _complete_if_done(dose.course)
    return dose


def _reduce_later(dose: Dose, percent: int | None, drip_rate: int | None, user) -> None:
    course = dose.course
    presentations = selectors.presentations_for(course.protocol)
    later = list(
        course.doses.filter(status=DoseStatus.SCHEDULED, scheduled_at__gt=dose.scheduled_at)
    )
    for course_phase in course.phases.all():
        if percent is not None:
            course_phase.dose_amount = (
                course_phase.prescribed_dose_amount * Decimal(percent) / 100
            ).quantize(Decimal("0.000001"))
            course_phase.save(update_fields=["dose_amount"])
    phases = {p.id: p for p in course.phases.select_related("protocol_phase")}
    for later_dose in later:
        if percent is not None:
            # The age band of the dose's own date, at the reduced share.
            later_phase = phases[later_dose.phase_id]
            day = local_date(later_dose.scheduled_at, course.time_zone)
            amount = amount_on(course, later_phase, day)
            later_dose.amount = amount.amount
            later_dose.vials, later_dose.waste_amount = _vial_plan(amount, presentations)
        if drip_rate is not None:
            later_dose.drip_rate_drops_per_min = drip_rate
    Dose.objects.bulk_update(
        later,
        ["amount", "vials", "waste_amount", "drip_rate_drops_per_min", *doses_touched(later)],
    )
    if drip_rate is not None:
        course.drip_rate_drops_per_min = drip_rate
    course.warnings = [
        *course.warnings,
        Finding.of(
            "reduced_after_reaction",
            gettext_noop(
                "After a reaction at dose %(number)s (%(reaction)s): later doses %(later)s; recorded by %(user)s."
            ),
            checks.REDUCE_ON_REACTION[course.protocol.product.code] + ": side effects",
            number=dose.sequence,
            reaction=dose.reaction,
            later=_later_doses(percent, drip_rate),
            user=str(user),
        ).as_dict(),
    ]
    course.save(update_fields=["warnings", "drip_rate_drops_per_min", "updated_at"])


def _later_doses(percent: int | None, drip_rate: int | None) -> dict:
    """What a reduction after a reaction changed, for its warning (words translated when read)."""
    if drip_rate is None:
        if percent is None:
            return words(gettext_noop("unchanged"))
        return words(gettext_noop("at %(percent)s %% of the prescribed dose"), percent=percent)
    if percent is None:
        return words(gettext_noop("unchanged, drip %(rate)s drops/min"), rate=drip_rate)
    return words(
        gettext_noop("at %(percent)s %% of the prescribed dose, drip %(rate)s drops/min"),
        percent=percent,
        rate=drip_rate,
    )


@records("dose.not_given")
@transaction.atomic
def dose_record_not_given(
    *,
    dose: Dose,
    status: str,
    user,
    now: dt.datetime,
    reason: str,
    replace: bool | None,
) -> Dose:
    """Record a dose as held, refused or missed. The recorder says whether a dose is re-added at
    the end of its phase (`replace=True`, so the prescribed number is given) or dropped
    (`replace=False`): never decided for them, a course is not extended silently (issue 11).
    Anchored doses (surgery, chemotherapy days) cannot move to another day: they are dropped."""
    if status not in NOT_GIVEN_STATUSES:
        raise ValidationError({"status": _("One of held, refused, missed.")})
    dose = _dose_locked(dose)
    errors = {}
    if replace is None:
        errors["replace"] = _(
            "Say whether the dose is re-added at the end of the course (true) or dropped (false)."
        )
    if not reason.strip():
        errors["reason"] = _("Say why the dose was not given.")
    if status == DoseStatus.MISSED and dose.scheduled_at > now:
        errors["status"] = _("A dose is missed only once its time has passed; hold it instead.")
    if errors:
        raise ValidationError(errors)
    anchored = Pattern.from_dict(dose.phase.pattern).anchored
    dose.status = status
    dose.reason = reason.strip()
    dose.replaced = bool(replace) and not anchored
    dose.recorded_by = user
    dose.recorded_at = now
    doses_touched([dose])
    dose.save()
    stock.release(dose_ids=[dose.id], user=user, reason=f"dose {status}")
    course = dose.course
    if course.status == CourseStatus.ACTIVE:
        _replan_after(dose, now=now)
    _complete_if_done(course)
    return dose


def _replan_after(dose: Dose, *, now: dt.datetime) -> None:
    """Re-plan the doses scheduled after `dose`, just recorded. The ones before it keep their
    times: holding tomorrow's dose must not push today's, still due, past it."""
    course = dose.course
    later = (
        course.doses.filter(status=DoseStatus.SCHEDULED, scheduled_at__gt=dose.scheduled_at)
        .order_by("scheduled_at")
        .first()
    )
    earliest = local_date(later.scheduled_at if later else now, course.time_zone)
    _replan(course, earliest=earliest, after=dose.scheduled_at)


def _complete_if_done(course: Course) -> None:
    if (
        course.status == CourseStatus.ACTIVE
        and not course.doses.filter(status=DoseStatus.SCHEDULED).exists()
    ):
        course.status = CourseStatus.COMPLETED
        course.save(update_fields=["status", "updated_at"])
