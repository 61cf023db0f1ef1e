"""Exact mass units for doses and strengths (mg, µg, ng), in Decimal. No Django imports.

Betaleukin is dosed in ng/kg but sold in mg ampoules (0.05 / 0.5 / 1 mg), ceruloplasmin in mg/kg
and 100 mg vials: every comparison between a dose and a strength goes through `convert`, which
only shifts the decimal point (powers of ten), so nothing is ever rounded.
"""

import functools
from dataclasses import dataclass
from decimal import Decimal

# Exponent of ten of each unit relative to the nanogram.
_NG_EXPONENT = {"mg": 6, "ug": 3, "µg": 3, "ng": 0}
UNITS = ("mg", "ug", "ng")
_NORMAL = frozenset(UNITS)
UNIT_LABELS = {"mg": "mg", "ug": "µg", "ng": "ng"}
_SPELLED = {"mg": "mg", "ug": "ug", "µg": "ug", "mcg": "ug", "ng": "ng"}


class UnitError(ValueError):
    pass


def unit_normalise(unit: str) -> str:
    """'µg' and 'mcg' are spelled 'ug' inside the system (ASCII in codes and JSON)."""
    known = _SPELLED.get(unit)  # every Mass is built through here: the common spellings first
    if known is not None:
        return known
    unit = unit.strip().lower().replace("mcg", "ug").replace("µg", "ug")
    if unit not in _NG_EXPONENT:
        raise UnitError(f"Unknown mass unit {unit!r}; expected one of {', '.join(UNITS)}.")
    return unit


def convert(amount: Decimal | int | str, from_unit: str, to_unit: str) -> Decimal:
    """Convert a mass exactly: convert(Decimal('1.05'), 'ug', 'ng') == Decimal('1050')."""
    if isinstance(amount, float):
        raise UnitError("Amounts are Decimal, never float (binary floats are not exact).")
    shift = _SHIFT.get((from_unit, to_unit))
    if shift is None:
        shift = _NG_EXPONENT[unit_normalise(from_unit)] - _NG_EXPONENT[unit_normalise(to_unit)]
    return Decimal(amount).scaleb(shift)


# A preparation converts tens of times per dose: the system's own spellings skip
# unit_normalise (the same shift either way: "µg" is a key of both tables).
_SHIFT = {(a, b): _NG_EXPONENT[a] - _NG_EXPONENT[b] for a in _NG_EXPONENT for b in _NG_EXPONENT}


def per_kg_unit(dose_unit: str) -> str | None:
    """'ng/kg' -> 'ng'; a fixed unit ('mg') -> None."""
    if not dose_unit.endswith("/kg"):
        return None
    return unit_normalise(dose_unit[: -len("/kg")])


def tidy(amount: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (1.0500 -> 1.05, 100 -> 100)."""
    normal = amount.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal


@dataclass(frozen=True, eq=False)
class Mass:
    """An amount with its unit; equal masses compare equal whatever their units."""

    amount: Decimal
    unit: str = "mg"

    def __post_init__(self):
        # Masses are built tens of times per dose: an already normal unit and a Decimal amount
        # are kept as they are (what unit_normalise and Decimal() would give back).
        if self.unit not in _NORMAL:
            object.__setattr__(self, "unit", unit_normalise(self.unit))
        if type(self.amount) is not Decimal:
            if isinstance(self.amount, float):
                raise UnitError("Amounts are Decimal, never float.")
            object.__setattr__(self, "amount", Decimal(self.amount))

    def to(self, unit: str) -> "Mass":
        return Mass(convert(self.amount, self.unit, unit), unit)

    @property
    def ng(self) -> Decimal:
        return convert(self.amount, self.unit, "ng")

    def __eq__(self, other) -> bool:
        return isinstance(other, Mass) and self.ng == other.ng

    def __lt__(self, other: "Mass") -> bool:
        return self.ng < other.ng

    def __le__(self, other: "Mass") -> bool:
        return self.ng <= other.ng

    def __hash__(self) -> int:
        return hash(self.ng)

    def __add__(self, other: "Mass") -> "Mass":
        return Mass(self.amount + other.to(self.unit).amount, self.unit)

    def __sub__(self, other: "Mass") -> "Mass":
        return Mass(self.amount - other.to(self.unit).amount, self.unit)

    def __mul__(self, factor: Decimal | int) -> "Mass":
        return Mass(self.amount * Decimal(factor), self.unit)

    def best_unit(self) -> "Mass":
        """The largest unit in which the amount is at least 1 (0.00105 mg -> 1.05 µg)."""
        # A list of 500 doses asks this ~15 times a dose, of a few distinct amounts.
        return _best_unit(self.amount.as_tuple(), self.unit)

    def __str__(self) -> str:
        return f"{tidy(self.amount):f} {UNIT_LABELS[self.unit]}"


@functools.lru_cache(maxsize=4096)
def _best_unit(amount: tuple, unit: str) -> Mass:
    """`Mass.best_unit` of the amount given as `Decimal.as_tuple()` (sign, digits and exponent:
    equal amounts written differently, 1.0 and 1.00 or 0 and -0, keep their own entries). A Mass
    is frozen, so every caller may share the result."""
    mass = Mass(Decimal(amount), unit)
    for candidate in UNITS:
        converted = mass.to(candidate)
        if abs(converted.amount) >= 1 or candidate == "ng":
            return Mass(tidy(converted.amount), candidate)
    raise AssertionError("unreachable")
