"""Prescribing: check a draft course against the label, then create it with its doses."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from config.roles import Role, has_role
from courses import checks, preparation_text, selectors
from courses.dosing import (
    DoseError,
    Strength,
    age_band_dose,
    age_in_months,
    dose_amount,
    vials_for,
)
from courses.findings import Finding, mass, msg_param, number, unit_label
from courses.models import (
    Course,
    CoursePhase,
    Dose,
    DoseBasis,
    Patient,
    PatientWeight,
    Protocol,
    ProtocolPhase,
)
from courses.schedule import (
    Pattern,
    PhasePlan,
    ScheduleError,
    anchored_dates,
    course_plan,
    local_datetime,
    phases_resolved,
)
from courses.units import Mass
from history.context import records

# --- Prescribing ------------------------------------------------------------------------------

DEFAULT_ADMINISTRATION_TIME = dt.time(10, 0)
# A weight older than this is flagged: per-kg doses follow the patient, not an old chart entry.
WEIGHT_STALE_DAYS = 30


def engine_error_text(error: ScheduleError | DoseError) -> str:
    """The scheduling engine's refusal in the request's language (ISO dates and the decimal
    point: the same text reaches the API)."""
    return preparation_text.API(error.msg)


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
    # One amount per day: age-band doses follow the patient's age on each dose's date.
    amounts: list[Mass | None] = field(default_factory=list)


def _choose_pattern(phase: ProtocolPhase, choice: dict, key: str) -> tuple[Pattern, bool]:
    allowed = [Pattern.from_dict(spec) for spec in phase.patterns]
    spec = choice.get("pattern")
    if spec is None:
        # Where the label offers a choice ("daily or every other day") the prescriber makes it:
        # the product never picks one for them (design.md; issue 11).
        if len(allowed) > 1:
            # The descriptions are the engine's, in the request's language.
            options = f" {_('or')} ".join(
                preparation_text.pattern_text(p, render=preparation_text.API) for p in allowed
            )
            raise ValidationError(
                {f"{key}.pattern": _("Choose the schedule: %(options)s.") % {"options": options}}
            )
        spec = allowed[0].to_dict()
    if choice.get("weekdays") is not None:
        spec = {**spec, "weekdays": choice["weekdays"]}
    try:
        pattern = Pattern.from_dict(spec)
    except ScheduleError as error:
        raise ValidationError({f"{key}.{error.field}": engine_error_text(error)}) from None
    return pattern, any(option.allows(pattern) for option in allowed)


def _choose_count(phase: ProtocolPhase, pattern: Pattern, choice: dict, key: str):
    """(count, cycles): cycles give count = on_days × cycles; anchors decide their own count."""
    count, cycles = choice.get("count"), choice.get("cycles")
    if pattern.anchored:
        if count is not None:
            raise ValidationError({f"{key}.count": _("Set by the anchor dates; leave it out.")})
        return None, None
    if pattern.kind == "cycles":
        if cycles is None:
            # "If necessary to repeat …": how many cycles is the prescriber's call, never 1 by
            # default (Betaleukin leaflet line 24; issue 11).
            span = (
                f"{phase.cycles_min}–{phase.cycles_max}"
                if phase.cycles_max
                else _("%(count)s or more") % {"count": phase.cycles_min or 1}
            )
            raise ValidationError(
                {f"{key}.cycles": _("Choose the number of cycles (%(span)s).") % {"span": span}}
            )
        return pattern.on_days * cycles, cycles
    if count is None:
        if phase.count_max != phase.count_min:
            span = f"{phase.count_min}–{phase.count_max}" if phase.count_max else _("a number")
            raise ValidationError(
                {f"{key}.count": _("Choose the number of injections (%(span)s).") % {"span": span}}
            )
        count = phase.count_min
    return count, None


def _choose_dose(phase: ProtocolPhase, choice: dict, key: str) -> Decimal | None:
    value = choice.get("dose")
    if phase.dose_basis == DoseBasis.AGE_BAND:
        if value is not None:
            raise ValidationError({f"{key}.dose": _("Children's doses come from the age band.")})
        return None
    if value is None:
        if phase.dose_min != phase.dose_max:
            raise ValidationError(
                {
                    f"{key}.dose": _("Choose the dose (%(low)s–%(high)s %(unit)s).")
                    % {
                        "low": f"{phase.dose_min.normalize():f}",
                        "high": f"{phase.dose_max.normalize():f}",
                        "unit": unit_label(phase.dose_unit),
                    }
                }
            )
        return phase.dose_min
    return Decimal(value)


def _drafts(protocol: Protocol, choices: list[dict]) -> list[_PhaseDraft]:
    # .all(): a bulk import's prefetched phases, else one query.
    phases = sorted(protocol.phases.all(), key=lambda phase: phase.order)
    choices = list(choices or [])
    if len(choices) > len(phases):
        raise ValidationError(
            {
                "phases": ngettext(
                    "The protocol has %(count)s phase.",
                    "The protocol has %(count)s phases.",
                    len(phases),
                )
                % {"count": len(phases)}
            }
        )
    choices += [{}] * (len(phases) - len(choices))
    drafts = []
    for index, (phase, choice) in enumerate(zip(phases, choices, strict=True)):
        key = f"phases.{index}"
        if not isinstance(choice, dict):
            raise ValidationError({key: _("Each phase choice is an object.")})
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
            raise ValidationError({f"anchors.{name}": _("This date is required for the protocol.")})
        try:
            anchors[name] = (
                sorted(_as_date(v) for v in value) if isinstance(value, list) else _as_date(value)
            )
        except (TypeError, ValueError):
            raise ValidationError({f"anchors.{name}": _("Dates are YYYY-MM-DD.")}) from None
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


def _vial_plan(amount: Mass, presentations, plans: dict | None = None):
    """(containers, waste) for `amount`; `plans` keeps the ones worked out already (a course's
    doses mostly share one amount: the plan is made once per amount, not per dose)."""
    if plans is None:
        return _vial_plan_new(amount, presentations)
    key = (amount.amount, amount.unit)
    if key not in plans:
        plans[key] = _vial_plan_new(amount, presentations)
    vials, waste = plans[key]
    return [dict(line) for line in vials], waste


def _vial_plan_new(amount: Mass, presentations) -> tuple[list[dict], Decimal]:
    strengths = [Strength(p.id, Mass(p.strength, p.strength_unit), p.code) for p in presentations]
    plan = vials_for(amount, strengths)
    return plan.as_list(), plan.waste.to(amount.unit).amount


def band_dose_on(bands, months: int) -> Decimal | None:
    """The age band's dose at `months`; past the last band (a course overridden across the
    18th birthday) the last band's dose stays; None before the first band."""
    try:
        return age_band_dose(bands, months)
    except DoseError:
        if bands and months >= bands[-1]["max_months"]:
            return Decimal(str(bands[-1]["dose"]))
        return None


def _band_amounts(patient, protocol, draft, findings: list) -> list[Mass | None]:
    """Each dose's amount from the patient's age on that dose's date (design.md: "Age bands
    apply on each dose's date"); a band boundary crossed during the course is a warning, and
    leaving the table (the 18th birthday) a hard stop."""
    phase = draft.protocol_phase
    where = f"{protocol.leaflet_file}: Dosing and administration — In the treatment of children "
    where += "(lines 80–84)"
    amounts: list[Mass | None] = []
    previous = draft.amount
    for day in draft.days:
        months = age_in_months(patient.birth_date, day)
        try:
            amount = Mass(age_band_dose(phase.age_bands, months), draft.amount.unit)
        except DoseError:
            dose = band_dose_on(phase.age_bands, months)
            amount = Mass(dose, draft.amount.unit) if dose is not None else None
            if not any(f.code == "age" for f in findings):
                findings.append(
                    Finding.of(
                        "age",
                        gettext_noop(
                            "The patient is %(months)s months old on %(day)s, during the course: "
                            "the protocol has no age-band dose from that date (the last band's "
                            "dose is kept if overridden)."
                        ),
                        where,
                        months=months,
                        day=str(day),
                    )
                )
        if amount is not None and previous is not None and amount != previous:
            findings.append(
                Finding.of(
                    "age_band_change",
                    gettext_noop(
                        "The patient is %(months)s months old on %(day)s: from that dose on the "
                        "age band gives %(amount)s (before: %(before)s)."
                    ),
                    where,
                    months=months,
                    day=str(day),
                    amount=mass(amount.best_unit()),
                    before=mass(previous.best_unit()),
                )
            )
        amounts.append(amount)
        previous = amount if amount is not None else previous
    return amounts


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
            raise ValidationError({"start_date": _("A course cannot start in the past.")})
        plan = course_plan(engine_phases, start=start_date, anchors=anchor_dates)
    except ScheduleError as error:
        raise ValidationError({error.field: engine_error_text(error)}) from None
    engine_phases = phases_resolved(engine_phases, plan)
    for draft, engine_phase, days in zip(drafts, engine_phases, plan, strict=True):
        draft.pattern, draft.days = engine_phase.pattern, days
        if draft.count is None:
            draft.count = len(days)
    if not any(plan):
        raise ValidationError({"anchors": _("No dose falls on or after the start date.")})

    if patient.birth_date > on:
        raise ValidationError(
            {"patient": _("The patient's birth date is in the future; correct it.")}
        )
    age = age_in_months(patient.birth_date, start_date)
    weight = None
    if any(d.protocol_phase.dose_basis == DoseBasis.PER_KG for d in drafts):
        weight = selectors.weight_on(patient, max(start_date, on))
        if weight is None:
            raise ValidationError({"weight_kg": _("A per-kg dose needs the patient's weight.")})
    band_findings: list[Finding] = []
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
                raise ValidationError({error.field: engine_error_text(error)}) from None
            draft.amount = None  # no age band: the age hard stop says why
        if phase.dose_basis == DoseBasis.AGE_BAND and draft.amount is not None:
            draft.amounts = _band_amounts(patient, protocol, draft, band_findings)
        else:
            draft.amounts = [draft.amount] * len(draft.days)
    total = sum((a for d in drafts for a in d.amounts if a is not None), Mass(Decimal(0), "mg"))

    diluent = diluent or _default_diluent(protocol, patient)
    drip_rate = drip_rate_drops_per_min or protocol.drip_rate_drops_per_min
    if infusion_minutes is None:
        infusion_minutes = protocol.infusion_minutes_min
    allergies = list(patient.drug_allergies.all())
    wbc_valid_days = settings.WBC_VALID_DAYS
    stops = checks.hard_stops(
        patient=patient,
        protocol=protocol,
        age_months=age,
        allergies=allergies,
        start_date=start_date,
        wbc_valid_days=wbc_valid_days,
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
                pattern_label=msg_param(d.pattern.description()),
                amount=d.amount,
            )
            for d in drafts
        ],
        total=total,
        diluent=diluent,
        infusion_minutes=infusion_minutes if protocol.infusion_minutes_min else None,
        drip_rate=drip_rate if protocol.drip_rate_drops_per_min else None,
    )
    stops += [f for f in band_findings if f.code == "age"]
    found_warnings = checks.warnings(
        patient=patient,
        protocol=protocol,
        diluent=diluent,
        allergies=allergies,
        start_date=start_date,
        wbc_valid_days=wbc_valid_days,
    )
    found_warnings += [f for f in band_findings if f.code != "age"]
    if weight and (max(start_date, on) - weight.measured_on).days > WEIGHT_STALE_DAYS:
        found_warnings.append(
            Finding.of(
                "weight_old",
                gettext_noop(
                    "Dosed on a weight from %(day)s (%(weight)s kg); re-weigh if it may have "
                    "changed."
                ),
                checks.PER_KG_DOSING,
                day=str(weight.measured_on),
                weight=number(weight.weight_kg),
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


@records("course.prescribe", reason_arg="override_reason")
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
    drafts = checked.phases
    override_reason = (override_reason or "").strip()
    errors = _hard_stops_refused(checked, user, override_reason)
    if errors:
        raise ValidationError(errors)

    course = _course_new(
        checked,
        patient=patient,
        protocol=protocol,
        user=user,
        administration_time=administration_time,
        override_reason=override_reason,
        notes=notes,
    )
    course.save(force_insert=True)
    phases_new = [_phase_new(course, draft) for draft in drafts]
    for phase in phases_new:
        phase.save(force_insert=True)
    Dose.objects.bulk_create(
        _doses_new(course, drafts, phases_new, selectors.presentations_for(protocol), plans={})
    )
    return course


def _hard_stops_refused(checked: CourseDraft, user, override_reason: str) -> dict:
    """The errors refusing a checked prescription ({} when it may be saved): hard stops without
    a physician's override reason, or a dose the patient's age has no band for."""
    errors: dict = {}
    if checked.hard_stops:
        errors["hard_stops"] = [s.text() for s in checked.hard_stops]
        if override_reason and not has_role(user, Role.PHYSICIAN):
            errors["override_reason"] = _("Only a physician can override a hard stop.")
        if override_reason and "override_reason" not in errors:
            errors = {}
        if errors:
            return errors
    if any(d.amount is None or None in d.amounts for d in checked.phases):
        return {"patient": _("No dose band for the patient's age.")}
    return {}


def _course_new(
    checked: CourseDraft, *, patient, protocol, user, administration_time, override_reason, notes
) -> Course:
    stops, weight = checked.hard_stops, checked.weight
    return Course(
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


def _phase_new(course: Course, draft: _PhaseDraft) -> CoursePhase:
    return CoursePhase(
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


def _doses_new(course, drafts, phases, presentations, *, plans: dict) -> list[Dose]:
    doses, sequence = [], 0
    for draft, course_phase in zip(drafts, phases, strict=True):
        for day, amount in zip(draft.days, draft.amounts, strict=True):
            sequence += 1
            doses.append(
                _dose_new(
                    course, course_phase, sequence, day, presentations, amount=amount, plans=plans
                )
            )
    return doses


@records("course.prescribe", reason_arg="override_reason")
@transaction.atomic
def courses_create_bulk(
    *, prescriptions: list[dict], user, on: dt.date, override_reason: str = ""
) -> list[Course]:
    """Prescribe many courses at once (imports, data generation): every check `course_create`
    runs, on each prescription, then one INSERT per table for all of them.

    `prescriptions` are `course_create`'s keyword arguments (patient, protocol, start_date,
    phases, anchors, administration_time, diluent, drip_rate_drops_per_min, infusion_minutes,
    notes) without user, on and override_reason. All or nothing: any refused prescription
    raises one ValidationError naming it (`prescriptions.<n>.<field>`) and nothing is created.
    Single prescriptions go through `course_create` (one transaction each).
    """
    override_reason = (override_reason or "").strip()
    # Each patient's weights and allergies and each protocol's phases, read once for all.
    patients = Patient.objects.prefetch_related("weights", "drug_allergies").in_bulk(
        {p["patient"].pk for p in prescriptions}
    )
    protocols = Protocol.objects.prefetch_related("phases").in_bulk(
        {p["protocol"].pk for p in prescriptions}
    )
    checked_all, errors = [], {}
    for n, prescription in enumerate(prescriptions):
        kwargs = dict(prescription)
        administration_time = kwargs.pop("administration_time", None)
        notes = kwargs.pop("notes", "")
        patient = patients[kwargs.pop("patient").pk]
        protocol = protocols[kwargs.pop("protocol").pk]
        try:
            checked = course_check(patient=patient, protocol=protocol, on=on, **kwargs)
        except ValidationError as error:
            found = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        else:
            found = _hard_stops_refused(checked, user, override_reason)
        if found:
            errors.update({f"prescriptions.{n}.{k}".rstrip("."): v for k, v in found.items()})
            continue
        course = _course_new(
            checked,
            patient=patient,
            protocol=protocol,
            user=user,
            administration_time=administration_time,
            override_reason=override_reason,
            notes=notes,
        )
        checked_all.append((course, checked))
    if errors:
        raise ValidationError(errors)
    courses = Course.objects.bulk_create([course for course, _ in checked_all])
    phases = [[_phase_new(course, d) for d in checked.phases] for course, checked in checked_all]
    CoursePhase.objects.bulk_create([phase for group in phases for phase in group])
    presentations: dict[int, list] = {}
    plans: dict[int, dict] = {}
    doses = []
    for (course, checked), course_phases in zip(checked_all, phases, strict=True):
        protocol = course.protocol
        if protocol.pk not in presentations:
            presentations[protocol.pk] = selectors.presentations_for(protocol)
        doses += _doses_new(
            course,
            checked.phases,
            course_phases,
            presentations[protocol.pk],
            plans=plans.setdefault(protocol.pk, {}),
        )
    Dose.objects.bulk_create(doses, batch_size=2_000)
    return courses


def amount_on(course: Course, phase: CoursePhase, day: dt.date) -> Mass:
    """A dose's amount on its date: the phase's amount, except that an age-band dose follows the
    patient's age on that date; a reduction after a reaction is kept as its ratio."""
    amount = Mass(phase.dose_amount, phase.amount_unit)
    bands = phase.protocol_phase.age_bands
    if phase.protocol_phase.dose_basis != DoseBasis.AGE_BAND or not bands:
        return amount
    dose = band_dose_on(bands, age_in_months(course.patient.birth_date, day))
    if dose is None:
        return amount
    ratio = phase.dose_amount / phase.prescribed_dose_amount
    return Mass((dose * ratio).quantize(Decimal("0.000001")), phase.amount_unit)


def _dose_new(
    course: Course,
    phase: CoursePhase,
    sequence: int,
    day: dt.date,
    presentations,
    *,
    amount: Mass | None = None,
    plans: dict | None = None,
):
    if amount is None:
        amount = amount_on(course, phase, day)
    vials, waste = _vial_plan(amount, presentations, plans)
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
