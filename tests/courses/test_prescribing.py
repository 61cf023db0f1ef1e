"""Prescribing: each leaflet regimen for a sample patient, hard stops, overrides, warnings."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from courses.formulary import EVERY_OTHER_DAY
from courses.models import Course, Dose, Protocol
from inventory.models import Product
from tests.courses.helpers import born, day_numbers, prescribe
from tests.factories import PatientFactory

D = Decimal
EOD = EVERY_OTHER_DAY
DAILY = {"kind": "daily"}
DAILY_1_TO = list(range(1, 15))


def _anchors(today, code):
    return {
        "ceruloplasmin-child-posthaemorrhagic": {"surgery": str(today + dt.timedelta(2))},
        "ceruloplasmin-child-radiation-anaemia": {
            "radiotherapy_start": str(today),
            "radiotherapy_end": str(today + dt.timedelta(30)),
        },
        "ceruloplasmin-child-toxic-anaemia": {
            "chemotherapy_dates": [str(today + dt.timedelta(n)) for n in (0, 4, 21)]
        },
        "ceruloplasmin-child-chemoradiation-anaemia": {
            "procedure_dates": [str(today + dt.timedelta(n)) for n in (0, 7, 16)]
        },
    }.get(code, {})


# (protocol, patient, phase choices, dose days from 1, amount per phase, vials per dose of phase 1)
REGIMENS = [
    # Leaflet 000 (Biocerulin), "Dosage and administration"; a 70 kg adult.
    ("biocerulin-general", {}, [{"pattern": DAILY, "dose": "100"}], [1, 2, 3, 4, 5], ["100 mg"], 1),
    ("biocerulin-general", {}, [{"pattern": EOD, "dose": "60"}], [1, 3, 5, 7, 9], ["60 mg"], 1),
    (
        "biocerulin-preop-oncology",
        {},
        [{"pattern": DAILY, "count": 10}],
        DAILY_1_TO[:10],
        ["35 mg"],
        1,
    ),
    ("biocerulin-postop", {}, [{"dose": "1.5", "count": 8}], DAILY_1_TO[:8], ["105 mg"], 2),
    (
        "biocerulin-chemotherapy",
        {},
        [{"dose": "1", "count": 10}],
        [1, 3, 5, 8, 10, 12, 15, 17, 19, 22],
        ["70 mg"],
        1,
    ),
    ("biocerulin-hemoblastosis", {}, [{"dose": "0.5", "count": 5}], [1, 2, 3, 4, 5], ["35 mg"], 1),
    ("biocerulin-osteomyelitis-acute", {}, [{"pattern": EOD}], [1, 3, 5, 7, 9], ["70 mg"], 1),
    (
        "biocerulin-osteomyelitis-chronic",
        {},
        [{"pattern": {"kind": "every_n_days", "n": 2}, "count": 3}, {"count": 7}],
        [1, 3, 5, 7, 9, 11, 13, 15, 17, 19],
        ["140 mg", "70 mg"],
        2,
    ),
    # Leaflet 001 (Ceruloplasmin), "Dosing and administration".
    (
        "ceruloplasmin-preop-oncology",
        {},
        [{"dose": "2", "pattern": EOD, "count": 7}],
        [1, 3, 5, 7, 9, 11, 13],
        ["140 mg"],
        2,
    ),
    ("ceruloplasmin-postop", {}, [{"dose": "6", "count": 10}], DAILY_1_TO[:10], ["420 mg"], 5),
    (
        "ceruloplasmin-chemotherapy",
        {},
        [{"dose": "4", "count": 14}],
        [1, 3, 5, 8, 10, 12, 15, 17, 19, 22, 24, 26, 29, 31],
        ["280 mg"],
        3,
    ),
    ("ceruloplasmin-hemoblastosis", {}, [{"dose": "3", "count": 7}], DAILY_1_TO[:7], ["210 mg"], 3),
    (
        "ceruloplasmin-osteomyelitis-acute",
        {},
        [{"pattern": {"kind": "daily"}}],
        [1, 2, 3, 4, 5],
        ["175 mg"],
        2,
    ),
    (
        "ceruloplasmin-osteomyelitis-chronic",
        {},
        [{"pattern": {"kind": "every_n_days", "n": 3}, "count": 2}, {"count": 3}],
        [1, 4, 6, 8, 10],
        ["350 mg", "175 mg"],
        4,
    ),
    (
        "ceruloplasmin-pregnancy-anaemia",
        {"pregnant": True, "pregnancy_trimester": 2},
        [],
        [1, 2, 3, 4, 5],
        ["100 mg"],
        1,
    ),
    # Children: the age band decides the dose (6-12 months 50 mg, 1-12 y 100 mg, 13-18 y 200 mg).
    (
        "ceruloplasmin-child-posthaemorrhagic",
        {"age": {"years": 5}},
        [],
        [1, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13],
        ["100 mg"],
        1,
    ),
    (
        "ceruloplasmin-child-purulent-surgical",
        {"age": {"months": 8}},
        [{"count": 7}],
        DAILY_1_TO[:7],
        ["50 mg"],
        1,
    ),
    (
        "ceruloplasmin-child-radiation-anaemia",
        {"age": {"years": 15}},
        [],
        [1, 8, 15, 22, 29],
        ["200 mg"],
        2,
    ),
    ("ceruloplasmin-child-toxic-anaemia", {"age": {"years": 3}}, [], [1, 5, 22], ["100 mg"], 1),
    (
        "ceruloplasmin-child-chemoradiation-anaemia",
        {"age": {"years": 12}},
        [],
        [1, 8, 17],
        ["100 mg"],
        1,
    ),
    # Leaflet 002 (Betaleukin), "Dosing regimen": 5 daily, repeated after 14 dose-free days.
    (
        "betaleukin-leukopoiesis-toxic-iv",
        {},
        [{"dose": "20", "cycles": 3}],
        [1, 2, 3, 4, 5, 20, 21, 22, 23, 24, 39, 40, 41, 42, 43],
        ["1.4 µg"],
        2,  # 1 µg + 0.5 µg ampoules (µg: design.md's reading of "Release form")
    ),
    (
        "betaleukin-leukopoiesis-toxic-sc",
        {},
        [{"dose": "15", "cycles": 1}],
        [1, 2, 3, 4, 5],
        ["1.05 µg"],
        2,
    ),
    (
        "betaleukin-leukopoiesis-support-iv",
        {"wbc_10e9_per_l": D("3.2")},
        [{"dose": "15", "cycles": 2}],
        [1, 2, 3, 4, 5, 20, 21, 22, 23, 24],
        ["1.05 µg"],
        2,  # 1 µg + 0.05 µg
    ),
    (
        "betaleukin-leukopoiesis-support-sc",
        {"wbc_10e9_per_l": D("3")},
        [{"dose": "17.5", "cycles": 1}],
        [1, 2, 3, 4, 5],
        ["1.225 µg"],
        2,
    ),
    (
        "betaleukin-immunodeficiency-iv",
        {},
        [{"dose": "5", "cycles": 1}],
        [1, 2, 3, 4, 5],
        ["350 ng"],
        1,
    ),
    (
        "betaleukin-immunodeficiency-sc",
        {},
        [{"dose": "8", "cycles": 2}],
        [1, 2, 3, 4, 5, 20, 21, 22, 23, 24],
        ["560 ng"],
        3,  # 0.5 µg + 2 × 0.05 µg
    ),
]


def _patient(today, ward, age=None, **fields):
    birth = born(today, **age) if age else dt.date(1980, 5, 17)
    if fields.get("wbc_10e9_per_l") is not None:
        fields.setdefault("wbc_measured_on", today)  # a count is dated (issue 11)
    return PatientFactory(ward=ward, birth_date=birth, **fields)


@pytest.mark.parametrize(
    ("code", "patient", "choices", "days", "amounts", "vials"),
    REGIMENS,
    ids=[f"{r[0]}-{i}" for i, r in enumerate(REGIMENS)],
)
def test_each_leaflet_regimen(
    formulary, physician, ward, today, code, patient, choices, days, amounts, vials
):
    course = prescribe(
        _patient(today, ward, **patient),
        code,
        physician,
        today,
        phases=choices,
        anchors=_anchors(today, code),
    )
    assert course.hard_stops == [] and course.override_reason == ""
    assert day_numbers(course) == days
    from courses.units import Mass

    phases = list(course.phases.order_by("order"))
    assert [str(Mass(p.dose_amount, p.amount_unit).best_unit()) for p in phases] == amounts
    first = course.doses.order_by("scheduled_at").first()
    assert sum(line["count"] for line in first.vials) == vials
    assert first.scheduled_at.timetz().replace(tzinfo=None) == dt.time(10, 0)


def test_35_mg_dose_shows_one_vial_65_mg_waste_and_its_preparation(
    formulary, physician, ward, today
):
    from courses.selectors import dose_preparation

    course = prescribe(
        _patient(today, ward),
        "biocerulin-preop-oncology",
        physician,
        today,
        phases=[{"pattern": DAILY, "count": 3}],
    )
    dose = course.doses.first()
    assert (dose.amount, dose.amount_unit, dose.weight_kg) == (D(35), "mg", D(70))
    assert [(v["label"], v["count"]) for v in dose.vials] == [("biocerulin-100mg-vial-5", 1)]
    assert dose.waste_amount == D(65)
    prep = dose_preparation(dose)
    assert prep["diluent"] == "glucose_5" and prep["diluent_volume_ml"] == "200"
    assert prep["drip_rate_drops_per_min"] == 30 and prep["route"] == "iv_drip"
    # 35 mg of a 100 mg vial in 200 ml (leaflet 000 "dilute … in 200 ml"): give 70 ml.
    assert (prep["give_volume_ml"], prep["discard_volume_ml"]) == ("70", "130")


def test_betaleukin_iv_preparation_gives_infusion_time_and_volume(
    formulary, physician, ward, today
):
    from courses.selectors import dose_preparation

    course = prescribe(
        _patient(today, ward),
        "betaleukin-leukopoiesis-toxic-iv",
        physician,
        today,
        phases=[{"dose": "15", "cycles": 1}],
        infusion_minutes=150,
    )
    prep = dose_preparation(course.doses.first())
    assert prep["infusion_minutes"] == 150 and prep["diluent_volume_ml"] == "500"
    # 1.05 µg = 1 µg + 0.05 µg ampoules, each in 1 ml, made up to 100 ml: all of it into the
    # 500 ml bag, given whole over 150 min (leaflet 002 "Rules for the preparation of solutions").
    assert [c["text"] for c in prep["containers"]] == ["1 × 0.05 µg ampoule", "1 × 1 µg ampoule"]
    assert (prep["transfer_volume_ml"], prep["give_volume_ml"]) == ("100", "600")
    assert prep["concentration"]["unit"] == "ng/ml" and prep["ml_per_hour"] == "240"


# --- Hard stops ---------------------------------------------------------------------------------

HARD_STOPS = [
    (
        "biocerulin-general",
        {"protein_drug_allergy": True},
        [{"pattern": DAILY, "dose": "100"}],
        "hypersensitivity",
    ),
    ("biocerulin-general", {"age": {"years": 10}}, [{"pattern": DAILY, "dose": "100"}], "age"),
    (
        "biocerulin-general",
        {"pregnant": True, "pregnancy_trimester": 2},
        [{"pattern": DAILY, "dose": "100"}],
        "pregnancy",
    ),
    ("biocerulin-general", {"lactating": True}, [{"pattern": DAILY, "dose": "100"}], "lactation"),
    (
        "ceruloplasmin-postop",
        {"pregnant": True, "pregnancy_trimester": 1},
        [{"dose": "2", "count": 7}],
        "pregnancy",
    ),
    ("ceruloplasmin-postop", {"lactating": True}, [{"dose": "2", "count": 7}], "lactation"),
    ("ceruloplasmin-pregnancy-anaemia", {}, [], "indication"),
    (
        "betaleukin-immunodeficiency-iv",
        {"pregnant": True, "pregnancy_trimester": 3},
        [{"dose": "5", "cycles": 1}],
        "pregnancy",
    ),
    (
        "betaleukin-immunodeficiency-iv",
        {"septic_shock": True},
        [{"dose": "5", "cycles": 1}],
        "septic_shock",
    ),
    (
        "betaleukin-immunodeficiency-iv",
        {"severe_fever": True},
        [{"dose": "5", "cycles": 1}],
        "severe_fever",
    ),
    (
        "betaleukin-leukopoiesis-support-iv",
        {"wbc_10e9_per_l": D("2.9")},
        [{"dose": "15", "cycles": 1}],
        "wbc",
    ),
    ("ceruloplasmin-postop", {}, [{"dose": "6.1", "count": 7}], "dose_range"),
    ("ceruloplasmin-postop", {}, [{"dose": "1.4", "count": 7}], "dose_range"),
    ("ceruloplasmin-postop", {}, [{"dose": "2", "count": 11}], "count_range"),
    ("ceruloplasmin-postop", {}, [{"dose": "2", "count": 6}], "count_range"),
    ("ceruloplasmin-postop", {}, [{"dose": "2", "count": 7, "pattern": EOD}], "pattern"),
    ("biocerulin-general", {}, [{"pattern": DAILY, "dose": "59"}], "dose_range"),
    ("biocerulin-general", {}, [{"pattern": DAILY, "dose": "100", "count": 6}], "count_range"),
]


@pytest.mark.parametrize(
    ("code", "choices", "stop"),
    [
        (
            "ceruloplasmin-postop",
            [{"dose": "2", "count": 7}],
            "[age] This is an adult protocol; children receive the age-band doses of the "
            "children's protocols (age 120 months). (001_a9dd8020501fd367.txt: Dosing and "
            "administration — In the treatment of children (line 80))",
        ),
        (
            "biocerulin-general",
            [{"pattern": DAILY, "dose": "100"}],
            "[age] Biocerulin must not be prescribed to children (age 120 months). "
            "(000_8232d45ecd8856fc.txt: Children (line 19))",
        ),
    ],
)
def test_adult_protocol_for_a_child_says_what_its_leaflet_says(
    formulary, physician, ward, today, code, choices, stop
):
    subject = _patient(today, ward, age={"years": 10})
    with pytest.raises(ValidationError) as error:
        prescribe(subject, code, physician, today, phases=choices)
    assert [m for m in error.value.message_dict["hard_stops"] if m.startswith("[age]")] == [stop]


@pytest.mark.parametrize(("code", "patient", "choices", "stop"), HARD_STOPS)
def test_hard_stop_blocks_and_physician_override_keeps_the_reason(
    formulary, physician, ward, today, code, patient, choices, stop
):
    subject = _patient(today, ward, **patient)
    with pytest.raises(ValidationError) as error:
        prescribe(subject, code, physician, today, phases=choices)
    assert any(f"[{stop}]" in m for m in error.value.message_dict["hard_stops"])
    assert Course.objects.count() == 0 and Dose.objects.count() == 0

    course = prescribe(
        subject,
        code,
        physician,
        today,
        phases=choices,
        override_reason="Discussed with the patient; benefit outweighs risk.",
    )
    assert stop in {s["code"] for s in course.hard_stops}
    assert course.overridden_by == physician and course.override_reason.startswith("Discussed")


def test_ceruloplasmin_under_6_months_is_stopped_and_has_no_dose_to_override(
    formulary, physician, ward, today
):
    infant = _patient(today, ward, age={"months": 5})
    with pytest.raises(ValidationError) as error:
        prescribe(
            infant, "ceruloplasmin-child-purulent-surgical", physician, today, phases=[{"count": 7}]
        )
    assert any("[age]" in m and "6 months" in m for m in error.value.message_dict["hard_stops"])
    # The label gives no dose under 6 months, so an override cannot invent one.
    with pytest.raises(ValidationError) as error:
        prescribe(
            infant,
            "ceruloplasmin-child-purulent-surgical",
            physician,
            today,
            phases=[{"count": 7}],
            override_reason="Specialist advice",
        )
    assert "patient" in error.value.message_dict and Course.objects.count() == 0


def test_every_reason_is_listed_at_once(formulary, physician, ward, today):
    subject = _patient(
        today,
        ward,
        protein_drug_allergy=True,
        septic_shock=True,
        severe_fever=True,
        pregnant=True,
        pregnancy_trimester=1,
    )
    # Betaleukin's leaflet names "hypersensitivity to the drug" (line 40): the allergy recorded
    # against Betaleukin stops it; the protein-drug class alone is a warning for Betaleukin.
    subject.drug_allergies.add(Product.objects.get(code="betaleukin"))
    with pytest.raises(ValidationError) as error:
        prescribe(
            subject,
            "betaleukin-immunodeficiency-iv",
            physician,
            today,
            phases=[{"dose": "9", "cycles": 1}],
            infusion_minutes=60,
        )
    codes = {m.split("]")[0][1:] for m in error.value.message_dict["hard_stops"]}
    assert codes == {
        "hypersensitivity",
        "pregnancy",
        "septic_shock",
        "severe_fever",
        "dose_range",
        "infusion_time",
    }


def test_only_a_physician_may_override(formulary, roles, ward, today):
    from config.roles import Role
    from tests.factories import UserFactory

    pharmacist = UserFactory(roles=[Role.PHARMACIST])
    with pytest.raises(ValidationError) as error:
        prescribe(
            _patient(today, ward, lactating=True),
            "biocerulin-general",
            pharmacist,
            today,
            phases=[{"pattern": DAILY, "dose": "100"}],
            override_reason="I think it is fine",
        )
    assert "override_reason" in error.value.message_dict


def test_course_total_range_edges(formulary, physician, ward, today):
    # Biocerulin "The total dose is 300-500 mg": 5 × 60 = 300 and 5 × 100 = 500 pass.
    for dose in ("60", "100"):
        prescribe(
            _patient(today, ward),
            "biocerulin-general",
            physician,
            today,
            phases=[{"pattern": DAILY, "dose": dose}],
        )
    with pytest.raises(ValidationError) as error:
        prescribe(
            _patient(today, ward),
            "biocerulin-general",
            physician,
            today,
            phases=[{"pattern": DAILY, "dose": "100", "count": 6}],
        )
    assert any("[course_total]" in m for m in error.value.message_dict["hard_stops"])


@pytest.mark.parametrize(
    ("bounds", "dose", "text"),
    [
        ({"course_total_min": None, "course_total_max": 400}, "100", "maximum of 400 mg"),
        ({"course_total_min": 450, "course_total_max": None}, "80", "minimum of 450 mg"),
    ],
)
def test_course_total_with_one_bound_names_it(
    formulary, physician, ward, today, bounds, dose, text
):
    Protocol.objects.filter(code="biocerulin-general").update(**bounds)
    with pytest.raises(ValidationError) as error:
        prescribe(
            _patient(today, ward),
            "biocerulin-general",
            physician,
            today,
            phases=[{"pattern": DAILY, "dose": dose}],
        )
    stops = [m for m in error.value.message_dict["hard_stops"] if m.startswith("[course_total]")]
    assert len(stops) == 1 and f"outside the label's {text}." in stops[0]


def test_dose_range_edges_pass(formulary, physician, ward, today):
    for dose in ("1.5", "6"):
        prescribe(
            _patient(today, ward),
            "ceruloplasmin-postop",
            physician,
            today,
            phases=[{"dose": dose, "count": 7}],
        )


# --- Warnings -----------------------------------------------------------------------------------


def test_warnings_are_returned_and_stored(formulary, physician, ward, today):
    subject = _patient(today, ward, sodium_controlled_diet=True, high_dose_corticosteroids=True)
    course = prescribe(
        subject, "biocerulin-general", physician, today, phases=[{"pattern": DAILY, "dose": "80"}]
    )
    codes = {w["code"] for w in course.warnings}
    assert codes == {"sodium_diet", "corticosteroids", "no_mixing", "infusion_rate_reactions"}
    assert course.diluent == "nacl_0_9"  # steroids: 0.9% NaCl by default, not glucose
    chosen = prescribe(
        subject,
        "biocerulin-general",
        physician,
        today,
        phases=[{"pattern": DAILY, "dose": "80"}],
        diluent="glucose_5",
    )
    steroid = next(w for w in chosen.warnings if w["code"] == "corticosteroids")
    assert "chosen diluent is 5% glucose" in steroid["message"]


def test_unknown_wbc_warns_and_old_weight_warns(formulary, physician, ward, today):
    subject = PatientFactory(ward=ward, weight_kg=80, weight_kg__on=today - dt.timedelta(days=45))
    course = prescribe(
        subject,
        "betaleukin-leukopoiesis-support-sc",
        physician,
        today,
        phases=[{"dose": "15", "cycles": 1}],
    )
    assert {"wbc_unknown", "weight_old", "expected_fever"} <= {w["code"] for w in course.warnings}
    assert course.weight_kg == D(80)


# --- Bad input (not overridable) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kwargs", "field"),
    [
        ("ceruloplasmin-postop", {"phases": [{"count": 7}]}, "phases.0.dose"),
        (
            "ceruloplasmin-preop-oncology",
            {"phases": [{"dose": "2", "pattern": {"kind": "x"}}]},
            "phases.0.pattern",
        ),
        (
            "ceruloplasmin-chemotherapy",
            {"phases": [{"dose": "4", "count": 10, "weekdays": [0, 2]}]},
            "phases.0.weekdays",
        ),
        ("ceruloplasmin-child-posthaemorrhagic", {}, "anchors.surgery"),
        (
            "ceruloplasmin-child-toxic-anaemia",
            {"anchors": {"chemotherapy_dates": ["2025-13-01"]}},
            "anchors.chemotherapy_dates",
        ),
    ],
)
def test_structural_errors_name_the_field(formulary, physician, ward, today, code, kwargs, field):
    subject = _patient(today, ward, age={"years": 4} if "child" in code else None)
    with pytest.raises(ValidationError) as error:
        prescribe(subject, code, physician, today, **kwargs)
    assert field in error.value.message_dict
    assert Course.objects.count() == 0


def test_per_kg_course_needs_a_weight_and_start_not_in_the_past(formulary, physician, ward, today):
    with pytest.raises(ValidationError) as error:
        prescribe(
            PatientFactory(ward=ward, weight_kg=False),
            "ceruloplasmin-postop",
            physician,
            today,
            phases=[{"dose": "2", "count": 7}],
        )
    assert "weight_kg" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        prescribe(
            _patient(today, ward),
            "ceruloplasmin-postop",
            physician,
            today,
            phases=[{"dose": "2", "count": 7}],
            start_date=today - dt.timedelta(1),
        )
    assert "start_date" in error.value.message_dict
