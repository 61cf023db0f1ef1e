"""Clinical checks of a prescription against its leaflet (design.md, "Clinical checks").

Hard stops block a course unless a physician overrides them with a written reason; warnings are
returned and kept on the course. Each finding names the leaflet and section it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_noop

from courses import formulary
from courses.findings import Finding, listed, number, unit, words
from courses.units import UNIT_LABELS, Mass

BIOCERULIN = formulary.BIOCERULIN_FILE
CERULOPLASMIN = formulary.CERULOPLASMIN_FILE
BETALEUKIN = formulary.BETALEUKIN_FILE


@dataclass(frozen=True)
class PhaseChoice:
    """A phase as prescribed, for the range checks."""

    order: int
    dose_value: Decimal | None
    dose_min: Decimal | None
    dose_max: Decimal | None
    dose_unit: str
    count: int
    count_min: int
    count_max: int | None
    cycles: int | None
    cycles_min: int | None
    cycles_max: int | None
    pattern_allowed: bool
    pattern_label: object  # words: courses.findings.msg_param of the pattern's description
    amount: Mass


# Products whose leaflet says a reaction calls for a lower dose and a slower infusion (Biocerulin
# "Side effects"; Ceruloplasmin "Side effects of the ceruloplasmin"). Betaleukin's says its fever
# and headache are "not a contraindication for continuation": they are treated, not reduced.
REDUCE_ON_REACTION = {"biocerulin": BIOCERULIN, "ceruloplasmin": CERULOPLASMIN}


# Products whose leaflet doses children too, in protocols of their own: an adult protocol given to
# a child is the wrong protocol, not a contraindicated product (leaflet 001, "In the treatment of
# children"; Biocerulin's leaflet 000 "Children" says it should not be prescribed to them at all).
ADULT_PROTOCOL_FOR_CHILD = {
    "ceruloplasmin": (
        gettext_noop(
            "This is an adult protocol; children receive the age-band doses of the children's "
            "protocols (age %(months)s months)."
        ),
        "Dosing and administration — In the treatment of children (line 80)",
    ),
}

# A source that is not a leaflet: the patient's own record (courses.leaflet_refs translates it).
PATIENT_ALLERGIES = "patient record: drug allergies"
PER_KG_DOSING = "per-kg dosing"

# The recorded class of allergy, as the ceruloplasmin leaflets name it.
PROTEIN_DRUGS = gettext_noop("drugs of protein origin")

# Where each leaflet says it: the section (and line) every finding cites. The leaflets are kept
# verbatim in courses/leaflets/; tests check that each cited line says what the finding says.
SECTIONS = {
    "biocerulin": {
        "hypersensitivity": "contraindications (line 22)",
        "children": "Children (line 19)",
        "pregnancy": "Use during pregnancy or lactation (line 32)",
        "lactation": "Use during pregnancy or lactation (line 32)",
        "special": "special instructions (line 30)",
        "incompatibility": "Incompatibility (line 39)",
        "side_effects": "Side effects (line 26)",
    },
    "ceruloplasmin": {
        "hypersensitivity": "contraindications (line 58)",
        "children": "Dosing and administration — In the treatment of children (line 80)",
        "pregnancy": "Use of the ceruloplasmin during pregnancy (line 55)",
        "lactation": "Use of the ceruloplasmin during pregnancy (line 55)",
        "side_effects": "Side effects of the ceruloplasmin (line 64)",
    },
    "betaleukin": {
        "hypersensitivity": "contraindications (line 40: 'hypersensitivity to the drug')",
        "septic_shock": "contraindications (line 41)",
        "severe_fever": "contraindications (line 42)",
        "pregnancy": "Pregnancy and lactation (line 46)",
        "side_effects": "Side effect (lines 36–38, 49)",
        "indications": "indications (line 19: 'leukocyte count … at least 3h109 / l')",
    },
}


def _where(protocol, topic: str) -> str:
    section = SECTIONS.get(protocol.product.code, {}).get(topic, topic)
    return f"{_leaflet(protocol)}: {section}"


def _leaflet(protocol) -> str:
    return protocol.leaflet_file


def _hypersensitivity_stops(*, patient, protocol, allergies) -> list[Finding]:
    """Each leaflet's own hypersensitivity condition (issue 11): the ceruloplasmins name drugs of
    protein origin as a class (000 line 22, 001 line 58), Betaleukin "the drug" (002 line 40)."""
    product = protocol.product
    name = product.name
    codes = product.contraindications or []
    allergic_to_product = any(a.pk == product.pk for a in allergies)
    protein_allergies = [a.name for a in allergies if a.protein_origin]
    stops: list[Finding] = []
    if "hypersensitivity_protein_drugs" in codes and (
        patient.protein_drug_allergy or protein_allergies
    ):
        stops.append(
            Finding.of(
                "hypersensitivity",
                gettext_noop(
                    "%(product)s is contraindicated in hypersensitivity to drugs of protein "
                    "origin (recorded: %(recorded)s)."
                ),
                _where(protocol, "hypersensitivity"),
                product=name,
                recorded=_recorded(patient, protein_allergies),
            )
        )
    elif allergic_to_product:
        # Betaleukin's own condition; and for any product, a recorded allergy to it stops.
        stops.append(
            Finding.of(
                "hypersensitivity",
                gettext_noop(
                    "%(product)s is contraindicated in hypersensitivity to the drug (recorded "
                    "allergy to %(product)s)."
                ),
                _where(protocol, "hypersensitivity")
                if "hypersensitivity_to_drug" in codes
                else PATIENT_ALLERGIES,
                product=name,
            )
        )
    return stops


def _recorded(patient, allergies: list[str]) -> dict:
    """The recorded allergies a hypersensitivity finding names: the class, then the drugs."""
    return listed(*([words(PROTEIN_DRUGS)] if patient.protein_drug_allergy else []), *allergies)


def _age_stops(*, protocol, age_months: int) -> list[Finding]:
    product = protocol.product
    name = product.name
    stops: list[Finding] = []
    limit = formulary.PRODUCT_MIN_AGE.get(product.code)
    if limit and age_months < limit["months"]:
        # Named on every protocol of the product, adult ones included (issue 11).
        stops.append(
            Finding.of(
                "age",
                gettext_noop("%(limit)s (age %(months)s months)."),
                f"{limit['leaflet_file']}: {limit['section']}",
                limit=words(limit["message"]),
                months=age_months,
            )
        )
    covered = limit is not None and age_months < limit["months"]
    if protocol.min_age_months is not None and age_months < protocol.min_age_months:
        if protocol.min_age_months < formulary.ADULT_MONTHS:
            if not (covered and protocol.min_age_months <= limit["months"]):
                stops.append(
                    Finding.of(
                        "age",
                        gettext_noop(
                            "This protocol starts at %(start)s months (age %(months)s months)."
                        ),
                        f"{_leaflet(protocol)}: {protocol.leaflet_section}",
                        start=protocol.min_age_months,
                        months=age_months,
                    )
                )
        elif product.code in ADULT_PROTOCOL_FOR_CHILD:
            message, section = ADULT_PROTOCOL_FOR_CHILD[product.code]
            stops.append(
                Finding.of("age", message, f"{_leaflet(protocol)}: {section}", months=age_months)
            )
        else:
            stops.append(
                Finding.of(
                    "age",
                    gettext_noop(
                        "%(product)s must not be prescribed to children (age %(months)s months)."
                    ),
                    _where(protocol, "children"),
                    product=name,
                    months=age_months,
                )
            )
    if protocol.max_age_months is not None and age_months >= protocol.max_age_months:
        stops.append(
            Finding.of(
                "age",
                gettext_noop(
                    "This protocol is for patients under %(limit)s months (age %(months)s months)."
                ),
                f"{_leaflet(protocol)}: {protocol.leaflet_section}",
                limit=protocol.max_age_months,
                months=age_months,
            )
        )
    return stops


def wbc_valid(patient, *, start_date, valid_days: int) -> bool:
    """A count is known for a course only if dated within `valid_days` before its start."""
    measured_on = patient.wbc_measured_on
    return (
        patient.wbc_10e9_per_l is not None
        and measured_on is not None
        and measured_on <= start_date
        and (start_date - measured_on).days <= valid_days
    )


def _patient_stops(
    *, patient, protocol, age_months: int, allergies, start_date, wbc_valid_days: int
) -> list[Finding]:
    product = protocol.product
    name = product.name
    stops: list[Finding] = [
        *_hypersensitivity_stops(patient=patient, protocol=protocol, allergies=allergies),
        *_age_stops(protocol=protocol, age_months=age_months),
    ]
    if (
        patient.pregnant
        and patient.pregnancy_trimester not in protocol.pregnancy_trimesters_allowed
    ):
        allowed = protocol.pregnancy_trimesters_allowed
        stops.append(
            Finding.of(
                "pregnancy",
                gettext_noop(
                    "%(product)s is not to be given in pregnancy (trimester %(trimester)s); "
                    "only trimesters %(allowed)s."
                )
                if allowed
                else gettext_noop(
                    "%(product)s is not to be given in pregnancy (trimester %(trimester)s)."
                ),
                _where(protocol, "pregnancy"),
                product=name,
                trimester=patient.pregnancy_trimester,
                **({"allowed": ", ".join(map(str, allowed))} if allowed else {}),
            )
        )
    if protocol.requires_pregnancy and not patient.pregnant:
        stops.append(
            Finding.of(
                "indication",
                gettext_noop(
                    "This protocol treats anaemia in pregnancy; the patient is not recorded "
                    "pregnant."
                ),
                f"{_leaflet(protocol)}: {protocol.leaflet_section}",
            )
        )
    if patient.lactating and not protocol.lactation_allowed:
        stops.append(
            Finding.of(
                "lactation",
                gettext_noop("%(product)s is not to be given during lactation."),
                _where(protocol, "lactation"),
                product=name,
            )
        )
    conditions = {
        "septic_shock": (
            gettext_noop("%(product)s is contraindicated in septic shock."),
            patient.septic_shock,
        ),
        "severe_fever": (
            gettext_noop("%(product)s is contraindicated in severe fever."),
            patient.severe_fever,
        ),
    }
    for code in product.contraindications:
        if code not in conditions:
            continue  # hypersensitivity codes are checked above
        message, present = conditions[code]
        if present:
            stops.append(Finding.of(code, message, _where(protocol, code), product=name))
    if (
        protocol.min_wbc_10e9_per_l is not None
        and wbc_valid(patient, start_date=start_date, valid_days=wbc_valid_days)
        and patient.wbc_10e9_per_l < protocol.min_wbc_10e9_per_l
    ):
        stops.append(
            Finding.of(
                "wbc",
                gettext_noop(
                    "The indication needs a white-cell count of at least %(minimum)s×10⁹/L; the "
                    "patient's is %(count)s×10⁹/L (taken %(day)s)."
                ),
                _where(protocol, "indications"),
                minimum=number(protocol.min_wbc_10e9_per_l),
                count=number(patient.wbc_10e9_per_l),
                day=str(patient.wbc_measured_on),
            )
        )
    return stops


def _range_stops(protocol, phases: list[PhaseChoice], total: Mass) -> list[Finding]:
    stops: list[Finding] = []
    where = f"{_leaflet(protocol)}: {protocol.leaflet_section}"
    for phase in phases:

        def phase_finding(code: str, template: str, *, order=phase.order, **params) -> Finding:
            # "Phase 2: …" only when the protocol has several phases.
            if len(phases) == 1:
                return Finding.of(code, template, where, **params)
            body = words(template, **params)
            return Finding.of(
                code, gettext_noop("Phase %(phase)s: %(finding)s"), where, phase=order, finding=body
            )

        if not phase.pattern_allowed:
            # The schedule's description is the engine's (courses/schedule.py, no Django).
            stops.append(
                phase_finding(
                    "pattern",
                    gettext_noop("'%(pattern)s' is not a schedule this protocol allows."),
                    pattern=phase.pattern_label,
                )
            )
        if phase.dose_value is not None and (
            (phase.dose_min is not None and phase.dose_value < phase.dose_min)
            or (phase.dose_max is not None and phase.dose_value > phase.dose_max)
        ):
            stops.append(
                phase_finding(
                    "dose_range",
                    gettext_noop(
                        "a dose of %(dose)s %(unit)s is outside the label's %(low)s–%(high)s %(unit)s."
                    ),
                    dose=number(phase.dose_value),
                    unit=unit(phase.dose_unit),
                    low=number(phase.dose_min),
                    high=number(phase.dose_max),
                )
            )
        if phase.count < phase.count_min or (
            phase.count_max is not None and phase.count > phase.count_max
        ):
            allowed = (
                f"{phase.count_min}–{phase.count_max}"
                if phase.count_max is not None
                else words(gettext_noop("at least %(count)s"), count=phase.count_min)
            )
            stops.append(
                phase_finding(
                    "count_range",
                    gettext_noop("%(count)s injections is outside the label's %(allowed)s."),
                    count=phase.count,
                    allowed=allowed,
                )
            )
        if phase.cycles is not None and (
            (phase.cycles_min is not None and phase.cycles < phase.cycles_min)
            or (phase.cycles_max is not None and phase.cycles > phase.cycles_max)
        ):
            stops.append(
                phase_finding(
                    "cycles_range",
                    gettext_noop("%(cycles)s cycles is outside the label."),
                    cycles=phase.cycles,
                )
            )
    if protocol.course_total_unit and (
        protocol.course_total_min is not None or protocol.course_total_max is not None
    ):
        low = Mass(protocol.course_total_min or Decimal(0), protocol.course_total_unit)
        high = (
            Mass(protocol.course_total_max, protocol.course_total_unit)
            if protocol.course_total_max is not None
            else None
        )
        if total < low or (high is not None and high < total):
            total_in_unit = total.to(protocol.course_total_unit)
            stops.append(
                Finding.of(
                    "course_total",
                    gettext_noop(
                        "A course total of %(total)s %(unit)s is outside the label's %(bounds)s."
                    ),
                    where,
                    total=number(total_in_unit.amount),
                    unit=unit(UNIT_LABELS[total_in_unit.unit]),
                    bounds=_bounds(protocol),
                )
            )
    return stops


def _bounds(protocol) -> dict:
    """The label's course total, either bound possibly unset: '300–500 mg', 'minimum of 300 mg'."""
    low, high = protocol.course_total_min, protocol.course_total_max
    total_unit = unit(protocol.course_total_unit)
    if low is not None and high is not None:
        return words(
            gettext_noop("%(low)s–%(high)s %(unit)s"),
            low=number(low),
            high=number(high),
            unit=total_unit,
        )
    if low is not None:
        return words(gettext_noop("minimum of %(low)s %(unit)s"), low=number(low), unit=total_unit)
    return words(gettext_noop("maximum of %(high)s %(unit)s"), high=number(high), unit=total_unit)


def _preparation_stops(
    protocol, *, diluent: str, infusion_minutes: int | None, drip_rate: int | None
) -> list[Finding]:
    stops: list[Finding] = []
    where = f"{_leaflet(protocol)}: preparation"
    label_rate = protocol.drip_rate_drops_per_min
    if drip_rate is not None and label_rate is not None and drip_rate > label_rate:
        # "at a rate of 30 drops per minute"; reactions come with faster infusions.
        stops.append(
            Finding.of(
                "drip_rate",
                gettext_noop(
                    "A drip of %(rate)s drops/min is faster than the label's %(label_rate)s."
                ),
                where,
                rate=drip_rate,
                label_rate=label_rate,
            )
        )
    if diluent and diluent not in protocol.diluent_options:
        stops.append(
            Finding.of(
                "diluent",
                gettext_noop("The label does not give '%(diluent)s' as a diluent."),
                where,
                diluent=diluent,
            )
        )
    if (
        infusion_minutes is not None
        and protocol.infusion_minutes_min is not None
        and not (protocol.infusion_minutes_min <= infusion_minutes <= protocol.infusion_minutes_max)
    ):
        stops.append(
            Finding.of(
                "infusion_time",
                gettext_noop(
                    "An infusion of %(minutes)s min is outside the label's %(low)s–%(high)s min."
                ),
                where,
                minutes=infusion_minutes,
                low=protocol.infusion_minutes_min,
                high=protocol.infusion_minutes_max,
            )
        )
    return stops


def hard_stops(
    *,
    patient,
    protocol,
    age_months: int,
    phases: list[PhaseChoice],
    total: Mass,
    diluent: str,
    infusion_minutes: int | None,
    drip_rate: int | None,
    allergies=(),
    start_date,
    wbc_valid_days: int,
) -> list[Finding]:
    return [
        *_patient_stops(
            patient=patient,
            protocol=protocol,
            age_months=age_months,
            allergies=allergies,
            start_date=start_date,
            wbc_valid_days=wbc_valid_days,
        ),
        *_range_stops(protocol, phases, total),
        *_preparation_stops(
            protocol, diluent=diluent, infusion_minutes=infusion_minutes, drip_rate=drip_rate
        ),
    ]


def warnings(
    *, patient, protocol, diluent: str, allergies=(), start_date, wbc_valid_days: int
) -> list[Finding]:
    product = protocol.product
    found: list[Finding] = []
    if product.sodium_mg_per_dose is not None and patient.sodium_controlled_diet:
        found.append(
            Finding.of(
                "sodium_diet",
                gettext_noop(
                    "%(product)s contains %(sodium)s mg sodium per dose: take care on a "
                    "sodium-controlled diet."
                ),
                _where(protocol, "special"),
                product=product.name,
                sodium=number(product.sodium_mg_per_dose),
            )
        )
    if product.code == "biocerulin" and patient.high_dose_corticosteroids:
        found.append(
            Finding.of(
                "corticosteroids",
                gettext_noop(
                    "High-dose corticosteroids (risk of steroid diabetes): dissolve in 0.9%% "
                    "sodium chloride, not 5%% glucose. The chosen diluent is 5%% glucose."
                )
                if diluent == "glucose_5"
                else gettext_noop(
                    "High-dose corticosteroids (risk of steroid diabetes): dissolve in 0.9%% "
                    "sodium chloride, not 5%% glucose."
                ),
                _where(protocol, "special"),
            )
        )
    if product.code == "biocerulin":
        found.append(
            Finding.of(
                "no_mixing",
                gettext_noop("Do not mix with other drugs in the infusion."),
                _where(protocol, "incompatibility"),
            )
        )
    if product.code in REDUCE_ON_REACTION:
        found.append(
            Finding.of(
                "infusion_rate_reactions",
                gettext_noop(
                    "Hot flushes, nausea, chills, fever or urticaria: reduce the dose and the "
                    "rate, or stop. Reactions are mostly linked to a fast infusion: keep the slow "
                    "drip."
                ),
                _where(protocol, "side_effects"),
            )
        )
    if product.code == "betaleukin":
        found.append(
            Finding.of(
                "expected_fever",
                gettext_noop(
                    "Fever, headache and raised temperature for 2–3 h after the injection are "
                    "expected and are not a reason to stop; severe reactions: paracetamol, "
                    "metamizole, diphenhydramine, or corticosteroids."
                ),
                _where(protocol, "side_effects"),
            )
        )
    codes = product.contraindications or []
    other_protein = [a.name for a in allergies if a.protein_origin and a.pk != product.pk]
    if "hypersensitivity_protein_drugs" not in codes and (
        patient.protein_drug_allergy or other_protein
    ):
        # Betaleukin's leaflet names only "hypersensitivity to the drug" (line 40): an allergy to
        # protein drugs as a class, or to another protein drug, is for the prescriber to weigh.
        found.append(
            Finding.of(
                "protein_hypersensitivity",
                gettext_noop(
                    "Recorded hypersensitivity to %(recorded)s; %(product)s's leaflet "
                    "contraindicates only hypersensitivity to the drug itself — judge whether it "
                    "extends to it."
                ),
                _where(protocol, "hypersensitivity"),
                recorded=_recorded(patient, other_protein),
                product=product.name,
            )
        )
    if protocol.min_wbc_10e9_per_l is not None and not wbc_valid(
        patient, start_date=start_date, valid_days=wbc_valid_days
    ):
        if patient.wbc_10e9_per_l is None:
            state = words(gettext_noop("none is recorded"))
        elif patient.wbc_measured_on is None:
            state = words(gettext_noop("the recorded count has no date, so it counts as unknown"))
        else:
            state = words(
                gettext_noop(
                    "the count of %(day)s is not within %(days)s days before the start "
                    "(%(start)s), so it counts as unknown"
                ),
                day=str(patient.wbc_measured_on),
                days=wbc_valid_days,
                start=str(start_date),
            )
        found.append(
            Finding.of(
                "wbc_unknown",
                gettext_noop(
                    "The indication needs a white-cell count of at least %(minimum)s×10⁹/L; %(state)s."
                ),
                _where(protocol, "indications"),
                minimum=number(protocol.min_wbc_10e9_per_l),
                state=state,
            )
        )
    return found
