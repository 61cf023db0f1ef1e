"""Writes of the courses app. Every function runs in one transaction."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from config.roles import Role, has_role
from courses import checks, formulary, selectors, stock
from courses.dosing import DoseError, Strength, age_in_months, dose_amount, vials_for
from courses.models import (
    NOT_GIVEN_STATUSES,
    RECORDED_STATUSES,
    WEIGHT_MAX_KG,
    WEIGHT_MIN_KG,
    Course,
    CoursePhase,
    CourseStatus,
    Dose,
    DoseBasis,
    DoseStatus,
    Patient,
    PatientWeight,
    Protocol,
    ProtocolPhase,
)
from courses.schedule import (
    Pattern,
    PhasePlan,
    ScheduleError,
    Slot,
    anchored_dates,
    course_plan,
    course_replan,
    local_datetime,
    phases_resolved,
)
from courses.units import Mass
from inventory.models import Presentation, Product


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0

    def __str__(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, {self.unchanged} unchanged"
        )


def _coerce(model, name: str, value):
    """Turn the formulary's strings into the model field's Python type (Decimal for decimals)."""
    internal = model._meta.get_field(name).get_internal_type()
    if internal == "DecimalField" and value is not None:
        return Decimal(str(value))
    return value


def _upsert(model, lookup: dict, values: dict, report: LoadReport, label: str):
    """Create the row, or update in place only the fields whose value changed."""
    values = {name: _coerce(model, name, value) for name, value in values.items()}
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model.objects.create(**lookup, **values)
        report.created.append(label)
        return obj
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save(update_fields=[*changed, *(["updated_at"] if hasattr(obj, "updated_at") else [])])
        report.updated.append(f"{label} ({', '.join(changed)})")
    else:
        report.unchanged += 1
    return obj


@transaction.atomic
def formulary_load(*, products=None, presentations=None, protocols=None) -> LoadReport:
    """Load the leaflet formulary; idempotent (a second run changes nothing)."""
    products = formulary.PRODUCTS if products is None else products
    presentations = formulary.PRESENTATIONS if presentations is None else presentations
    protocols = formulary.PROTOCOLS if protocols is None else protocols
    report = LoadReport()

    by_code = {}
    for entry in products:
        values = {k: v for k, v in entry.items() if k != "code"}
        by_code[entry["code"]] = _upsert(
            Product, {"code": entry["code"]}, values, report, f"product {entry['code']}"
        )
    for entry in presentations:
        values = {k: v for k, v in entry.items() if k not in {"code", "product"}}
        product = by_code.get(entry["product"]) or Product.objects.get(code=entry["product"])
        _upsert(
            Presentation,
            {"code": entry["code"]},
            {**values, "product": product},
            report,
            f"presentation {entry['code']}",
        )
    for entry in protocols:
        values = {k: v for k, v in entry.items() if k not in {"code", "product", "phases"}}
        product = by_code.get(entry["product"]) or Product.objects.get(code=entry["product"])
        protocol = _upsert(
            Protocol,
            {"code": entry["code"]},
            {**values, "product": product},
            report,
            f"protocol {entry['code']}",
        )
        for order, phase in enumerate(entry["phases"], start=1):
            _upsert(
                ProtocolPhase,
                {"protocol": protocol, "order": order},
                phase,
                report,
                f"phase {entry['code']}#{order}",
            )
        stale = protocol.phases.filter(order__gt=len(entry["phases"]))
        for phase in stale:
            report.updated.append(f"phase {entry['code']}#{phase.order} removed")
        stale.delete()
    return report


@transaction.atomic
def protocol_save(
    *, protocol: Protocol | None, fields: dict, phases: list[dict] | None
) -> Protocol:
    """Create or update a protocol; `phases`, when given, replaces its phases in order.

    Phases are updated in place by order: prescribed courses point at their protocol phase, so a
    phase that courses use cannot be removed (shorten the protocol by a new one instead).
    """
    if protocol is None:
        protocol = Protocol(**fields)
    else:
        for name, value in fields.items():
            setattr(protocol, name, value)
    protocol.full_clean()
    protocol.save()
    if phases is not None:
        _protocol_phases_replace(protocol, phases)
    return protocol


def _protocol_phases_replace(protocol: Protocol, phases: list[dict]) -> None:
    existing = {phase.order: phase for phase in protocol.phases.all()}
    surplus = [phase for order, phase in existing.items() if order > len(phases)]
    used = sorted(
        set(
            CoursePhase.objects.filter(protocol_phase__in=surplus).values_list(
                "protocol_phase__order", flat=True
            )
        )
    )
    if used:
        raise ValidationError(
            {
                "phases": f"Phase(s) {', '.join(map(str, used))} are used by prescribed courses "
                "and cannot be removed."
            }
        )
    ProtocolPhase.objects.filter(pk__in=[phase.pk for phase in surplus]).delete()
    for order, values in enumerate(phases, start=1):
        phase = existing.get(order) or ProtocolPhase(protocol=protocol, order=order)
        for name, value in values.items():
            setattr(phase, name, value)
        try:
            phase.full_clean()
        except ValidationError as error:
            raise ValidationError(_phase_errors(error, f"phases.{order - 1}")) from None
        phase.save()


# The phase table's check constraints, as the field and reason a pharmacist can act on.
_PHASE_CONSTRAINTS = {
    "phase_count_min_1": ("count_min", "A phase has at least 1 injection."),
    "phase_count_range_ordered": ("count_max", "Must not be below count_min."),
    "phase_dose_range_ordered": ("dose_max", "Must not be below dose_min."),
}


def _phase_errors(error: ValidationError, key: str) -> dict:
    errors: dict = {}
    for name, texts in error.message_dict.items():
        for text in texts:
            field, text = next(
                (rule for constraint, rule in _PHASE_CONSTRAINTS.items() if constraint in text),
                (None if name == "__all__" else name, text),
            )
            errors.setdefault(f"{key}.{field}" if field else key, []).append(text)
    return errors


# --- Patients ---------------------------------------------------------------------------------

PATIENT_FIELDS = (
    "mrn",
    "name",
    "birth_date",
    "sex",
    "ward",
    "pregnant",
    "pregnancy_trimester",
    "lactating",
    "protein_drug_allergy",
    "septic_shock",
    "severe_fever",
    "high_dose_corticosteroids",
    "sodium_controlled_diet",
    "wbc_10e9_per_l",
)


def _full_clean(obj) -> None:
    """Model validation, with the constraint names turned into the field they are about."""
    try:
        obj.full_clean()
    except ValidationError as error:
        messages = error.message_dict
        if "__all__" in messages and "pregnancy_trimester" not in messages:
            text = " ".join(messages["__all__"])
            if "pregnancy" in text:
                messages = {
                    **messages,
                    "pregnancy_trimester": ["Give trimester 1–3 when pregnant."],
                }
                messages.pop("__all__")
        raise ValidationError(messages) from None


@transaction.atomic
def patient_save(
    *,
    patient: Patient | None = None,
    fields: dict,
    weight_kg: Decimal | None = None,
    measured_on: dt.date | None = None,
    user=None,
    today: dt.date | None = None,
) -> Patient:
    """Create or update a patient; a weight given with it is recorded on `measured_on`."""
    patient = patient or Patient()
    for name, value in fields.items():
        if name not in PATIENT_FIELDS:
            raise ValidationError({name: "Unknown patient field."})
        setattr(patient, name, value)
    if not patient.pregnant:
        patient.pregnancy_trimester = None
    if patient.birth_date and patient.birth_date > (today or timezone.localdate()):
        raise ValidationError({"birth_date": "A birth date cannot be in the future."})
    _full_clean(patient)
    patient.save()
    if weight_kg is not None:
        patient_weight_record(
            patient=patient, weight_kg=weight_kg, measured_on=measured_on, user=user
        )
    return patient


@transaction.atomic
def patient_weight_record(
    *, patient: Patient, weight_kg: Decimal, measured_on: dt.date | None, user=None
) -> PatientWeight:
    """Record the day's weight (a second weighing the same day replaces the first)."""
    measured_on = measured_on or timezone.localdate()
    if measured_on > timezone.localdate():
        raise ValidationError({"measured_on": "A weight cannot be measured in the future."})
    candidate = PatientWeight(
        patient=patient, measured_on=measured_on, weight_kg=weight_kg, recorded_by=user
    )
    try:
        # The day's row may exist: the one-a-day constraint is kept by update_or_create below.
        candidate.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise ValidationError(
            {"weight_kg": f"Must be {WEIGHT_MIN_KG}–{WEIGHT_MAX_KG} kg."}
            if "weight_kg" in error.message_dict or "__all__" in error.message_dict
            else error.message_dict
        ) from None
    # Two nurses weighing the same patient the same day: the row is locked, or, when both
    # insert it at once, the loser's insert fails in a savepoint and it updates the winner's.
    weight, _ = PatientWeight.objects.update_or_create(
        patient=patient,
        measured_on=measured_on,
        defaults={"weight_kg": candidate.weight_kg, "recorded_by": user},
    )
    return weight


# --- Prescribing ------------------------------------------------------------------------------

DEFAULT_ADMINISTRATION_TIME = dt.time(10, 0)
# A weight older than this is flagged: per-kg doses follow the patient, not an old chart entry.
WEIGHT_STALE_DAYS = 30


class OverrideRefused(ValidationError):
    pass


@dataclass
class _PhaseDraft:
    protocol_phase: ProtocolPhase
    pattern: Pattern
    pattern_allowed: bool
    count: int | None
    cycles: int | None
    dose_value: Decimal | None
    amount: Mass | None = None
    days: list[dt.date] = field(default_factory=list)


def _choose_pattern(phase: ProtocolPhase, choice: dict, key: str) -> tuple[Pattern, bool]:
    allowed = [Pattern.from_dict(spec) for spec in phase.patterns]
    # Where the label offers a choice ("daily or every other day") the first it names is used
    # unless the prescriber picks another.
    spec = choice.get("pattern") or allowed[0].to_dict()
    if choice.get("weekdays") is not None:
        spec = {**spec, "weekdays": choice["weekdays"]}
    try:
        pattern = Pattern.from_dict(spec)
    except ScheduleError as error:
        raise ValidationError({f"{key}.{error.field}": error.message}) from None
    return pattern, any(option.allows(pattern) for option in allowed)


def _choose_count(phase: ProtocolPhase, pattern: Pattern, choice: dict, key: str):
    """(count, cycles): cycles give count = on_days × cycles; anchors decide their own count."""
    count, cycles = choice.get("count"), choice.get("cycles")
    if pattern.anchored:
        if count is not None:
            raise ValidationError({f"{key}.count": "Set by the anchor dates; leave it out."})
        return None, None
    if pattern.kind == "cycles":
        cycles = cycles if cycles is not None else phase.cycles_min or 1
        return pattern.on_days * cycles, cycles
    if count is None:
        if phase.count_max != phase.count_min:
            span = f"{phase.count_min}–{phase.count_max}" if phase.count_max else "a number"
            raise ValidationError({f"{key}.count": f"Choose the number of injections ({span})."})
        count = phase.count_min
    return count, None


def _choose_dose(phase: ProtocolPhase, choice: dict, key: str) -> Decimal | None:
    value = choice.get("dose")
    if phase.dose_basis == DoseBasis.AGE_BAND:
        if value is not None:
            raise ValidationError({f"{key}.dose": "Children's doses come from the age band."})
        return None
    if value is None:
        if phase.dose_min != phase.dose_max:
            raise ValidationError(
                {
                    f"{key}.dose": f"Choose the dose ({phase.dose_min.normalize():f}–"
                    f"{phase.dose_max.normalize():f} {phase.dose_unit})."
                }
            )
        return phase.dose_min
    return Decimal(value)


def _drafts(protocol: Protocol, choices: list[dict]) -> list[_PhaseDraft]:
    phases = list(protocol.phases.order_by("order"))
    choices = list(choices or [])
    if len(choices) > len(phases):
        raise ValidationError({"phases": f"The protocol has {len(phases)} phase(s)."})
    choices += [{}] * (len(phases) - len(choices))
    drafts = []
    for index, (phase, choice) in enumerate(zip(phases, choices, strict=True)):
        key = f"phases.{index}"
        if not isinstance(choice, dict):
            raise ValidationError({key: "Each phase choice is an object."})
        pattern, allowed = _choose_pattern(phase, choice, key)
        count, cycles = _choose_count(phase, pattern, choice, key)
        dose_value = _choose_dose(phase, choice, key)
        drafts.append(_PhaseDraft(phase, pattern, allowed, count, cycles, dose_value))
    return drafts


def _anchor_values(protocol: Protocol, drafts: list[_PhaseDraft], raw: dict) -> dict:
    """Anchor dates parsed (ISO strings or dates), only those the chosen patterns use."""
    needed = {name for d in drafts for name in d.pattern.anchor_names}
    anchors: dict = {}
    for name in needed:
        value = (raw or {}).get(name)
        if value in (None, "", []):
            raise ValidationError({f"anchors.{name}": "This date is required for the protocol."})
        try:
            anchors[name] = (
                sorted(_as_date(v) for v in value) if isinstance(value, list) else _as_date(value)
            )
        except (TypeError, ValueError):
            raise ValidationError({f"anchors.{name}": "Dates are YYYY-MM-DD."}) from None
    return anchors


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _anchors_json(anchors: dict) -> dict:
    return {
        name: [d.isoformat() for d in value] if isinstance(value, list) else value.isoformat()
        for name, value in anchors.items()
    }


def _anchors_from_json(course: Course) -> dict:
    return {
        name: [_as_date(v) for v in value] if isinstance(value, list) else _as_date(value)
        for name, value in (course.anchors or {}).items()
    }


def _default_diluent(protocol: Protocol, patient: Patient) -> str:
    options = list(protocol.diluent_options)
    # Biocerulin "special instructions": with high-dose corticosteroids dissolve in 0.9% NaCl.
    if patient.high_dose_corticosteroids and "nacl_0_9" in options:
        return "nacl_0_9"
    return options[0] if options else ""


def _vial_plan(amount: Mass, presentations) -> tuple[list[dict], Decimal]:
    strengths = [Strength(p.id, Mass(p.strength, p.strength_unit), p.code) for p in presentations]
    plan = vials_for(amount, strengths)
    return plan.as_list(), plan.waste.to(amount.unit).amount


@dataclass
class CourseDraft:
    """A prescription planned and checked against its label, nothing saved (`course_check`)."""

    start_date: dt.date
    anchors: dict
    phases: list[_PhaseDraft]
    age_months: int
    weight: PatientWeight | None
    total: Mass
    diluent: str
    drip_rate_drops_per_min: int | None
    infusion_minutes: int | None
    hard_stops: list[checks.Finding]
    warnings: list[checks.Finding]


def course_check(
    *,
    patient: Patient,
    protocol: Protocol,
    on: dt.date,
    start_date: dt.date | None = None,
    phases: list[dict] | None = None,
    anchors: dict | None = None,
    diluent: str = "",
    drip_rate_drops_per_min: int | None = None,
    infusion_minutes: int | None = None,
) -> CourseDraft:
    """Plan a prescription and run the label's checks without writing anything.

    Raises ValidationError for input that cannot be planned (a missing count, anchor or weight);
    hard stops and warnings are returned, for the prescriber to see before saving.
    """
    drafts = _drafts(protocol, phases or [])
    anchor_dates = _anchor_values(protocol, drafts, anchors or {})
    engine_phases = [PhasePlan(d.pattern, d.count) for d in drafts]
    try:
        if start_date is None:
            first_anchored = [
                day
                for d in drafts
                if d.pattern.anchored
                for day in anchored_dates(d.pattern, anchor_dates)
            ]
            start_date = max(min(first_anchored), on) if first_anchored else on
        if start_date < on:
            raise ValidationError({"start_date": "A course cannot start in the past."})
        plan = course_plan(engine_phases, start=start_date, anchors=anchor_dates)
    except ScheduleError as error:
        raise ValidationError({error.field: error.message}) from None
    engine_phases = phases_resolved(engine_phases, plan)
    for draft, engine_phase, days in zip(drafts, engine_phases, plan, strict=True):
        draft.pattern, draft.days = engine_phase.pattern, days
        if draft.count is None:
            draft.count = len(days)
    if not any(plan):
        raise ValidationError({"anchors": "No dose falls on or after the start date."})

    if patient.birth_date > on:
        raise ValidationError({"patient": "The patient's birth date is in the future; correct it."})
    age = age_in_months(patient.birth_date, start_date)
    weight = None
    if any(d.protocol_phase.dose_basis == DoseBasis.PER_KG for d in drafts):
        weight = selectors.weight_on(patient, max(start_date, on))
        if weight is None:
            raise ValidationError({"weight_kg": "A per-kg dose needs the patient's weight."})
    for draft in drafts:
        phase = draft.protocol_phase
        try:
            draft.amount = dose_amount(
                basis=phase.dose_basis,
                unit=phase.dose_unit,
                value=draft.dose_value,
                weight_kg=weight.weight_kg if weight else None,
                age_months=age,
                bands=phase.age_bands,
            )
        except DoseError as error:
            if error.field != "patient":
                raise ValidationError({error.field: error.message}) from None
            draft.amount = None  # no age band: the age hard stop says why
    total = sum(
        (d.amount * d.count for d in drafts if d.amount is not None), Mass(Decimal(0), "mg")
    )

    diluent = diluent or _default_diluent(protocol, patient)
    drip_rate = drip_rate_drops_per_min or protocol.drip_rate_drops_per_min
    if infusion_minutes is None:
        infusion_minutes = protocol.infusion_minutes_min
    stops = checks.hard_stops(
        patient=patient,
        protocol=protocol,
        age_months=age,
        phases=[
            checks.PhaseChoice(
                order=d.protocol_phase.order,
                dose_value=d.dose_value,
                dose_min=d.protocol_phase.dose_min,
                dose_max=d.protocol_phase.dose_max,
                dose_unit=d.protocol_phase.dose_unit,
                count=d.count,
                count_min=d.protocol_phase.count_min,
                count_max=d.protocol_phase.count_max,
                cycles=d.cycles,
                cycles_min=d.protocol_phase.cycles_min,
                cycles_max=d.protocol_phase.cycles_max,
                pattern_allowed=d.pattern_allowed,
                pattern_label=d.pattern.describe(),
                amount=d.amount,
            )
            for d in drafts
        ],
        total=total,
        diluent=diluent,
        infusion_minutes=infusion_minutes if protocol.infusion_minutes_min else None,
        drip_rate=drip_rate if protocol.drip_rate_drops_per_min else None,
    )
    found_warnings = checks.warnings(patient=patient, protocol=protocol, diluent=diluent)
    if weight and (max(start_date, on) - weight.measured_on).days > WEIGHT_STALE_DAYS:
        found_warnings.append(
            checks.Finding(
                "weight_old",
                f"Dosed on a weight from {weight.measured_on} "
                f"({weight.weight_kg.normalize():f} kg); re-weigh if it may have changed.",
                "per-kg dosing",
            )
        )
    return CourseDraft(
        start_date=start_date,
        anchors=anchor_dates,
        phases=drafts,
        age_months=age,
        weight=weight,
        total=total,
        diluent=diluent,
        drip_rate_drops_per_min=drip_rate,
        infusion_minutes=infusion_minutes,
        hard_stops=stops,
        warnings=found_warnings,
    )


@transaction.atomic
def course_create(
    *,
    patient: Patient,
    protocol: Protocol,
    user,
    on: dt.date,
    start_date: dt.date | None = None,
    phases: list[dict] | None = None,
    anchors: dict | None = None,
    administration_time: dt.time | None = None,
    diluent: str = "",
    drip_rate_drops_per_min: int | None = None,
    infusion_minutes: int | None = None,
    override_reason: str = "",
    notes: str = "",
) -> Course:
    """Prescribe a course: plan every dose, check it against the label, store it.

    Hard stops (see courses/checks.py) raise a ValidationError listing every one of them under
    `hard_stops`, and nothing is created, unless a physician gives `override_reason`; the stops
    and the reason are then kept on the course. Warnings are kept on the course.
    """
    checked = course_check(
        patient=patient,
        protocol=protocol,
        on=on,
        start_date=start_date,
        phases=phases,
        anchors=anchors,
        diluent=diluent,
        drip_rate_drops_per_min=drip_rate_drops_per_min,
        infusion_minutes=infusion_minutes,
    )
    stops, drafts, weight = checked.hard_stops, checked.phases, checked.weight
    override_reason = (override_reason or "").strip()
    if stops:
        errors: dict = {"hard_stops": [str(s) for s in stops]}
        if override_reason and not has_role(user, Role.PHYSICIAN):
            errors["override_reason"] = "Only a physician can override a hard stop."
        if not override_reason or "override_reason" in errors:
            raise ValidationError(errors)
    if any(d.amount is None for d in drafts):
        raise ValidationError({"patient": "No dose band for the patient's age."})

    course = Course.objects.create(
        patient=patient,
        protocol=protocol,
        start_date=checked.start_date,
        anchors=_anchors_json(checked.anchors),
        administration_time=administration_time or DEFAULT_ADMINISTRATION_TIME,
        time_zone=settings.TIME_ZONE,
        diluent=checked.diluent,
        drip_rate_drops_per_min=checked.drip_rate_drops_per_min,
        infusion_minutes=checked.infusion_minutes,
        weight_kg=weight.weight_kg if weight else None,
        weight_measured_on=weight.measured_on if weight else None,
        age_months=checked.age_months,
        hard_stops=[s.as_dict() for s in stops],
        override_reason=override_reason if stops else "",
        overridden_by=user if stops else None,
        warnings=[w.as_dict() for w in checked.warnings],
        prescribed_by=user,
        notes=notes,
    )
    presentations = selectors.presentations_for(protocol)
    sequence = 0
    doses = []
    for draft in drafts:
        course_phase = CoursePhase.objects.create(
            course=course,
            protocol_phase=draft.protocol_phase,
            order=draft.protocol_phase.order,
            pattern=draft.pattern.to_dict(),
            count=None if draft.pattern.anchored else draft.count,
            cycles=draft.cycles,
            dose_value=draft.dose_value,
            dose_unit=draft.protocol_phase.dose_unit,
            dose_amount=draft.amount.amount,
            prescribed_dose_amount=draft.amount.amount,
            amount_unit=draft.amount.unit,
        )
        for day in draft.days:
            sequence += 1
            doses.append(_dose_new(course, course_phase, sequence, day, presentations))
    Dose.objects.bulk_create(doses)
    return course


def _dose_new(course: Course, phase: CoursePhase, sequence: int, day: dt.date, presentations):
    amount = Mass(phase.dose_amount, phase.amount_unit)
    vials, waste = _vial_plan(amount, presentations)
    return Dose(
        course=course,
        phase=phase,
        sequence=sequence,
        scheduled_at=local_datetime(day, course.administration_time, course.time_zone),
        amount=amount.amount,
        amount_unit=amount.unit,
        weight_kg=course.weight_kg,
        vials=vials,
        waste_amount=waste,
        drip_rate_drops_per_min=course.drip_rate_drops_per_min,
        infusion_minutes=course.infusion_minutes,
    )


# --- Administration ---------------------------------------------------------------------------

# ISMP "Acceptable Administration Times for Scheduled Medications": daily, weekly and less
# frequent doses within 2 hours of the scheduled time; further off, the record needs a reason.
ON_TIME_WINDOW = dt.timedelta(hours=2)
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
            {"status": f"Dose {locked.sequence} is already {locked.get_status_display().lower()}."}
        )
    if locked.course.status in {CourseStatus.CANCELLED, CourseStatus.COMPLETED}:
        raise ValidationError({"status": f"The course is {locked.course.status}."})
    return locked


def _recipient(dose: Dose) -> str:
    return f"MRN {dose.course.patient.mrn} · course {dose.course_id} dose {dose.sequence}"


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
    if dose.course.status == CourseStatus.ON_HOLD:
        raise ValidationError({"status": "The course is on hold; resume it first."})
    given_at = given_at or now
    errors: dict = {}
    if given_at > now + CLOCK_SKEW:
        errors["given_at"] = "A dose cannot be recorded as given in the future."
    if abs(given_at - dose.scheduled_at) > ON_TIME_WINDOW and not reason.strip():
        errors["reason"] = (
            f"Given more than {int(ON_TIME_WINDOW.total_seconds() // 3600)} h from the scheduled "
            "time: say why."
        )
    amount = dose.amount if amount is None else Decimal(amount)
    if amount <= 0 or amount > dose.amount:
        errors["amount"] = (
            f"Between 0 and the planned {dose.amount.normalize():f} {dose.amount_unit}."
        )
    reducing = later_dose_percent is not None or later_drip_rate_drops_per_min is not None
    if reducing:
        product_code = dose.course.protocol.product.code
        if not reaction.strip():
            errors["reaction"] = "Describe the reaction that calls for the reduction."
        elif product_code not in checks.REDUCE_ON_REACTION:
            errors["later_dose_percent"] = (
                "This product's leaflet does not reduce the dose for reactions (they are "
                "expected and treated symptomatically)."
            )
        if later_dose_percent is not None and not 1 <= later_dose_percent < 100:
            errors["later_dose_percent"] = "A reduction is 1–99 % of the prescribed dose."
        current_rate = dose.drip_rate_drops_per_min
        if later_drip_rate_drops_per_min is not None and (
            current_rate is None or not 1 <= later_drip_rate_drops_per_min < current_rate
        ):
            errors["later_drip_rate_drops_per_min"] = (
                f"Must be slower than the current {current_rate} drops/min."
                if current_rate
                else "This dose has no drip rate."
            )
    if errors:
        raise ValidationError(errors)

    # The lot scanned at the bedside: a number alone is resolved among the dose's presentations.
    lot_id, lot_number = stock.scanned_lot(vials=dose.vials, lot_id=lot_id, lot_number=lot_number)
    tz = dose.course.time_zone
    dose.dispensed = stock.dispense(
        dose_id=dose.id,
        vials=dose.vials,
        on=selectors.local_date(given_at, tz),
        user=user,
        lot_id=lot_id,
        recipient=_recipient(dose),
    )
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
    dose.full_clean(validate_unique=False)
    dose.save()
    # Given on another day than planned: the minimum gaps count from the day it went in, so the
    # rest moves. Anchored doses (surgery, chemotherapy days) keep their dates.
    if (
        selectors.local_date(given_at, tz) != selectors.local_date(dose.scheduled_at, tz)
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
    phases = {p.id: p for p in course.phases.all()}
    for later_dose in later:
        if percent is not None:
            later_phase = phases[later_dose.phase_id]
            amount = Mass(later_phase.dose_amount, later_phase.amount_unit)
            later_dose.amount = amount.amount
            later_dose.vials, later_dose.waste_amount = _vial_plan(amount, presentations)
        if drip_rate is not None:
            later_dose.drip_rate_drops_per_min = drip_rate
    Dose.objects.bulk_update(later, ["amount", "vials", "waste_amount", "drip_rate_drops_per_min"])
    if drip_rate is not None:
        course.drip_rate_drops_per_min = drip_rate
    course.warnings = [
        *course.warnings,
        checks.Finding(
            "reduced_after_reaction",
            f"After a reaction at dose {dose.sequence} ({dose.reaction}): later doses "
            + (f"at {percent} % of the prescribed dose" if percent is not None else "unchanged")
            + (f", drip {drip_rate} drops/min" if drip_rate is not None else "")
            + f"; recorded by {user}.",
            checks.REDUCE_ON_REACTION[course.protocol.product.code] + ": side effects",
        ).as_dict(),
    ]
    course.save(update_fields=["warnings", "drip_rate_drops_per_min", "updated_at"])


@transaction.atomic
def dose_record_not_given(
    *,
    dose: Dose,
    status: str,
    user,
    now: dt.datetime,
    reason: str,
    replace: bool = True,
) -> Dose:
    """Record a dose as held, refused or missed. By default a dose is re-added at the end of its
    phase so the prescribed number is given (`replace=False` drops it). Anchored doses (surgery,
    chemotherapy days) cannot move to another day: they are dropped."""
    if status not in NOT_GIVEN_STATUSES:
        raise ValidationError({"status": "One of held, refused, missed."})
    dose = _dose_locked(dose)
    errors = {}
    if not reason.strip():
        errors["reason"] = "Say why the dose was not given."
    if status == DoseStatus.MISSED and dose.scheduled_at > now:
        errors["status"] = "A dose is missed only once its time has passed; hold it instead."
    if errors:
        raise ValidationError(errors)
    anchored = Pattern.from_dict(dose.phase.pattern).anchored
    dose.status = status
    dose.reason = reason.strip()
    dose.replaced = replace and not anchored
    dose.recorded_by = user
    dose.recorded_at = now
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
    earliest = selectors.local_date(later.scheduled_at if later else now, course.time_zone)
    _replan(course, earliest=earliest, after=dose.scheduled_at)


def _complete_if_done(course: Course) -> None:
    if (
        course.status == CourseStatus.ACTIVE
        and not course.doses.filter(status=DoseStatus.SCHEDULED).exists()
    ):
        course.status = CourseStatus.COMPLETED
        course.save(update_fields=["status", "updated_at"])


# --- Re-planning ------------------------------------------------------------------------------


def _replan(course: Course, *, earliest: dt.date, after: dt.datetime | None = None) -> None:
    """Move the still-scheduled doses around what has been recorded (courses/schedule.py).

    Recorded doses are never touched; scheduled rows get new times, missing ones are added at the
    end (re-added doses), surplus ones are cancelled. Scheduled rows before `after` are fixed:
    the engine plans around them as if they were given on their day, and they do not move.
    """
    phases = list(course.phases.order_by("order"))
    index = {phase.id: i for i, phase in enumerate(phases)}
    doses = list(course.doses.order_by("scheduled_at", "sequence"))
    tz = course.time_zone
    recorded = []
    fixed = set()
    for dose in doses:
        if dose.status == DoseStatus.SCHEDULED and after is not None and dose.scheduled_at < after:
            fixed.add(dose.id)
            on = selectors.local_date(dose.scheduled_at, tz)
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
                on=selectors.local_date(moment, tz),
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
            row.scheduled_at = local_datetime(day, course.administration_time, tz)
            moved.append(row)
        for row in rows[len(days) :]:
            row.status = DoseStatus.CANCELLED
            row.reason = "Dropped by re-planning."
            cancelled.append(row)
        for day in days[len(rows) :]:
            created.append(_dose_new(course, phase, next_sequence, day, presentations))
            next_sequence += 1
    Dose.objects.bulk_update(moved, ["scheduled_at"])
    Dose.objects.bulk_update(cancelled, ["status", "reason"])
    Dose.objects.bulk_create(created)
    stock.release(dose_ids=[d.id for d in moved + cancelled], reason="re-planned")


def _course_locked(course: Course) -> Course:
    # Only the course row: its protocol and product are shared by every course prescribed from them.
    return (
        Course.objects.select_for_update(of=("self",))
        .select_related("protocol__product")
        .get(pk=course.pk)
    )


@transaction.atomic
def course_hold(
    *, course: Course, user, on: dt.date, reason: str, today: dt.date | None = None
) -> Course:
    """Hold a course from `on` (today or later): no dose is given until it is resumed."""
    course = _course_locked(course)
    if course.status != CourseStatus.ACTIVE:
        raise ValidationError(
            {"status": f"Only an active course can be held (it is {course.status})."}
        )
    if not reason.strip():
        raise ValidationError({"reason": "Say why the course is held."})
    if on < (today or timezone.localdate()):
        raise ValidationError({"on": "A hold starts today or later; record past doses instead."})
    course.status = CourseStatus.ON_HOLD
    course.held_since = on
    course.status_reason = reason.strip()
    course.save(update_fields=["status", "held_since", "status_reason", "updated_at"])
    stock.release(
        dose_ids=course.doses.filter(status=DoseStatus.SCHEDULED).values_list("id", flat=True),
        user=user,
        reason="course held",
    )
    return course


@transaction.atomic
def course_resume(*, course: Course, user, on: dt.date, today: dt.date | None = None) -> Course:
    """Resume from `on`: the remaining doses move, keeping the pattern's minimum gaps; none moves
    before today, whatever day the resume is dated."""
    course = _course_locked(course)
    if course.status != CourseStatus.ON_HOLD:
        raise ValidationError({"status": "Only a course on hold can be resumed."})
    if on < course.held_since:
        raise ValidationError({"on": "Resume on or after the day the hold began."})
    course.status = CourseStatus.ACTIVE
    course.held_since = None
    course.save(update_fields=["status", "held_since", "updated_at"])
    _replan(course, earliest=max(on, today or timezone.localdate()))
    _complete_if_done(course)
    return course


@transaction.atomic
def course_cancel(*, course: Course, user, reason: str) -> Course:
    """Stop a course: its scheduled doses are cancelled; what was recorded stays."""
    course = _course_locked(course)
    if course.status in {CourseStatus.CANCELLED, CourseStatus.COMPLETED}:
        raise ValidationError({"status": f"The course is already {course.status}."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the course is stopped."})
    scheduled = list(course.doses.filter(status=DoseStatus.SCHEDULED).values_list("id", flat=True))
    course.doses.filter(id__in=scheduled).update(
        status=DoseStatus.CANCELLED, reason="Course cancelled."
    )
    course.status = CourseStatus.CANCELLED
    course.held_since = None
    course.status_reason = reason.strip()
    course.save(update_fields=["status", "held_since", "status_reason", "updated_at"])
    stock.release(dose_ids=scheduled, user=user, reason="course cancelled")
    return course


def doses_reserve(*, start: dt.date, end: dt.date, user=None) -> int:
    """Reserve stock for the scheduled doses of active courses from `start` to `end` (inclusive).

    Safe to run again: doses that already hold their vials are skipped, and inventory's
    reservations are idempotent per dose reference besides. Returns the number of doses reserved
    for (0 when inventory has no reservation service).
    """
    if not stock.available():
        return 0
    doses = list(selectors.doses_due(start=start, end=end))
    reserved = stock.doses_reserved([dose.id for dose in doses])
    count = 0
    for dose in doses:
        if dose.id in reserved or not dose.vials:
            continue
        # One transaction per dose: a shortage of one leaves the others' holds in place.
        with transaction.atomic():
            on = selectors.local_date(dose.scheduled_at, dose.course.time_zone)
            try:
                if stock.reserve(dose_id=dose.id, vials=dose.vials, on=on, user=user):
                    count += 1
            except ValidationError:
                continue  # a shortage: inventory's shortage alerts report it from demand_lines()
    return count
