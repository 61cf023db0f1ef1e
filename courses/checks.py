"""Clinical checks of a prescription against its leaflet (design.md, "Clinical checks").

Hard stops block a course unless a physician overrides them with a written reason; warnings are
returned and kept on the course. Each finding names the leaflet and section it comes from.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal

from courses import formulary
from courses.units import Mass

BIOCERULIN = formulary.BIOCERULIN_FILE
CERULOPLASMIN = formulary.CERULOPLASMIN_FILE
BETALEUKIN = formulary.BETALEUKIN_FILE


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    source: str

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"[{self.code}] {self.message} ({self.source})"


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
    pattern_label: str
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
        "This is an adult protocol; children receive the age-band doses of the children's "
        "protocols",
        "Dosing and administration — In the treatment of children (line 80)",
    ),
}

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
        recorded = ", ".join(
            (["drugs of protein origin"] if patient.protein_drug_allergy else [])
            + protein_allergies
        )
        stops.append(
            Finding(
                "hypersensitivity",
                f"{name} is contraindicated in hypersensitivity to drugs of protein origin "
                f"(recorded: {recorded}).",
                _where(protocol, "hypersensitivity"),
            )
        )
    elif allergic_to_product:
        # Betaleukin's own condition; and for any product, a recorded allergy to it stops.
        stops.append(
            Finding(
                "hypersensitivity",
                f"{name} is contraindicated in hypersensitivity to the drug (recorded allergy to "
                f"{name}).",
                _where(protocol, "hypersensitivity")
                if "hypersensitivity_to_drug" in codes
                else "patient record: drug allergies",
            )
        )
    return stops


def _age_stops(*, protocol, age_months: int) -> list[Finding]:
    product = protocol.product
    name = product.name
    stops: list[Finding] = []
    limit = formulary.PRODUCT_MIN_AGE.get(product.code)
    if limit and age_months < limit["months"]:
        # Named on every protocol of the product, adult ones included (issue 11).
        stops.append(
            Finding(
                "age",
                f"{limit['message']} (age {age_months} months).",
                f"{limit['leaflet_file']}: {limit['section']}",
            )
        )
    covered = limit is not None and age_months < limit["months"]
    if protocol.min_age_months is not None and age_months < protocol.min_age_months:
        if protocol.min_age_months < formulary.ADULT_MONTHS:
            if not (covered and protocol.min_age_months <= limit["months"]):
                stops.append(
                    Finding(
                        "age",
                        f"This protocol starts at {protocol.min_age_months} months "
                        f"(age {age_months} months).",
                        f"{_leaflet(protocol)}: {protocol.leaflet_section}",
                    )
                )
        elif product.code in ADULT_PROTOCOL_FOR_CHILD:
            message, section = ADULT_PROTOCOL_FOR_CHILD[product.code]
            stops.append(
                Finding(
                    "age",
                    f"{message} (age {age_months} months).",
                    f"{_leaflet(protocol)}: {section}",
                )
            )
        else:
            stops.append(
                Finding(
                    "age",
                    f"{name} must not be prescribed to children (age {age_months} months).",
                    _where(protocol, "children"),
                )
            )
    if protocol.max_age_months is not None and age_months >= protocol.max_age_months:
        stops.append(
            Finding(
                "age",
                f"This protocol is for patients under {protocol.max_age_months} months "
                f"(age {age_months} months).",
                f"{_leaflet(protocol)}: {protocol.leaflet_section}",
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
        stops.append(
            Finding(
                "pregnancy",
                f"{name} is not to be given in pregnancy (trimester "
                f"{patient.pregnancy_trimester})"
                + (
                    f"; only trimesters {', '.join(map(str, protocol.pregnancy_trimesters_allowed))}."
                    if protocol.pregnancy_trimesters_allowed
                    else "."
                ),
                _where(protocol, "pregnancy"),
            )
        )
    if protocol.requires_pregnancy and not patient.pregnant:
        stops.append(
            Finding(
                "indication",
                "This protocol treats anaemia in pregnancy; the patient is not recorded pregnant.",
                f"{_leaflet(protocol)}: {protocol.leaflet_section}",
            )
        )
    if patient.lactating and not protocol.lactation_allowed:
        stops.append(
            Finding(
                "lactation",
                f"{name} is not to be given during lactation.",
                _where(protocol, "lactation"),
            )
        )
    conditions = {
        "septic_shock": ("septic shock", patient.septic_shock),
        "severe_fever": ("severe fever", patient.severe_fever),
    }
    for code in product.contraindications:
        if code not in conditions:
            continue  # hypersensitivity codes are checked above
        label, present = conditions[code]
        if present:
            stops.append(
                Finding(code, f"{name} is contraindicated in {label}.", _where(protocol, code))
            )
    if (
        protocol.min_wbc_10e9_per_l is not None
        and wbc_valid(patient, start_date=start_date, valid_days=wbc_valid_days)
        and patient.wbc_10e9_per_l < protocol.min_wbc_10e9_per_l
    ):
        stops.append(
            Finding(
                "wbc",
                f"The indication needs a white-cell count of at least "
                f"{protocol.min_wbc_10e9_per_l.normalize():f}×10⁹/L; the patient's is "
                f"{patient.wbc_10e9_per_l.normalize():f}×10⁹/L "
                f"(taken {patient.wbc_measured_on}).",
                _where(protocol, "indications"),
            )
        )
    return stops


def _range_stops(protocol, phases: list[PhaseChoice], total: Mass) -> list[Finding]:
    stops: list[Finding] = []
    where = f"{_leaflet(protocol)}: {protocol.leaflet_section}"
    for phase in phases:
        prefix = f"Phase {phase.order}: " if len(phases) > 1 else ""
        if not phase.pattern_allowed:
            stops.append(
                Finding(
                    "pattern",
                    f"{prefix}'{phase.pattern_label}' is not a schedule this protocol allows.",
                    where,
                )
            )
        if phase.dose_value is not None and (
            (phase.dose_min is not None and phase.dose_value < phase.dose_min)
            or (phase.dose_max is not None and phase.dose_value > phase.dose_max)
        ):
            stops.append(
                Finding(
                    "dose_range",
                    f"{prefix}a dose of {phase.dose_value.normalize():f} {phase.dose_unit} is "
                    f"outside the label's {phase.dose_min.normalize():f}–"
                    f"{phase.dose_max.normalize():f} {phase.dose_unit}.",
                    where,
                )
            )
        if phase.count < phase.count_min or (
            phase.count_max is not None and phase.count > phase.count_max
        ):
            allowed = (
                f"{phase.count_min}–{phase.count_max}"
                if phase.count_max is not None
                else f"at least {phase.count_min}"
            )
            stops.append(
                Finding(
                    "count_range",
                    f"{prefix}{phase.count} injections is outside the label's {allowed}.",
                    where,
                )
            )
        if phase.cycles is not None and (
            (phase.cycles_min is not None and phase.cycles < phase.cycles_min)
            or (phase.cycles_max is not None and phase.cycles > phase.cycles_max)
        ):
            stops.append(
                Finding(
                    "cycles_range", f"{prefix}{phase.cycles} cycles is outside the label.", where
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
            stops.append(
                Finding(
                    "course_total",
                    f"A course total of {total.to(protocol.course_total_unit)} is outside the "
                    f"label's {_bounds(protocol)}.",
                    where,
                )
            )
    return stops


def _bounds(protocol) -> str:
    """The label's course total, either bound possibly unset: '300–500 mg', 'minimum of 300 mg'."""
    low, high, unit = (
        protocol.course_total_min,
        protocol.course_total_max,
        protocol.course_total_unit,
    )
    if low is not None and high is not None:
        return f"{low.normalize():f}–{high.normalize():f} {unit}"
    if low is not None:
        return f"minimum of {low.normalize():f} {unit}"
    return f"maximum of {high.normalize():f} {unit}"


def _preparation_stops(
    protocol, *, diluent: str, infusion_minutes: int | None, drip_rate: int | None
) -> list[Finding]:
    stops: list[Finding] = []
    where = f"{_leaflet(protocol)}: preparation"
    label_rate = protocol.drip_rate_drops_per_min
    if drip_rate is not None and label_rate is not None and drip_rate > label_rate:
        # "at a rate of 30 drops per minute"; reactions come with faster infusions.
        stops.append(
            Finding(
                "drip_rate",
                f"A drip of {drip_rate} drops/min is faster than the label's {label_rate}.",
                where,
            )
        )
    if diluent and diluent not in protocol.diluent_options:
        stops.append(
            Finding("diluent", f"The label does not give '{diluent}' as a diluent.", where)
        )
    if (
        infusion_minutes is not None
        and protocol.infusion_minutes_min is not None
        and not (protocol.infusion_minutes_min <= infusion_minutes <= protocol.infusion_minutes_max)
    ):
        stops.append(
            Finding(
                "infusion_time",
                f"An infusion of {infusion_minutes} min is outside the label's "
                f"{protocol.infusion_minutes_min}–{protocol.infusion_minutes_max} min.",
                where,
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
            Finding(
                "sodium_diet",
                f"{product.name} contains {product.sodium_mg_per_dose.normalize():f} mg sodium "
                "per dose: take care on a sodium-controlled diet.",
                _where(protocol, "special"),
            )
        )
    if product.code == "biocerulin" and patient.high_dose_corticosteroids:
        found.append(
            Finding(
                "corticosteroids",
                "High-dose corticosteroids (risk of steroid diabetes): dissolve in 0.9% sodium "
                "chloride, not 5% glucose."
                + (" The chosen diluent is 5% glucose." if diluent == "glucose_5" else ""),
                _where(protocol, "special"),
            )
        )
    if product.code == "biocerulin":
        found.append(
            Finding(
                "no_mixing",
                "Do not mix with other drugs in the infusion.",
                _where(protocol, "incompatibility"),
            )
        )
    if product.code in REDUCE_ON_REACTION:
        found.append(
            Finding(
                "infusion_rate_reactions",
                "Hot flushes, nausea, chills, fever or urticaria: reduce the dose and the rate, or "
                "stop. Reactions are mostly linked to a fast infusion: keep the slow drip.",
                _where(protocol, "side_effects"),
            )
        )
    if product.code == "betaleukin":
        found.append(
            Finding(
                "expected_fever",
                "Fever, headache and raised temperature for 2–3 h after the injection are expected "
                "and are not a reason to stop; severe reactions: paracetamol, metamizole, "
                "diphenhydramine, or corticosteroids.",
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
        recorded = ", ".join(
            (["drugs of protein origin"] if patient.protein_drug_allergy else []) + other_protein
        )
        found.append(
            Finding(
                "protein_hypersensitivity",
                f"Recorded hypersensitivity to {recorded}; {product.name}'s leaflet contraindicates "
                "only hypersensitivity to the drug itself — judge whether it extends to it.",
                _where(protocol, "hypersensitivity"),
            )
        )
    if protocol.min_wbc_10e9_per_l is not None and not wbc_valid(
        patient, start_date=start_date, valid_days=wbc_valid_days
    ):
        if patient.wbc_10e9_per_l is None:
            state = "none is recorded"
        elif patient.wbc_measured_on is None:
            state = "the recorded count has no date, so it counts as unknown"
        else:
            state = (
                f"the count of {patient.wbc_measured_on} is not within {wbc_valid_days} days "
                f"before the start ({start_date}), so it counts as unknown"
            )
        found.append(
            Finding(
                "wbc_unknown",
                f"The indication needs a white-cell count of at least "
                f"{protocol.min_wbc_10e9_per_l.normalize():f}×10⁹/L; {state}.",
                _where(protocol, "indications"),
            )
        )
    return found
