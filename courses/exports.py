"""A course (or a ward's doses) as iCalendar, and a course as FHIR R4 JSON."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from itertools import groupby

from icalendar import Calendar, Event

from courses.models import Course, Dose, DoseStatus
from courses.schedule import WEEKDAY_NAMES, Pattern
from courses.units import Mass

PRODID = "-//Infusion pharmacy//courses//EN"
UCUM = "http://unitsofmeasure.org"
MRN_SYSTEM = "urn:infusion-pharmacy:mrn"
_FHIR_STATUS = {
    "active": "active",
    "on_hold": "on-hold",
    "completed": "completed",
    "cancelled": "stopped",
}
_UCUM_CODE = {"mg": "mg", "ug": "ug", "ng": "ng"}


def _duration(dose: Dose) -> dt.timedelta:
    return dt.timedelta(minutes=dose.infusion_minutes or 30)


def _event(dose: Dose, course: Course) -> Event:
    event = Event()
    amount = Mass(dose.amount, dose.amount_unit).best_unit()
    event.add("uid", f"dose-{dose.id}@infusion-pharmacy")
    event.add("dtstamp", dose.course.updated_at)
    event.add("dtstart", dose.scheduled_at)
    event.add("dtend", dose.scheduled_at + _duration(dose))
    # Minimal identifiers: a calendar may be synced to phones; the MRN is what the ward needs.
    event.add(
        "summary",
        f"{course.protocol.product.name} {amount} – MRN {course.patient.mrn} (dose {dose.sequence})",
    )
    event.add("location", course.patient.ward.name)
    event.add("status", "CANCELLED" if dose.status == DoseStatus.CANCELLED else "CONFIRMED")
    event.add("description", f"{course.protocol.indication}. Status: {dose.get_status_display()}.")
    return event


def doses_ical(doses, *, name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for dose in doses:
        calendar.add_component(_event(dose, dose.course))
    return calendar.to_ical()


def course_ical(course: Course) -> bytes:
    doses = [d for d in course.doses.all() if d.status != DoseStatus.CANCELLED]
    for dose in doses:
        dose.course = course
    return doses_ical(doses, name=f"Course {course.pk} – MRN {course.patient.mrn}")


def _quantity(amount: Decimal, unit: str) -> dict:
    return {
        "value": float(amount.normalize()),
        "unit": unit.replace("ug", "µg"),
        "system": UCUM,
        "code": _UCUM_CODE[unit],
    }


def _repeat(pattern: Pattern, doses: list[Dose], course: Course) -> dict:
    repeat: dict = {
        "count": len(doses),
        "timeOfDay": [course.administration_time.strftime("%H:%M:%S")],
    }
    if doses:
        repeat["boundsPeriod"] = {
            "start": doses[0].scheduled_at.isoformat(),
            "end": doses[-1].scheduled_at.isoformat(),
        }
    if pattern.kind in {"daily", "cycles"}:
        repeat |= {"frequency": 1, "period": 1, "periodUnit": "d"}
    elif pattern.kind == "every_n_days":
        repeat |= {"frequency": 1, "period": pattern.n, "periodUnit": "d"}
    elif pattern.kind == "per_week":
        repeat |= {"frequency": pattern.k, "period": 1, "periodUnit": "wk"}
        repeat["dayOfWeek"] = [WEEKDAY_NAMES[d].lower() for d in pattern.weekdays]
    elif pattern.kind == "weekly":
        repeat |= {"frequency": 1, "period": 1, "periodUnit": "wk"}
    return repeat


def course_fhir(course: Course) -> dict:
    """A FHIR R4 Bundle: the MedicationRequest and one MedicationAdministration per record."""
    protocol = course.protocol
    doses = [d for d in course.doses.all() if d.status != DoseStatus.CANCELLED]
    subject = {
        "identifier": {"system": MRN_SYSTEM, "value": course.patient.mrn},
        "display": course.patient.name,
    }
    medication = {"text": f"{protocol.product.name} ({protocol.product.active_substance})"}
    instructions = []
    for phase in course.phases.all():
        pattern = Pattern.from_dict(phase.pattern)
        phase_doses = [d for d in doses if d.phase_id == phase.id]
        # One instruction per run of equal doses: an age band changing on a birthday, or a
        # reduction after a reaction, starts a new dose from that date on.
        runs = [
            list(run) for _, run in groupby(phase_doses, key=lambda d: (d.amount, d.amount_unit))
        ]
        for run in runs or [[]]:
            amount, unit = (
                (run[0].amount, run[0].amount_unit)
                if run
                else (
                    phase.dose_amount,
                    phase.amount_unit,
                )
            )
            instructions.append(
                {
                    "sequence": len(instructions) + 1,
                    "text": f"{Mass(amount, unit).best_unit()} {pattern.describe()}, "
                    f"{len(run)} doses",
                    "timing": {
                        "event": [d.scheduled_at.isoformat() for d in run],
                        "repeat": _repeat(pattern, run, course),
                    },
                    "route": {"text": protocol.get_route_display()},
                    "doseAndRate": [{"doseQuantity": _quantity(amount, unit)}],
                }
            )
    request_id = f"course-{course.pk}"
    request = {
        "resourceType": "MedicationRequest",
        "id": request_id,
        "status": _FHIR_STATUS[course.status],
        "intent": "order",
        "medicationCodeableConcept": medication,
        "subject": subject,
        "authoredOn": course.prescribed_at.isoformat(),
        "requester": {"display": str(course.prescribed_by)},
        "reasonCode": [{"text": protocol.indication}],
        "note": [{"text": f"Override of label hard stops: {course.override_reason}"}]
        if course.override_reason
        else [],
        "dosageInstruction": instructions,
    }
    entries = [{"resource": request}]
    for dose in doses:
        if dose.status in {DoseStatus.SCHEDULED, DoseStatus.CANCELLED}:
            continue
        given = dose.status == DoseStatus.GIVEN
        administration = {
            "resourceType": "MedicationAdministration",
            "id": f"dose-{dose.pk}",
            "status": "completed" if given else "not-done",
            "medicationCodeableConcept": medication,
            "subject": subject,
            "request": {"reference": f"MedicationRequest/{request_id}"},
            "effectiveDateTime": (dose.given_at or dose.scheduled_at).isoformat(),
        }
        if given:
            administration["dosage"] = {
                "dose": _quantity(dose.given_amount, dose.amount_unit),
                "route": {"text": protocol.get_route_display()},
            }
            if dose.lot_number:
                administration["note"] = [{"text": f"Lot {dose.lot_number}"}]
        else:
            administration["statusReason"] = [{"text": f"{dose.status}: {dose.reason}"}]
        entries.append({"resource": administration})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
