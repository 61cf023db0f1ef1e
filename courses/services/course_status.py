"""Course status: hold, resume, cancel."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from courses import stock
from courses.models import (
    RECORDED_STATUSES,
    Course,
    CourseStatus,
    DoseStatus,
)
from courses.schedule import local_datetime
from history.context import records

from .administration import _complete_if_done
from .planning import _replan
from .revisions import doses_touch


def _held_doses(course: Course):
    return course.doses.filter(
        status=DoseStatus.SCHEDULED,
        scheduled_at__gte=dt.datetime.combine(
            course.held_since, dt.time(), tzinfo=ZoneInfo(course.time_zone)
        ),
    )


# Holds and resumes are dated at most this far ahead: a course is planned around now, and a
# date years away cannot be planned from (9999-12-31 overflowed the re-planning).
HOLD_RESUME_HORIZON_DAYS = 366


def _within_horizon(on: dt.date, today: dt.date) -> None:
    if on > today + dt.timedelta(days=HOLD_RESUME_HORIZON_DAYS):
        raise ValidationError(
            {
                "on": _("At most %(days)s days ahead (until %(day)s).")
                % {
                    "days": HOLD_RESUME_HORIZON_DAYS,
                    "day": today + dt.timedelta(days=HOLD_RESUME_HORIZON_DAYS),
                }
            }
        )


def _course_locked(course: Course) -> Course:
    # Only the course row: its protocol and product are shared by every course prescribed from them.
    return (
        Course.objects.select_for_update(of=("self",))
        .select_related("protocol__product")
        .get(pk=course.pk)
    )


@records("course.hold")
@transaction.atomic
def course_hold(
    *, course: Course, user, on: dt.date, reason: str, today: dt.date | None = None
) -> Course:
    """Hold a course from `on` (today or later): no dose is given until it is resumed."""
    course = _course_locked(course)
    if course.status != CourseStatus.ACTIVE:
        raise ValidationError(
            {
                "status": _("Only an active course can be held (it is %(status)s).")
                % {"status": str(course.get_status_display()).lower()}
            }
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the course is held.")})
    today = today or timezone.localdate()
    if on < today:
        raise ValidationError({"on": _("A hold starts today or later; record past doses instead.")})
    _within_horizon(on, today)
    course.status = CourseStatus.ON_HOLD
    course.held_since = on
    course.status_reason = reason.strip()
    course.save(update_fields=["status", "held_since", "status_reason", "updated_at"])
    # Calendars show the doses from the hold on as cancelled: they change for subscribers.
    doses_touch(_held_doses(course))
    # Doses before the hold date are still due: they keep their vials.
    stock.release(
        dose_ids=course.doses.filter(
            status=DoseStatus.SCHEDULED, scheduled_at__gte=_day_start(course, on)
        ).values_list("id", flat=True),
        user=user,
        reason="course held",
    )
    return course


def _day_start(course: Course, day: dt.date) -> dt.datetime:
    """Midnight starting `day` in the course's zone."""
    return local_datetime(day, dt.time(0, 0), course.time_zone)


@records("course.resume")
@transaction.atomic
def course_resume(*, course: Course, user, on: dt.date, today: dt.date | None = None) -> Course:
    """Resume from `on`: the doses from the hold date on move, keeping the pattern's minimum gaps
    (and a cycle's dose-free days); none moves before today, whatever day the resume is dated.
    Every dose scheduled before the hold date stays where it is (issue 11: a course held from
    3 Dec and resumed 7 Dec must not move its 1–2 Dec doses)."""
    course = _course_locked(course)
    if course.status != CourseStatus.ON_HOLD:
        raise ValidationError({"status": _("Only a course on hold can be resumed.")})
    _within_horizon(on, today or timezone.localdate())
    # Resumed before the hold date: the hold is lifted before it began, and the doses from that
    # date keep their days (a re-plan from the hold date finds them where they are).
    on = max(on, course.held_since)
    held_from = _day_start(course, course.held_since)
    doses_touch(_held_doses(course))
    course.status = CourseStatus.ACTIVE
    course.held_since = None
    course.save(update_fields=["status", "held_since", "updated_at"])
    _replan(course, earliest=max(on, today or timezone.localdate()), after=held_from)
    _complete_if_done(course)
    return course


@records("course.cancel")
@transaction.atomic
def course_cancel(*, course: Course, user, reason: str) -> Course:
    """Stop a course: its scheduled doses are cancelled; what was recorded stays."""
    course = _course_locked(course)
    if course.status in {CourseStatus.CANCELLED, CourseStatus.COMPLETED}:
        raise ValidationError(
            {
                "status": _("The course is already %(status)s.")
                % {"status": str(course.get_status_display()).lower()}
            }
        )
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the course is stopped.")})
    scheduled = list(course.doses.filter(status=DoseStatus.SCHEDULED).values_list("id", flat=True))
    doses_touch(
        course.doses.filter(id__in=scheduled),
        status=DoseStatus.CANCELLED,
        reason="Course cancelled.",
    )
    course.status = CourseStatus.CANCELLED
    course.held_since = None
    course.status_reason = reason.strip()
    course.save(update_fields=["status", "held_since", "status_reason", "updated_at"])
    stock.release(dose_ids=scheduled, user=user, reason="course cancelled")
    return course


class RecordedDosesKept(Exception):
    """A course with a recorded dose is never deleted: cancel it instead."""


@records("course.delete")
@transaction.atomic
def course_delete(*, course: Course, user) -> None:
    """Delete a course prescribed in error, before anything was recorded on it.

    A course with any recorded dose is the patient's treatment record and the ledger points at
    its doses: it is kept (`RecordedDosesKept`; cancel it instead). A database trigger refuses
    the delete of a recorded dose too, so no other path can remove one either.
    """
    course = _course_locked(course)
    if course.doses.filter(status__in=RECORDED_STATUSES).exists():
        raise RecordedDosesKept(
            _("A course with recorded doses is never deleted; cancel it instead.")
        )
    scheduled = list(course.doses.filter(status=DoseStatus.SCHEDULED).values_list("id", flat=True))
    stock.release(dose_ids=scheduled, user=user, reason="course deleted")
    course.delete()
