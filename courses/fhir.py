"""FHIR R4 views of patients, courses and doses, built and validated with `fhir.resources` (R4B,
whose Patient, Medication, MedicationRequest, MedicationAdministration and Bundle are R4's).

Ids are the database ids, so `MedicationRequest/12` is course 12 and what the read endpoints
(`/api/v1/fhir/…`) answer for it; every `fullUrl` is absolute, from SITE_URL.

Timing: a client that expands `dosageInstruction.timing` must get the planned dates. A phase's
`timing.repeat` is therefore only written when expanding it (`timing_expand`, rrule) gives exactly
the planned doses; a cycle course gets one dosage instruction per cycle (5 daily doses bounded by
the cycle's `boundsPeriod`), never "daily, count 11"; anything else (anchored dates, a course
re-planned around a missed dose) is sent as the explicit `timing.event` list alone.

Codes: routes carry their SNOMED CT code beside the text. The substances (ceruloplasmin,
interleukin-1β) are sent as text only: no code of a terminology was verified for them here, and a
wrong code is worse than none.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, WEEKLY, rrule
from django.conf import settings
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.patient import Patient as FhirPatient

from courses import stock
from courses.models import Course, Dose, DoseStatus, Patient
from courses.schedule import Pattern
from courses.units import Mass

UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
# SNOMED CT route of administration codes (the 284009009 "Route of administration value" set).
ROUTE_CODES = {
    "iv_drip": ("47625008", "Intravenous route"),
    "iv_infusion": ("47625008", "Intravenous route"),
    "sc": ("34206005", "Subcutaneous route"),
    "im": ("78421000", "Intramuscular route"),
}
# A standard giving set delivers 20 drops per ml (the drip rates in the leaflets assume it).
DROPS_PER_ML = 20
_REQUEST_STATUS = {
    "active": "active",
    "on_hold": "on-hold",
    "completed": "completed",
    "cancelled": "stopped",
}
_GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}
_UCUM_MASS = {"mg": "mg", "ug": "ug", "ng": "ng"}
_RRULE_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def resource_url(resource_type: str, pk) -> str:
    return f"{settings.SITE_URL}/api/v1/fhir/{resource_type}/{pk}"


def _json(resource) -> dict:
    # Through the library's own JSON encoder: dates, decimals and the FHIR field order.
    return json.loads(resource.model_dump_json(exclude_none=True))


def _quantity(amount: Decimal, unit: str) -> dict:
    mass = Mass(amount, unit).best_unit()
    return {
        "value": mass.amount.normalize(),
        "unit": mass.unit.replace("ug", "µg"),
        "system": UCUM,
        "code": _UCUM_MASS[mass.unit],
    }


def _rate(drops_per_min: int | None) -> dict | None:
    if not drops_per_min:
        return None
    return {"value": drops_per_min, "unit": "drops/min", "system": UCUM, "code": "{drop}/min"}


def _route(route: str, label: str) -> dict:
    code = ROUTE_CODES.get(route)
    concept = {"text": label}
    if code:
        concept["coding"] = [{"system": SNOMED, "code": code[0], "display": code[1]}]
    return concept


def _medication_concept(course: Course) -> dict:
    product = course.protocol.product
    return {"text": f"{product.name} ({product.active_substance})"}


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat()


# --- Patient --------------------------------------------------------------------------------


def patient_resource(patient: Patient) -> dict:
    return _json(
        FhirPatient(
            id=str(patient.pk),
            identifier=[
                {
                    "use": "usual",
                    "type": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                "code": "MR",
                            }
                        ],
                        "text": "MRN",
                    },
                    "system": settings.FHIR_PATIENT_IDENTIFIER_SYSTEM,
                    "value": patient.mrn,
                }
            ],
            name=[{"text": patient.name}],
            gender=_GENDER.get(patient.sex, "unknown"),
            birthDate=patient.birth_date,
        )
    )


def _subject(patient: Patient) -> dict:
    return {"reference": f"Patient/{patient.pk}", "display": patient.name}


# --- Timing ----------------------------------------------------------------------------------


def timing_expand(timing: dict, zone: str) -> list[dt.datetime]:
    """The moments a client gets by expanding a Timing we write (event, or the repeat subset we
    use: boundsPeriod.start + count + frequency 1 per `period` d/wk, timeOfDay, dayOfWeek)."""
    if "repeat" not in timing:
        return sorted(dt.datetime.fromisoformat(moment) for moment in timing.get("event", []))
    repeat = timing["repeat"]
    tz = ZoneInfo(zone)
    start = dt.datetime.fromisoformat(repeat["boundsPeriod"]["start"]).astimezone(tz)
    at = dt.time.fromisoformat(repeat["timeOfDay"][0])
    first = dt.datetime.combine(start.date(), at)
    if repeat["periodUnit"] == "d":
        rule = rrule(DAILY, interval=repeat["period"], count=repeat["count"], dtstart=first)
    elif "dayOfWeek" in repeat:
        days = [_RRULE_DAYS.index(day) for day in repeat["dayOfWeek"]]
        rule = rrule(WEEKLY, byweekday=days, count=repeat["count"], dtstart=first)
    else:
        rule = rrule(WEEKLY, interval=repeat["period"], count=repeat["count"], dtstart=first)
    return [moment.replace(tzinfo=tz) for moment in rule]


def _repeat(kind: str, pattern: Pattern, doses: list[Dose], course: Course) -> dict:
    tz = ZoneInfo(course.time_zone)
    repeat = {
        "boundsPeriod": {
            "start": _iso(doses[0].scheduled_at.astimezone(tz)),
            "end": _iso(doses[-1].scheduled_at.astimezone(tz)),
        },
        "count": len(doses),
        "frequency": 1,
        "timeOfDay": [course.administration_time.strftime("%H:%M:%S")],
    }
    if kind in ("daily", "cycles"):
        repeat |= {"period": 1, "periodUnit": "d"}
    elif kind == "every_n_days":
        repeat |= {"period": pattern.n, "periodUnit": "d"}
    elif kind == "weekly":
        repeat |= {"period": 1, "periodUnit": "wk"}
    elif kind == "per_week":
        weekdays = sorted({d.scheduled_at.astimezone(tz).weekday() for d in doses})
        repeat |= {
            "frequency": len(weekdays),
            "period": 1,
            "periodUnit": "wk",
            "dayOfWeek": [_RRULE_DAYS[day] for day in weekdays],
        }
    if course.infusion_minutes:
        repeat |= {"duration": course.infusion_minutes, "durationUnit": "min"}
    return repeat


def _timing(kind: str, pattern: Pattern, doses: list[Dose], course: Course) -> dict:
    tz = ZoneInfo(course.time_zone)
    events = [_iso(d.scheduled_at.astimezone(tz)) for d in doses]
    timing = {"event": events}
    if kind in {"daily", "cycles", "every_n_days", "weekly", "per_week"}:
        candidate = {"event": events, "repeat": _repeat(kind, pattern, doses, course)}
        planned = [d.scheduled_at for d in doses]
        if timing_expand(candidate, course.time_zone) == planned:
            timing = candidate
    return timing


def _runs(doses: list[Dose], zone: str) -> list[list[Dose]]:
    """Doses split where a day is skipped: the cycles of a cycle pattern."""
    tz = ZoneInfo(zone)
    runs: list[list[Dose]] = []
    for previous, dose in pairwise([None, *doses]):
        gap = (
            None
            if previous is None
            else (
                dose.scheduled_at.astimezone(tz).date()
                - previous.scheduled_at.astimezone(tz).date()
            ).days
        )
        if gap == 1:
            runs[-1].append(dose)
        else:
            runs.append([dose])
    return runs


def _planned_mass(dose: Dose) -> Mass:
    return Mass(dose.amount, dose.amount_unit)


def _same_amount_runs(doses: list[Dose]) -> list[list[Dose]]:
    """Doses split where the planned amount changes: an age band reached mid-course (leaflet 001:
    50 mg under one year, 100 mg from the first birthday), or a dose lowered after a reaction."""
    runs: list[list[Dose]] = []
    for previous, dose in pairwise([None, *doses]):
        if previous is not None and _planned_mass(previous) == _planned_mass(dose):
            runs[-1].append(dose)
        else:
            runs.append([dose])
    return runs


def _instructions(course: Course, doses: list[Dose]) -> list[dict]:
    protocol = course.protocol
    route = _route(protocol.route, protocol.get_route_display())
    instructions = []
    sequence = 0
    for phase in course.phases.all():
        pattern = Pattern.from_dict(phase.pattern)
        phase_doses = [d for d in doses if d.phase_id == phase.id]
        if not phase_doses:
            continue
        # A cycle is a separate stretch of daily doses: one instruction each, so that the
        # 14 dose-free days between cycles survive any expansion.
        groups = _runs(phase_doses, course.time_zone) if pattern.kind == "cycles" else [phase_doses]
        for number, group in enumerate(groups, start=1):
            label = f"cycle {number} of {len(groups)}: " if pattern.kind == "cycles" else ""
            # Each planned amount its own instruction, with its own timing (bounds, count,
            # events): a phase's one dose would tell the client the wrong amount for some dates.
            for run in _same_amount_runs(group):
                sequence += 1
                amount = _planned_mass(run[0])
                dose_and_rate = {"doseQuantity": _quantity(amount.amount, amount.unit)}
                if course.drip_rate_drops_per_min:
                    dose_and_rate["rateQuantity"] = _rate(course.drip_rate_drops_per_min)
                instructions.append(
                    {
                        "sequence": sequence,
                        "text": f"{amount.best_unit()} {label}{pattern.describe()}, "
                        f"{len(run)} dose{'' if len(run) == 1 else 's'}",
                        "timing": _timing(pattern.kind, pattern, run, course),
                        "route": route,
                        "doseAndRate": [dose_and_rate],
                    }
                )
    return instructions


def medication_request_resource(course: Course) -> dict:
    doses = [d for d in course.doses.all() if d.status != DoseStatus.CANCELLED]
    request = {
        "id": str(course.pk),
        "status": _REQUEST_STATUS[course.status],
        "intent": "order",
        "medicationCodeableConcept": _medication_concept(course),
        "subject": _subject(course.patient),
        "authoredOn": course.prescribed_at,
        "requester": {"display": str(course.prescribed_by)},
        "reasonCode": [{"text": course.protocol.indication}],
        "dosageInstruction": _instructions(course, doses),
    }
    if course.override_reason:
        request["note"] = [{"text": f"Override of label hard stops: {course.override_reason}"}]
    if course.status_reason and course.status in ("on_hold", "cancelled"):
        request["statusReason"] = {"text": course.status_reason}
    return _json(MedicationRequest(**request))


# --- Administrations --------------------------------------------------------------------------


def dispensed_lots(doses: list[Dose]) -> dict[int, list[dict]]:
    """The lots each dose was dispensed from (scanned or first-expiry-first-out), from the ledger."""
    ids = [d.pk for d in doses if d.status == DoseStatus.GIVEN]
    return stock.dispensed_lots(dose_ids=ids) if ids else {}


def medication_administration_resource(dose: Dose, lots: list[dict] | None = None) -> dict:
    course = dose.course
    protocol = course.protocol
    given = dose.status == DoseStatus.GIVEN
    lots = lots or []
    if not lots and dose.lot_number:
        lots = [{"lot_number": dose.lot_number, "expiry_date": None}]
    administration: dict = {
        "id": str(dose.pk),
        "status": "completed" if given else "not-done",
        "subject": _subject(course.patient),
        "request": {"reference": f"MedicationRequest/{course.pk}"},
    }
    if lots:
        # Medication.batch holds one lot; a dose drawn from two lots names the rest in a note.
        batch = {"lotNumber": lots[0]["lot_number"]}
        if lots[0].get("expiry_date"):
            batch["expirationDate"] = lots[0]["expiry_date"]
        administration["contained"] = [
            {
                "resourceType": "Medication",
                "id": "med",
                "code": _medication_concept(course),
                "batch": batch,
            }
        ]
        administration["medicationReference"] = {"reference": "#med"}
        if len(lots) > 1:
            names = ", ".join(lot["lot_number"] for lot in lots)
            administration["note"] = [{"text": f"Drawn from lots {names}."}]
    else:
        administration["medicationCodeableConcept"] = _medication_concept(course)
    moment = dose.given_at if given else dose.scheduled_at
    minutes = dose.given_infusion_minutes if given else None
    if minutes:
        administration["effectivePeriod"] = {
            "start": moment,
            "end": moment + dt.timedelta(minutes=minutes),
        }
    else:
        administration["effectiveDateTime"] = moment
    if given:
        dosage = {
            "dose": _quantity(dose.given_amount, dose.amount_unit),
            "route": _route(protocol.route, protocol.get_route_display()),
        }
        rate = _rate(dose.given_drip_rate_drops_per_min)
        if rate:
            dosage["rateQuantity"] = rate
        administration["dosage"] = dosage
        if dose.reaction:
            administration.setdefault("note", []).append({"text": f"Reaction: {dose.reaction}"})
    else:
        administration["statusReason"] = [
            {"text": f"{dose.get_status_display()}: {dose.reason}".rstrip(": ")}
        ]
    return _json(MedicationAdministration(**administration))


def recorded(doses) -> list[Dose]:
    """The doses that have a MedicationAdministration: given, held, refused or missed."""
    return [d for d in doses if d.status not in (DoseStatus.SCHEDULED, DoseStatus.CANCELLED)]


# --- Bundles --------------------------------------------------------------------------------


def bundle(resources: list[tuple[str, dict]], *, kind: str = "collection") -> dict:
    """A Bundle of (resourceType, resource json) pairs, with id, timestamp and fullUrls."""
    now = timezone.now()
    entries = []
    for resource_type, resource in resources:
        entry = {
            "fullUrl": resource_url(resource_type, resource["id"]),
            "resource": resource,
        }
        if kind == "searchset":
            entry["search"] = {"mode": "match"}
        entries.append(entry)
    data = {
        "id": f"{kind}-{now:%Y%m%d%H%M%S%f}",
        "type": kind,
        "timestamp": now,
        "entry": entries or None,
    }
    if kind == "searchset":
        data["total"] = len(entries)
    return _json(Bundle(**data))


def course_bundle(course: Course) -> dict:
    """The course as a collection: Patient, MedicationRequest, one MedicationAdministration per
    recorded dose (with the lot it was dispensed from)."""
    doses = list(course.doses.all())
    for dose in doses:
        dose.course = course
    lots = dispensed_lots(doses)
    resources = [
        ("Patient", patient_resource(course.patient)),
        ("MedicationRequest", medication_request_resource(course)),
    ]
    resources += [
        ("MedicationAdministration", medication_administration_resource(d, lots.get(d.pk)))
        for d in recorded(doses)
    ]
    return bundle(resources)


def requests_searchset(courses) -> dict:
    return bundle(
        [("MedicationRequest", medication_request_resource(c)) for c in courses], kind="searchset"
    )


def administrations_searchset(doses) -> dict:
    doses = recorded(doses)
    lots = dispensed_lots(doses)
    by_dose = defaultdict(list, lots)
    return bundle(
        [
            ("MedicationAdministration", medication_administration_resource(d, by_dose[d.pk]))
            for d in doses
        ],
        kind="searchset",
    )
