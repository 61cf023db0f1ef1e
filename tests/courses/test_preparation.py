"""courses/preparation.py: the volume to give, to discard, and the steps, from the leaflets.

Pure arithmetic (no database): each case cites the leaflet line it follows. The containers are
the ones `vials_for` picks, as prescribing stores them.
"""

from decimal import Decimal as D
from pathlib import Path

import pytest

from courses.dosing import Strength, vials_for
from courses.preparation import (
    LEAFLET_PREPARATION,
    Opened,
    PreparationError,
    amount_text,
    measurable,
    preparation_for,
)
from courses.units import Mass

LEAFLETS = Path(__file__).resolve().parents[2] / "courses" / "leaflets"


def leaflet_text(name: str) -> str:
    return (LEAFLETS / name).read_text(encoding="utf-8")


CERULO = [Strength(1, Mass(D(100), "mg"), "ceruloplasmin-100mg-vial-5")]
BETA = [
    Strength(5, Mass(D("0.05"), "ug"), "betaleukin-0-05ug-ampoule-5"),
    Strength(6, Mass(D("0.5"), "ug"), "betaleukin-0-5ug-ampoule-5"),
    Strength(7, Mass(D(1), "ug"), "betaleukin-1ug-ampoule-5"),
]


def _prepare(product, route, dose, strengths, volume, **extra):
    plan = vials_for(dose, strengths)
    container = "ampoule" if product == "betaleukin" else "vial"
    opened = [Opened(s.key, s.label, s.strength, container, n) for s, n in plan.containers]
    return preparation_for(
        product=product,
        route=route,
        dose=dose,
        containers=opened,
        diluent="0.9% sodium chloride",
        diluent_volume_ml=volume,
        **extra,
    )


@pytest.mark.parametrize(
    "volume, measured",
    [
        (D("0.934"), D("0.93")),  # under 1 ml: 0.01 ml
        (D("0.995"), D("1.00")),
        (D("1.866"), D("1.9")),  # under 10 ml: 0.1 ml
        (D("93.33"), D(93)),  # from 10 ml: 1 ml
        (D("105"), D(105)),
    ],
)
def test_volumes_are_rounded_to_what_can_be_measured(volume, measured):
    assert measurable(volume) == measured


def test_infant_50_mg_ceruloplasmin_is_100_ml_of_the_200_ml_not_the_whole_bag():
    # Leaflet 001 "In the treatment of children": "6 months / 1 year - 50 mg (or 100 ml of
    # injection solution)"; "dissolve the contents of the ampule or vial in a solution (200 ml
    # volume)".
    prep = _prepare(
        "ceruloplasmin", "iv_drip", Mass(D(50), "mg"), CERULO, D(200), drip_rate_drops_per_min=30
    )
    data = prep.as_dict()
    assert [c["text"] for c in data["containers"]] == ["1 × 100 mg vial"]
    assert data["final_volume_ml"] == "200"
    assert data["concentration"] == {"value": "0.5", "unit": "mg/ml", "label": "0.5 mg/ml"}
    assert (data["give_volume_ml"], data["discard_volume_ml"]) == ("100", "100")
    assert data["rounding_note"] == ""
    assert "Give 100 ml by intravenous drip at 30 drops per minute." in data["steps"]
    assert "100 mg (or 100 ml" not in data["steps"]  # the leaflet's figure is ours, not copied
    assert "50 mg (or 100 ml of injection solution)" in leaflet_text("001_a9dd8020501fd367.txt")


def test_whole_vials_are_given_whole_with_nothing_discarded():
    prep = _prepare("ceruloplasmin", "iv_drip", Mass(D(200), "mg"), CERULO, D(200))
    assert (prep.give_volume_ml, prep.discard_volume_ml) == (D(200), D(0))
    assert prep.concentration_dict()["label"] == "1 mg/ml"


def test_a_dose_over_several_vials_is_its_share_of_the_one_200_ml_bag():
    # Biocerulin 1.5 mg/kg × 70 kg = 105 mg (leaflet 000 "During chemotherapy … 1-1.5 mg / kg"):
    # 2 vials in 200 ml (design.md: the opened containers are diluted to the leaflet's volume).
    prep = _prepare("biocerulin", "iv_drip", Mass(D(105), "mg"), CERULO, D(200))
    assert (prep.give_volume_ml, prep.discard_volume_ml) == (D(105), D(95))
    assert any("several are dissolved in the same 200 ml" in s for s in prep.as_dict()["silent"])
    assert prep.source == LEAFLET_PREPARATION["biocerulin"]


def test_betaleukin_iv_follows_1_ml_then_100_ml_then_into_500_ml():
    # Leaflet 002 "Rules for the preparation of solutions": each ampoule "dissolved immediately
    # before use in 1 ml … and bring the total volume of 100 ml"; the amount holding the dose
    # "diluted … in 500 ml". 20 ng/kg × 70 kg = 1.4 µg from 1 µg + 0.5 µg = 1.5 µg in 100 ml.
    prep = _prepare(
        "betaleukin", "iv_infusion", Mass(D(1400), "ng"), BETA, D(500), infusion_minutes=150
    )
    data = prep.as_dict()
    assert sorted(c["text"] for c in data["containers"]) == [
        "1 × 0.5 µg ampoule",
        "1 × 1 µg ampoule",
    ]
    assert all(c["solvent_ml"] == "1" for c in data["containers"])
    assert data["made_up_to_ml"] == "100"
    assert data["transfer_volume_ml"] == "93"  # 1.4 / 1.5 × 100 = 93.3 → 93 ml
    assert data["discard_volume_ml"] == "7"
    assert data["final_volume_ml"] == data["give_volume_ml"] == "593"  # the whole bag
    assert data["dose_delivered"]["label"] == "1.4 µg"  # 93 × 15 ng/ml = 1.395 µg
    assert data["rounding_note"] == ""  # −0.4 %: under 1 %
    assert data["ml_per_hour"] == "237"
    assert data["steps"][1].startswith("Immediately before use dissolve each ampoule in 1 ml")
    assert "15 ng/ml" in data["steps"][2]
    assert data["when"].startswith("Prepare immediately before use")
    source = " ".join(leaflet_text("002_9eae8ef8f93c6d59.txt").split())
    assert "dissolved immediately before use in 1 ml" in source
    assert "bring the total volume of 100 ml" in source and "in 500 ml of 0.9%" in source


def test_betaleukin_iv_exact_containers_go_whole_into_the_bag():
    # 15 ng/kg × 70 kg = 1.05 µg = 1 µg + 0.05 µg: all 100 ml into the 500 ml bag.
    prep = _prepare("betaleukin", "iv_infusion", Mass(D(1050), "ng"), BETA, D(500))
    assert (prep.transfer_volume_ml, prep.discard_volume_ml, prep.final_volume_ml) == (
        D(100),
        D(0),
        D(600),
    )
    assert "120–180 minutes (as prescribed)" in prep.as_dict()["steps"][-1]


def test_betaleukin_sc_draws_its_share_and_shows_a_rounding_over_1_percent():
    # Leaflet 002: "dissolved in 0.5-1 ml". 1.4 µg from 1.5 µg in 2 × 0.5 ml: 0.93 ml.
    prep = _prepare("betaleukin", "sc", Mass(D(1400), "ng"), BETA, D(1))
    assert prep.solvent_ml_per_container == D("0.5")
    assert (prep.final_volume_ml, prep.give_volume_ml, prep.discard_volume_ml) == (
        D(1),
        D("0.93"),
        D("0.07"),
    )
    assert prep.as_dict()["steps"][-1] == "Inject 0.93 ml subcutaneously."
    # 1.0545 µg (15 ng/kg × 70.3 kg) from 1 µg + 2 × 0.05 µg = 1.1 µg: with 0.5 ml per ampoule
    # 1.4 ml holds 1.03 µg (−2.6 %); with 1 ml each, 2.9 ml holds 1.063 µg (+0.8 %): 1 ml is used.
    odd = _prepare("betaleukin", "sc", Mass(D("1054.5"), "ng"), BETA, D(1))
    assert odd.solvent_ml_per_container == D(1)
    assert odd.give_volume_ml == D("2.9")
    assert odd.rounding_note is None


def test_rounding_over_1_percent_is_spelled_out():
    # 12.3 ng (a 2.5 kg neonate at 5 ng/kg) from one 0.05 µg ampoule: in 0.5 ml, 0.123 ml → 0.12
    # ml = 12 ng (−2.4 %); in 1 ml, 0.246 ml → 0.25 ml = 12.5 ng (+1.6 %), the closer: shown.
    small = _prepare("betaleukin", "sc", Mass(D("12.3"), "ng"), BETA, D(1))
    assert (small.solvent_ml_per_container, small.give_volume_ml) == (D(1), D("0.25"))
    assert small.rounding_percent == D("1.6")
    assert str(small.rounding_note) == (
        "Rounding the volume to what can be measured gives 12.5 ng instead of 12.3 ng (+1.6%)."
    )


def test_a_dose_larger_than_its_containers_is_refused():
    with pytest.raises(PreparationError):
        preparation_for(
            product="ceruloplasmin",
            route="iv_drip",
            dose=Mass(D(150), "mg"),
            containers=[Opened(1, "v", Mass(D(100), "mg"), "vial", 1)],
        )


@pytest.mark.parametrize(
    "mass, unit, text",
    [
        (Mass(D("1222.5"), "ng"), None, "1.22 µg"),
        (Mass(D("1054.5"), "ng"), None, "1.05 µg"),
        (Mass(D(100), "ng"), "ug", "0.1 µg"),  # waste in the dose's unit
        (Mass(D("187.5"), "mg"), None, "187.5 mg"),
        (Mass(D(50), "mg"), None, "50 mg"),
    ],
)
def test_amounts_read_with_sensible_precision(mass, unit, text):
    assert amount_text(mass, unit) == text
