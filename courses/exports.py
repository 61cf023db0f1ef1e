"""A course (or a ward's doses, or a user's feed) as iCalendar, and a course as FHIR R4 JSON.

Calendars subscribe to these feeds and keep a copy of each event, so every event says when it
changed: UID is stable per dose and deployment (ICAL_UID_DOMAIN), SEQUENCE is the dose's
revision, LAST-MODIFIED and DTSTAMP its last change; a dose that will not be given (held,
refused, missed, cancelled, or on a course on hold) stays in the feed as STATUS:CANCELLED so the
subscribed copy is cancelled rather than left behind.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import quote

from django.conf import settings
from icalendar import Calendar, Event

from courses import fhir, selectors
from courses.models import Course, CourseStatus, Dose, DoseStatus
from courses.schedule import local_date
from courses.units import Mass

_QUOTABLE = re.compile(r"[\x20-\x7e]")  # printable ASCII (RFC 9110 quoted-string, qdtext)


def download_disposition(filename: str, *, inline: bool = False) -> str:
    """A Content-Disposition value naming a download (RFC 6266), one line of ASCII whatever the
    name: `filename="…"` and, for a name beyond ASCII (a Ukrainian ward or feed label),
    `filename*=UTF-8''…` (RFC 8187/5987) with the ASCII `filename` as the fallback for clients
    that ignore it. Django would send such a value RFC 2047-encoded, which browsers and calendar
    apps do not decode; nothing here is ever folded."""
    kind = "inline" if inline else "attachment"
    plain = [bool(_QUOTABLE.fullmatch(char)) and char not in '"\\' for char in filename]
    if all(plain):
        return f'{kind}; filename="{filename}"'
    fallback = re.sub(
        r"_+", "_", "".join(char if ok else "_" for char, ok in zip(filename, plain, strict=True))
    )
    if not re.search(r"[A-Za-z]", fallback.rsplit(".", 1)[0]):
        # Nothing readable left (an all-Cyrillic name): keep the extension at least.
        fallback = "download" + (f".{fallback.rsplit('.', 1)[1]}" if "." in fallback else "")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


PRODID = "-//Infusion pharmacy//courses//EN"
# An injection (no drip, no infusion time) occupies the nurse this long in the calendar.
INJECTION_MINUTES = 15
NOT_GIVEN = (DoseStatus.HELD, DoseStatus.REFUSED, DoseStatus.MISSED, DoseStatus.CANCELLED)


def dose_minutes(dose: Dose, *, presentations=None, memo: dict | None = None) -> int:
    """How long the dose takes: the infusion time; else the drip's volume at its rate (a giving
    set delivers fhir.DROPS_PER_ML drops per ml); else an injection's few minutes.
    `presentations` and `memo`: read and kept once for a whole feed (see dose_preparation)."""
    minutes = dose.given_infusion_minutes or dose.infusion_minutes
    if minutes:
        return minutes
    rate = dose.given_drip_rate_drops_per_min or dose.drip_rate_drops_per_min
    preparation = selectors.dose_preparation(dose, presentations=presentations, memo=memo)
    volume = preparation.get("dose_volume_ml") or preparation.get("diluent_volume_ml")
    if rate and volume:
        return max(1, round(Decimal(str(volume)) * fhir.DROPS_PER_ML / rate))
    return INJECTION_MINUTES


def _cancelled(dose: Dose) -> bool:
    if dose.status in NOT_GIVEN:
        return True
    course = dose.course
    return (
        dose.status == DoseStatus.SCHEDULED
        and course.status == CourseStatus.ON_HOLD
        and course.held_since is not None
        and local_date(dose.scheduled_at, course.time_zone) >= course.held_since
    )


def _event(dose: Dose, course: Course, *, presentations: dict, memo: dict) -> Event:
    event = Event()
    amount = Mass(dose.amount, dose.amount_unit).best_unit()
    event.add("uid", f"dose-{dose.id}@{settings.ICAL_UID_DOMAIN}")
    event.add("dtstamp", dose.updated_at)
    event.add("last-modified", dose.updated_at)
    event.add("sequence", dose.revision)
    start = dose.given_at or dose.scheduled_at
    event.add("dtstart", start)
    minutes = dose_minutes(dose, presentations=presentations, memo=memo)
    event.add("dtend", start + dt.timedelta(minutes=minutes))
    # Minimal identifiers: a calendar may be synced to phones; the MRN is what the ward needs.
    event.add(
        "summary",
        f"{course.protocol.product.name} {amount} – MRN {course.patient.mrn} (dose {dose.sequence})",
    )
    event.add("location", course.patient.ward.name)
    event.add("status", "CANCELLED" if _cancelled(dose) else "CONFIRMED")
    status = "On hold" if _cancelled(dose) and dose.status == "scheduled" else None
    event.add(
        "description",
        f"{course.protocol.indication}. Status: {status or dose.get_status_display()}."
        + (f" {dose.reason}" if dose.reason and dose.status in NOT_GIVEN else ""),
    )
    event.add("url", f"{settings.SITE_URL}/courses/{course.pk}/")
    return event


def doses_ical(doses, *, name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    # The presentations once per feed, not once per dose (a ward's feed of 2,000 doses read
    # them 2,000 times: 1,595 queries and 6 s), and doses with the same inputs share their
    # preparation.
    presentations, memo = selectors.presentations_by_id(), {}
    for dose in doses:
        calendar.add_component(_event(dose, dose.course, presentations=presentations, memo=memo))
    return calendar.to_ical()


def course_ical(course: Course) -> bytes:
    # Cancelled doses stay (as CANCELLED): a subscribed calendar must drop its copy of them.
    doses = list(course.doses.all())
    for dose in doses:
        dose.course = course
    return doses_ical(doses, name=f"Course {course.pk} – MRN {course.patient.mrn}")


def course_fhir(course: Course) -> dict:
    """The course as a FHIR R4 Bundle (courses/fhir.py)."""
    return fhir.course_bundle(course)
