"""Dose alert selection at its edges: lead times, late scans, DST, opt-outs, overdue levels.

Run in Europe/Berlin so that local time and UTC differ (and differ again across 2026-03-29,
the spring-forward day)."""

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from config.roles import Role
from courses import alerts
from courses.models import CourseStatus, Dose, DoseStatus
from notifications.models import Notification, NotificationKind, NotificationPreference
from tests.courses.helpers import prescribe
from tests.factories import PatientFactory, UserFactory, WardFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC
_mrns = itertools.count(1)


@pytest.fixture(autouse=True)
def berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"


@pytest.fixture
def ward3a(ward, nurse):
    ward.email = "ward-3a@hospital.test"
    ward.reminder_lead_minutes = 60
    ward.save()
    return ward


@pytest.fixture
def dose_at(formulary, physician, ward3a):
    """dose_at(moment, ward=…) → one scheduled dose of an active course at `moment`."""

    def make(moment: dt.datetime, *, ward=ward3a) -> Dose:
        patient = PatientFactory(ward=ward, name="Anna Maria Beck", mrn=f"H-2231{next(_mrns):04d}")
        return single_dose(patient, physician, moment)

    return make


def single_dose(patient, physician, moment: dt.datetime) -> Dose:
    """A ceruloplasmin course for `patient` left with one scheduled dose, at `moment`."""
    course = prescribe(
        patient,
        "ceruloplasmin-postop",
        physician,
        on=timezone.localdate(),
        phases=[{"dose": "3", "count": 7}],
    )
    first, *rest = course.doses.order_by("sequence")
    Dose.objects.filter(pk__in=[d.pk for d in rest]).update(status=DoseStatus.CANCELLED)
    Dose.objects.filter(pk=first.pk).update(scheduled_at=moment)
    return Dose.objects.select_related("course__patient").get(pk=first.pk)


T = dt.datetime(2026, 6, 10, 10, 0, tzinfo=BERLIN)
MINUTE = dt.timedelta(minutes=1)
SECOND = dt.timedelta(seconds=1)


def kinds() -> list[str]:
    return list(Notification.objects.order_by("id").values_list("kind", flat=True))


# --- Reminders ---------------------------------------------------------------------------------


def test_a_reminder_is_due_exactly_at_the_wards_lead_time_not_a_second_before(dose_at, nurse):
    dose = dose_at(T)
    assert alerts.dose_reminders_enqueue(now=T - 60 * MINUTE - SECOND) == 0
    assert alerts.dose_reminders_enqueue(now=T - 60 * MINUTE) == 1
    reminder = Notification.objects.get()
    assert reminder.kind == NotificationKind.DOSE_REMINDER
    assert reminder.key == f"dose_reminder:dose:{dose.pk}:2026-06-10T08:00:00+00:00"
    assert reminder.due_at == T - 60 * MINUTE
    assert reminder.recipients == [nurse.email, "ward-3a@hospital.test"]
    assert reminder.subject.startswith("Dose due Wed 10 Jun 2026 at 10:00: Ceruloplasmin")  # local


def test_running_the_scan_again_stores_nothing_new(dose_at):
    dose_at(T)
    assert alerts.dose_reminders_enqueue(now=T - 30 * MINUTE) == 1
    assert alerts.dose_reminders_enqueue(now=T - 29 * MINUTE) == 0
    assert alerts.dose_reminders_enqueue(now=T) == 0
    assert Notification.objects.count() == 1


def test_each_ward_has_its_own_lead_time(dose_at, ward3a):
    quick = WardFactory(code="ward-icu", reminder_lead_minutes=15, email="icu@hospital.test")
    dose_at(T)
    icu = dose_at(T, ward=quick)
    assert alerts.dose_reminders_enqueue(now=T - 16 * MINUTE) == 1  # ward 3A only
    assert alerts.dose_reminders_enqueue(now=T - 15 * MINUTE) == 1
    assert Notification.objects.filter(subject_id=str(icu.pk)).get().recipients == [
        "icu@hospital.test"
    ]


def test_a_late_scan_reminds_up_to_half_an_hour_after_the_dose_then_leaves_it(dose_at):
    dose_at(T)
    assert alerts.dose_reminders_enqueue(now=T + 30 * MINUTE) == 0
    assert alerts.dose_reminders_enqueue(now=T + 30 * MINUTE - SECOND) == 1


def test_recorded_cancelled_and_held_course_doses_get_no_reminder(dose_at):
    given = dose_at(T)
    Dose.objects.filter(pk=given.pk).update(status=DoseStatus.HELD, recorded_at=T - 2 * MINUTE)
    dose_at(T).course.doses.update(status=DoseStatus.CANCELLED)
    held = dose_at(T).course
    held.status, held.held_since = CourseStatus.ON_HOLD, T.date()
    held.save()
    assert alerts.dose_reminders_enqueue(now=T) == 0


def test_a_replanned_dose_is_reminded_again_at_its_new_time(dose_at):
    dose = dose_at(T)
    assert alerts.dose_reminders_enqueue(now=T) == 1
    Dose.objects.filter(pk=dose.pk).update(scheduled_at=T + dt.timedelta(days=1))
    assert alerts.dose_reminders_enqueue(now=T + dt.timedelta(days=1) - 59 * MINUTE) == 1
    assert Notification.objects.filter(subject_id=str(dose.pk)).count() == 2


def test_the_email_names_the_patient_by_initials_and_mrn_suffix_only(dose_at):
    dose = dose_at(T)
    alerts.dose_reminders_enqueue(now=T)
    reminder = Notification.objects.get()
    mrn = dose.course.patient.mrn
    for body in (reminder.subject, reminder.body_text, reminder.body_html):
        assert f"A.M.B. · MRN …{mrn[-4:]}" in body
        assert "Beck" not in body and mrn not in body
    # What the nurse prepares: drug, dose, vials, diluent and drip rate (ceruloplasmin leaflet).
    assert "Ceruloplasmin 210 mg" in reminder.body_text
    assert "3 × 100 mg" in reminder.body_text
    assert "30 drops/min" in reminder.body_text


# --- Ward digest ---------------------------------------------------------------------------------

SPRING_FORWARD = dt.date(2026, 3, 29)  # 02:00 CET → 03:00 CEST: 07:00 local is 05:00 UTC


def at_berlin(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BERLIN)


def test_the_digest_goes_at_the_wards_local_time_on_a_dst_day(dose_at, ward3a, nurse):
    dose_at(at_berlin(SPRING_FORWARD, 9, 30))
    dose_at(at_berlin(SPRING_FORWARD, 23, 30))
    dose_at(at_berlin(SPRING_FORWARD + dt.timedelta(days=1), 0, 30))  # tomorrow
    dose_at(at_berlin(SPRING_FORWARD - dt.timedelta(days=1), 23, 30))  # yesterday
    seven = dt.datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    assert alerts.ward_digests_enqueue(now=seven - SECOND) == 0
    assert alerts.ward_digests_enqueue(now=seven) == 1
    assert alerts.ward_digests_enqueue(now=seven + dt.timedelta(hours=3)) == 0
    digest = Notification.objects.get()
    assert (digest.kind, digest.key) == (NotificationKind.WARD_DIGEST, "digest:ward-3a:2026-03-29")
    assert digest.due_at == seven
    assert "2 infusions today" in digest.subject
    assert "09:30" in digest.body_text and "23:30" in digest.body_text
    assert "00:30" not in digest.body_text
    assert "Sunday 29 March 2026" in digest.body_text


def test_the_digest_before_dst_uses_the_winter_offset(dose_at):
    day = SPRING_FORWARD - dt.timedelta(days=1)
    dose_at(at_berlin(day, 11))
    assert alerts.ward_digests_enqueue(now=dt.datetime(2026, 3, 28, 5, 59, tzinfo=UTC)) == 0
    assert alerts.ward_digests_enqueue(now=dt.datetime(2026, 3, 28, 6, 0, tzinfo=UTC)) == 1


def test_the_digest_honours_the_opt_out_and_keeps_the_ward_mailbox(dose_at, ward3a, nurse):
    quiet = UserFactory(username="quiet", roles=[Role.NURSE])
    ward3a.members.add(quiet)
    NotificationPreference.objects.create(user=nurse, receive_digests=False)
    dose_at(at_berlin(T.date(), 11))
    alerts.ward_digests_enqueue(now=at_berlin(T.date(), 7))
    assert Notification.objects.get().recipients == [quiet.email, "ward-3a@hospital.test"]


def test_a_ward_with_nothing_scheduled_today_gets_no_digest(dose_at):
    dose_at(at_berlin(T.date() + dt.timedelta(days=1), 11))
    assert alerts.ward_digests_enqueue(now=at_berlin(T.date(), 8)) == 0


def test_each_ward_at_its_own_digest_time(dose_at, ward3a):
    late = WardFactory(code="ward-late", digest_time=dt.time(9, 15), email="late@hospital.test")
    dose_at(at_berlin(T.date(), 11))
    dose_at(at_berlin(T.date(), 11), ward=late)
    assert alerts.ward_digests_enqueue(now=at_berlin(T.date(), 9, 14)) == 1
    assert alerts.ward_digests_enqueue(now=at_berlin(T.date(), 9, 15)) == 1
    assert sorted(Notification.objects.values_list("key", flat=True)) == [
        "digest:ward-3a:2026-06-10",
        "digest:ward-late:2026-06-10",
    ]


# --- Overdue and escalation ------------------------------------------------------------------


def test_overdue_alerts_the_ward_at_two_hours_then_escalates_to_pharmacists_at_six(
    dose_at, nurse, pharmacist
):
    dose_at(T)
    hour = dt.timedelta(hours=1)
    assert alerts.doses_overdue_enqueue(now=T + 2 * hour - SECOND) == 0
    assert alerts.doses_overdue_enqueue(now=T + 2 * hour) == 1
    assert alerts.doses_overdue_enqueue(now=T + 6 * hour - SECOND) == 0
    assert alerts.doses_overdue_enqueue(now=T + 6 * hour) == 1
    assert alerts.doses_overdue_enqueue(now=T + 7 * hour) == 0
    overdue, escalated = Notification.objects.order_by("id")
    assert (overdue.kind, overdue.threshold) == (NotificationKind.DOSE_OVERDUE, "2h")
    assert overdue.recipients == [nurse.email, "ward-3a@hospital.test"]
    assert overdue.due_at == T + 2 * hour
    assert (escalated.kind, escalated.threshold) == (NotificationKind.DOSE_MISSED_ESCALATION, "6h")
    assert pharmacist.email in escalated.recipients
    assert escalated.key.endswith(":6h") and overdue.key.endswith(":2h")


def test_a_first_scan_after_six_hours_sends_the_escalation_alone(dose_at):
    dose_at(T)
    assert alerts.doses_overdue_enqueue(now=T + dt.timedelta(hours=7)) == 1
    assert kinds() == [NotificationKind.DOSE_MISSED_ESCALATION]


def test_recorded_doses_and_doses_older_than_the_window_raise_nothing(dose_at, settings):
    recorded = dose_at(T)
    Dose.objects.filter(pk=recorded.pk).update(status=DoseStatus.MISSED, recorded_at=T)
    dose_at(T - dt.timedelta(hours=settings.DOSE_ALERT_WINDOW_HOURS))
    assert alerts.doses_overdue_enqueue(now=T + dt.timedelta(hours=6)) == 0


def test_thresholds_come_from_settings(dose_at, settings):
    settings.DOSE_OVERDUE_HOURS, settings.DOSE_ESCALATION_HOURS = 1, 3
    dose_at(T)
    assert alerts.doses_overdue_enqueue(now=T + dt.timedelta(hours=1)) == 1
    assert Notification.objects.get().threshold == "1h"
