"""Dose rules and vial arithmetic, exact in Decimal. No Django imports.

A dose rule is fixed (mg), per kg (mg/kg, µg/kg, ng/kg on the patient's dated weight) or an
age-band table (Ceruloplasmin in children, leaflet 001 "In the treatment of children"). A dose is
drawn from whole vials or ampoules of the product's presentations; what is left is waste.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from itertools import product as cartesian

from courses.units import Mass, per_kg_unit, unit_normalise


class DoseError(ValueError):
    def __init__(self, message: str, field: str = "dose"):
        super().__init__(message)
        self.field = field
        self.message = message


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
    raise DoseError(f"No dose band for an age of {age_months} months.", "patient")


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
            raise DoseError("An age-band dose needs the patient's age.", "patient")
        return Mass(age_band_dose(bands, age_months), unit_normalise(unit))
    if value is None:
        raise DoseError("The dose is required.")
    if basis == "per_kg":
        mass_unit = per_kg_unit(unit)
        if mass_unit is None:
            raise DoseError(f"'{unit}' is not a per-kg unit.", "dose_unit")
        if weight_kg is None or weight_kg <= 0:
            raise DoseError("A per-kg dose needs the patient's weight.", "weight_kg")
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


def vials_for(dose: Mass, strengths: Sequence[Strength]) -> VialPlan:
    """The containers that give the dose with the least waste, then the fewest containers.

    Mixing strengths is considered (Betaleukin 1 mg + 0.5 mg …): each strength is tried from 0 up
    to the count that alone would cover the dose, so the search stays small (three strengths of
    a product, a handful of vials each). Ties keep the order `strengths` are given in.
    """
    if dose.ng <= 0:
        raise DoseError("A dose must be more than zero.")
    if not strengths:
        raise DoseError("The product has no presentation to draw the dose from.", "protocol")
    bounds = [range(_ceil_div(dose.ng, s.strength.ng) + 1) for s in strengths]
    best: tuple | None = None
    for counts in cartesian(*bounds):
        total = sum((s.strength.ng * n for s, n in zip(strengths, counts, strict=True)), Decimal(0))
        if total < dose.ng:
            continue
        score = (total - dose.ng, sum(counts), tuple(-n for n in counts))
        if best is None or score < best[0]:
            best = (score, counts)
    assert best is not None  # the bound of any single strength always covers the dose
    (waste_ng, _, _), counts = best
    containers = tuple((s, n) for s, n in zip(strengths, counts, strict=True) if n)
    return VialPlan(dose=dose, containers=containers, waste=Mass(waste_ng, "ng").to(dose.unit))
