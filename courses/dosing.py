"""Dose rules and vial arithmetic, exact in Decimal. No Django imports.

A dose rule is fixed (mg), per kg (mg/kg, µg/kg, ng/kg on the patient's dated weight) or an
age-band table (Ceruloplasmin in children, leaflet 001 "In the treatment of children"). A dose is
drawn from whole vials or ampoules of the product's presentations; what is left is waste.

An error's reason is a `courses.preparation.Msg` (see `courses.schedule`): `message` is its
English, `courses.preparation_text` writes it in the reader's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from itertools import product as cartesian

from courses.preparation import Msg, _, ngettext
from courses.units import Mass, per_kg_unit, unit_normalise


class DoseError(ValueError):
    def __init__(self, msg: Msg, field: str = "dose"):
        self.msg = msg
        self.message = str(msg)
        self.field = field
        super().__init__(self.message)


def age_in_months(birth_date: dt.date, on: dt.date) -> int:
    """Completed months of age on `on` (a child born 31 Jan is 1 month old on 28/29 Feb + 1)."""
    months = (on.year - birth_date.year) * 12 + (on.month - birth_date.month)
    if on.day < birth_date.day:
        months -= 1
    return months


def age_band_dose(bands: Sequence[Mapping], age_months: int) -> Decimal:
    """The fixed dose of the band the age falls in (`max_months` exclusive)."""
    for band in bands:
        if band["min_months"] <= age_months < band["max_months"]:
            return Decimal(str(band["dose"]))
    raise DoseError(
        ngettext(
            "No dose band for an age of %(count)s month.",
            "No dose band for an age of %(count)s months.",
            age_months,
        ),
        "patient",
    )


def dose_amount(
    *,
    basis: str,
    unit: str,
    value: Decimal | None = None,
    weight_kg: Decimal | None = None,
    age_months: int | None = None,
    bands: Sequence[Mapping] = (),
) -> Mass:
    """The amount of one dose. `value` is the prescribed dose in `unit` (e.g. 15 ng/kg)."""
    if basis == "age_band":
        if age_months is None:
            raise DoseError(_("An age-band dose needs the patient's age."), "patient")
        return Mass(age_band_dose(bands, age_months), unit_normalise(unit))
    if value is None:
        raise DoseError(_("The dose is required."))
    if basis == "per_kg":
        mass_unit = per_kg_unit(unit)
        if mass_unit is None:
            raise DoseError(_("'%(unit)s' is not a per-kg unit.", unit=unit), "dose_unit")
        if weight_kg is None or weight_kg <= 0:
            raise DoseError(_("A per-kg dose needs the patient's weight."), "weight_kg")
        return Mass(Decimal(value) * Decimal(weight_kg), mass_unit)
    return Mass(Decimal(value), unit_normalise(unit))


@dataclass(frozen=True)
class Strength:
    """A presentation as the vial arithmetic needs it."""

    key: int | str
    strength: Mass
    label: str = ""


@dataclass(frozen=True)
class VialPlan:
    """Which containers make up one dose, and what is left over in them."""

    dose: Mass
    containers: tuple[tuple[Strength, int], ...]
    waste: Mass

    @property
    def count(self) -> int:
        return sum(n for _, n in self.containers)

    def as_list(self) -> list[dict]:
        return [
            {
                "presentation_id": strength.key,
                "label": strength.label,
                "strength": str(strength.strength),
                "strength_amount": [str(strength.strength.amount), strength.strength.unit],
                "count": n,
            }
            for strength, n in self.containers
        ]


def _ceil_div(a: Decimal, b: Decimal) -> int:
    return int((a / b).to_integral_value(rounding=ROUND_CEILING))


# A plan may open at most this many containers more than the fewest that can hold the dose:
# "least waste" alone would open 1 µg + 8 × 0.05 µg Betaleukin ampoules (9, each dissolved
# separately) to save 0.1 µg on a 1.4 µg dose; the pharmacy opens 1 µg + 0.5 µg. Two extra
# still lets 0.56 µg be 0.5 + 2 × 0.05 µg (0.04 µg waste) rather than one 1 µg ampoule (0.44).
EXTRA_CONTAINERS = 2


def vials_for(dose: Mass, strengths: Sequence[Strength]) -> VialPlan:
    """The containers that give the dose with the least waste, then the fewest containers.

    Plans are those opening at most EXTRA_CONTAINERS more containers than the fewest that can
    hold the dose (ceil(dose / largest strength): n containers hold at most n × the largest).
    So 1.4 µg of Betaleukin is 1 µg + 0.5 µg (0.1 µg waste), 1.05 µg is 1 µg + 0.05 µg (none),
    0.1 µg is 2 × 0.05 µg rather than one 0.5 µg ampoule, 0.56 µg is 0.5 µg + 2 × 0.05 µg. Ties keep the order `strengths` are
    given in (a vial before an ampoule of the same strength).
    """
    if dose.ng <= 0:
        raise DoseError(_("A dose must be more than zero."))
    if not strengths:
        raise DoseError(_("The product has no presentation to draw the dose from."), "protocol")
    largest = max(s.strength.ng for s in strengths)
    limit = _ceil_div(dose.ng, largest) + EXTRA_CONTAINERS
    best: tuple | None = None
    for counts in cartesian(*[range(limit + 1)] * len(strengths)):
        if sum(counts) > limit:
            continue
        total = sum((s.strength.ng * n for s, n in zip(strengths, counts, strict=True)), Decimal(0))
        if total < dose.ng:
            continue
        score = (total - dose.ng, sum(counts), tuple(-n for n in counts))
        if best is None or score < best[0]:
            best = (score, counts)
    assert best is not None  # ceil(dose / largest) of the largest strength always covers it
    (waste_ng, _count, _order), counts = best
    containers = tuple((s, n) for s, n in zip(strengths, counts, strict=True) if n)
    return VialPlan(dose=dose, containers=containers, waste=Mass(waste_ng, "ng").to(dose.unit))
