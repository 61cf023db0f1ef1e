"""Exact unit conversion, dose rules and vial arithmetic (pure, no database)."""

import datetime as dt
from decimal import Decimal

import pytest

from courses.dosing import DoseError, Strength, age_in_months, dose_amount, vials_for
from courses.formulary import CERULOPLASMIN_CHILD_BANDS
from courses.units import Mass, UnitError, convert

D = Decimal


@pytest.mark.parametrize(
    ("amount", "src", "dst", "expected"),
    [
        ("1", "mg", "ug", "1000"),
        ("1", "mg", "ng", "1000000"),
        ("0.05", "mg", "ng", "50000"),
        ("1050", "ng", "ug", "1.05"),
        ("1050", "ng", "mg", "0.00105"),
        ("1.05", "µg", "ng", "1050"),
        ("0.000001", "mg", "ng", "1"),
    ],
)
def test_conversions_are_exact(amount, src, dst, expected):
    assert convert(D(amount), src, dst) == D(expected)
    assert convert(convert(D(amount), src, dst), dst, src) == D(amount)


def test_floats_and_unknown_units_are_refused():
    with pytest.raises(UnitError):
        convert(0.1, "mg", "ng")
    with pytest.raises(UnitError):
        convert(D(1), "g", "mg")


def test_masses_compare_across_units_and_print_in_the_best_unit():
    assert Mass(D("0.5"), "mg") == Mass(D(500), "ug")
    assert Mass(D(1050), "ng") < Mass(D("0.05"), "mg")
    assert str(Mass(D(1050), "ng").best_unit()) == "1.05 µg"
    assert str(Mass(D("350.000"), "mg")) == "350 mg"


def test_per_kg_dose_on_the_weight():
    # Betaleukin 15 ng/kg for 70 kg = 1050 ng = 1.05 µg.
    dose = dose_amount(basis="per_kg", unit="ng/kg", value=D(15), weight_kg=D("70.0"))
    assert dose == Mass(D("1.05"), "ug") and dose.unit == "ng"
    assert dose_amount(basis="per_kg", unit="mg/kg", value=D("2.5"), weight_kg=D("64.2")) == Mass(
        D("160.5"), "mg"
    )
    with pytest.raises(DoseError) as error:
        dose_amount(basis="per_kg", unit="mg/kg", value=D(1), weight_kg=None)
    assert error.value.field == "weight_kg"


@pytest.mark.parametrize(
    ("birth", "months", "dose"),
    [
        (dt.date(2024, 7, 1), 6, "50"),  # 6 months - 1 year: 50 mg
        (dt.date(2024, 1, 2), 11, "50"),
        (dt.date(2024, 1, 1), 12, "100"),  # 1-12 years: 100 mg
        (dt.date(2012, 1, 2), 155, "100"),
        (dt.date(2012, 1, 1), 156, "200"),  # 13-18 years: 200 mg
    ],
)
def test_ceruloplasmin_child_age_bands(birth, months, dose):
    on = dt.date(2025, 1, 1)
    assert age_in_months(birth, on) == months
    amount = dose_amount(
        basis="age_band", unit="mg", age_months=months, bands=CERULOPLASMIN_CHILD_BANDS
    )
    assert amount == Mass(D(dose), "mg")


def test_under_six_months_has_no_band():
    with pytest.raises(DoseError):
        dose_amount(basis="age_band", unit="mg", age_months=5, bands=CERULOPLASMIN_CHILD_BANDS)


CERULO = [Strength(1, Mass(D(100), "mg"), "vial"), Strength(2, Mass(D(100), "mg"), "ampoule")]
# Betaleukin ampoules: 0.05, 0.5 and 1 µg (design.md's reading of leaflet 002 "Release form").
BETA = [
    Strength(5, Mass(D("0.05"), "ug")),
    Strength(6, Mass(D("0.5"), "ug")),
    Strength(7, Mass(D(1), "ug")),
]


def test_35_mg_takes_one_100_mg_vial_with_65_mg_waste():
    plan = vials_for(Mass(D(35), "mg"), CERULO)
    assert [(s.key, n) for s, n in plan.containers] == [(1, 1)]  # the vial: listed first
    assert plan.waste == Mass(D(65), "mg")


def test_vials_for_several_and_exact_doses():
    assert vials_for(Mass(D(350), "mg"), CERULO).count == 4
    assert vials_for(Mass(D(300), "mg"), CERULO).waste == Mass(D(0), "mg")
    # 15 ng/kg × 70 kg (leaflet 002 "Dosing regimen") = 1.05 µg: 1 µg + 0.05 µg, no waste.
    plan = vials_for(Mass(D(1050), "ng"), BETA)
    assert sorted((s.key, n) for s, n in plan.containers) == [(5, 1), (7, 1)]
    assert plan.waste.ng == 0
    mixed = vials_for(Mass(D("0.55"), "ug"), BETA)  # 0.5 + 0.05 µg: no waste
    assert sorted((s.key, n) for s, n in mixed.containers) == [(5, 1), (6, 1)]
    assert mixed.waste.ng == 0


def test_betaleukin_least_waste_then_fewest_within_two_extra_containers():
    # 20 ng/kg × 70 kg = 1.4 µg: 1 µg + 0.5 µg (0.1 µg waste). Pure least waste would open
    # 1 µg + 8 × 0.05 µg; plans open at most two containers more than the fewest (2) needed.
    plan = vials_for(Mass(D(1400), "ng"), BETA)
    assert sorted((s.key, n) for s, n in plan.containers) == [(6, 1), (7, 1)]
    assert plan.waste == Mass(D("0.1"), "ug")
    # 0.1 µg: two 0.05 µg ampoules (no waste) rather than one 0.5 µg ampoule (0.4 µg waste).
    small = vials_for(Mass(D(100), "ng"), BETA)
    assert [(s.key, n) for s, n in small.containers] == [(5, 2)]
    # 8 ng/kg × 70 kg = 0.56 µg: 0.5 µg + 2 × 0.05 µg (0.04 µg waste), not 1 µg (0.44 µg).
    immune_max = vials_for(Mass(D(560), "ng"), BETA)
    assert sorted((s.key, n) for s, n in immune_max.containers) == [(5, 2), (6, 1)]
    # 0.35 µg (5 ng/kg × 70 kg): one 0.5 µg ampoule; 7 × 0.05 µg is beyond the bound.
    immune = vials_for(Mass(D(350), "ng"), BETA)
    assert [(s.key, n) for s, n in immune.containers] == [(6, 1)]
    assert immune.waste == Mass(D("0.15"), "ug")


def test_more_containers_than_the_fewest_are_opened_only_to_save_waste():
    # Ceruloplasmin's one strength: the fewest vials always (never an extra, wasteful vial).
    assert vials_for(Mass(D(480), "mg"), CERULO).count == 5
