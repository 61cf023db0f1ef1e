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
        "Dosing and administration — In the treatment of children",
    ),
}


def _leaflet(protocol) -> str:
    return protocol.leaflet_file


def _patient_stops(*, patient, protocol, age_months: int) -> list[Finding]:
    product = protocol.product
    name = product.name
    stops: list[Finding] = []
    if product.protein_origin and patient.protein_drug_allergy:
        stops.append(
            Finding(
                "hypersensitivity",
                f"{name} is contraindicated in hypersensitivity to drugs of protein origin.",
                f"{_leaflet(protocol)}: contraindications",
            )
        )
    if protocol.min_age_months is not None and age_months < protocol.min_age_months:
        section = "children"
        if protocol.min_age_months < formulary.ADULT_MONTHS:
            message = f"{name} is not used under {protocol.min_age_months} months of age"
        elif product.code in ADULT_PROTOCOL_FOR_CHILD:
            message, section = ADULT_PROTOCOL_FOR_CHILD[product.code]
        else:
            message = f"{name} must not be prescribed to children"
        stops.append(
            Finding(
                "age", f"{message} (age {age_months} months).", f"{_leaflet(protocol)}: {section}"
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
                f"{_leaflet(protocol)}: pregnancy",
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
                f"{_leaflet(protocol)}: lactation",
            )
        )
    conditions = {
        "septic_shock": ("septic shock", patient.septic_shock),
        "severe_fever": ("severe fever", patient.severe_fever),
    }
    for code in product.contraindications:
        label, present = conditions.get(code, (code, False))
        if present:
            stops.append(
                Finding(code, f"{name} is contraindicated in {label}.", f"{_leaflet(protocol)}")
            )
    if (
        protocol.min_wbc_10e9_per_l is not None
        and patient.wbc_10e9_per_l is not None
        and patient.wbc_10e9_per_l < protocol.min_wbc_10e9_per_l
    ):
        stops.append(
            Finding(
                "wbc",
                f"The indication needs a white-cell count of at least "
                f"{protocol.min_wbc_10e9_per_l.normalize():f}×10⁹/L; the patient's is "
                f"{patient.wbc_10e9_per_l.normalize():f}×10⁹/L.",
                f"{_leaflet(protocol)}: indications",
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
) -> list[Finding]:
    return [
        *_patient_stops(patient=patient, protocol=protocol, age_months=age_months),
        *_range_stops(protocol, phases, total),
        *_preparation_stops(
            protocol, diluent=diluent, infusion_minutes=infusion_minutes, drip_rate=drip_rate
        ),
    ]


def warnings(*, patient, protocol, diluent: str) -> list[Finding]:
    product = protocol.product
    found: list[Finding] = []
    if product.sodium_mg_per_dose is not None and patient.sodium_controlled_diet:
        found.append(
            Finding(
                "sodium_diet",
                f"{product.name} contains {product.sodium_mg_per_dose.normalize():f} mg sodium "
                "per dose: take care on a sodium-controlled diet.",
                f"{_leaflet(protocol)}: special instructions",
            )
        )
    if product.code == "biocerulin" and patient.high_dose_corticosteroids:
        found.append(
            Finding(
                "corticosteroids",
                "High-dose corticosteroids (risk of steroid diabetes): dissolve in 0.9% sodium "
                "chloride, not 5% glucose."
                + (" The chosen diluent is 5% glucose." if diluent == "glucose_5" else ""),
                f"{BIOCERULIN}: special instructions",
            )
        )
    if product.code == "biocerulin":
        found.append(
            Finding(
                "no_mixing",
                "Do not mix with other drugs in the infusion.",
                f"{BIOCERULIN}: incompatibility",
            )
        )
    if product.code in REDUCE_ON_REACTION:
        found.append(
            Finding(
                "infusion_rate_reactions",
                "Hot flushes, nausea, chills, fever or urticaria: reduce the dose and the rate, or "
                "stop. Reactions are mostly linked to a fast infusion: keep the slow drip.",
                f"{REDUCE_ON_REACTION[product.code]}: side effects",
            )
        )
    if product.code == "betaleukin":
        found.append(
            Finding(
                "expected_fever",
                "Fever, headache and raised temperature for 2–3 h after the injection are expected "
                "and are not a reason to stop; severe reactions: paracetamol, metamizole, "
                "diphenhydramine, or corticosteroids.",
                f"{BETALEUKIN}: side effect",
            )
        )
    if protocol.min_wbc_10e9_per_l is not None and patient.wbc_10e9_per_l is None:
        found.append(
            Finding(
                "wbc_unknown",
                f"The indication needs a white-cell count of at least "
                f"{protocol.min_wbc_10e9_per_l.normalize():f}×10⁹/L; none is recorded.",
                f"{_leaflet(protocol)}: indications",
            )
        )
    return found
