import copy
import re
from decimal import Decimal
from pathlib import Path

import pytest

from courses import formulary
from courses.models import Protocol
from courses.services import formulary_load
from inventory.models import Presentation, Product

LEAFLETS = Path(__file__).resolve().parents[2] / "courses" / "leaflets"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


@pytest.fixture
def loaded(db):
    return formulary_load()


def test_load_creates_every_product_presentation_and_protocol(loaded):
    assert Product.objects.count() == 3
    assert Presentation.objects.count() == 7
    counts = {p.code: p.protocols.count() for p in Product.objects.all()}
    assert counts == {"biocerulin": 7, "ceruloplasmin": 12, "betaleukin": 6}
    assert Protocol.objects.count() == len(formulary.PROTOCOLS) == 25
    assert all(p.phases.exists() for p in Protocol.objects.all())


def test_second_load_changes_nothing(loaded):
    before = {p.code: p.updated_at for p in Protocol.objects.all()}
    report = formulary_load()
    assert report.created == [] and report.updated == []
    assert report.unchanged == len(loaded.created)
    assert {p.code: p.updated_at for p in Protocol.objects.all()} == before


def test_changed_leaflet_entry_updates_in_place(loaded):
    protocols = copy.deepcopy(formulary.PROTOCOLS)
    entry = next(p for p in protocols if p["code"] == "ceruloplasmin-postop")
    entry["phases"][0]["dose_max"] = "5.5"
    entry["leaflet_section"] = "Dosing and administration, ¶3 (revised)"
    pk = Protocol.objects.get(code="ceruloplasmin-postop").pk

    report = formulary_load(protocols=protocols)

    protocol = Protocol.objects.get(code="ceruloplasmin-postop")
    assert protocol.pk == pk
    assert protocol.leaflet_section.endswith("(revised)")
    assert protocol.phases.get().dose_max == Decimal("5.5")
    assert len(report.updated) == 2 and report.created == []


def test_removed_phase_is_deleted_on_reload(loaded):
    protocols = copy.deepcopy(formulary.PROTOCOLS)
    entry = next(p for p in protocols if p["code"] == "biocerulin-osteomyelitis-chronic")
    entry["phases"] = entry["phases"][:1]
    formulary_load(protocols=protocols)
    assert Protocol.objects.get(code="biocerulin-osteomyelitis-chronic").phases.count() == 1


@pytest.mark.parametrize("entry", formulary.PROTOCOLS, ids=lambda e: e["code"])
def test_every_quote_is_in_its_leaflet(entry):
    """Each protocol's quoted words (pieces between '…') appear verbatim in the cited leaflet."""
    text = _norm((LEAFLETS / entry["leaflet_file"]).read_text())
    for piece in entry["leaflet_quote"].split("…"):
        assert _norm(piece) in text, piece


def _phase(code, order=1):
    return Protocol.objects.get(code=code).phases.get(order=order)


def test_biocerulin_sample_against_leaflet(loaded):
    general = Protocol.objects.get(code="biocerulin-general")
    assert general.leaflet_file == "000_8232d45ecd8856fc.txt"
    assert (general.course_total_min, general.course_total_max) == (Decimal(300), Decimal(500))
    assert general.route == "iv_drip" and general.drip_rate_drops_per_min == 30
    assert general.diluent_volume_ml == Decimal(200)
    assert set(general.diluent_options) == {"glucose_5", "nacl_0_9"}
    assert general.min_age_months == 216  # "should not be prescribed" to children
    assert general.pregnancy_trimesters_allowed == [] and general.lactation_allowed is False
    phase = general.phases.get()
    assert (phase.dose_min, phase.dose_max, phase.dose_unit) == (Decimal(60), Decimal(100), "mg")
    assert phase.patterns == [{"kind": "daily"}, {"kind": "every_n_days", "n": 2}]
    assert (phase.count_min, phase.count_max) == (5, 5)

    chemo = _phase("biocerulin-chemotherapy")
    assert (chemo.dose_min, chemo.dose_max, chemo.dose_unit) == (
        Decimal(1),
        Decimal("1.5"),
        "mg/kg",
    )
    assert chemo.patterns == [{"kind": "per_week", "k": 3}]
    assert (chemo.count_min, chemo.count_max) == (10, 14)

    loading, continuation = (
        _phase("biocerulin-osteomyelitis-chronic", 1),
        _phase("biocerulin-osteomyelitis-chronic", 2),
    )
    assert (loading.dose_min, loading.count_min, loading.count_max) == (Decimal(2), 2, 3)
    assert {p["n"] for p in loading.patterns} == {2, 3}  # 1-2 dose-free days between doses
    assert (continuation.dose_min, continuation.count_min, continuation.count_max) == (
        Decimal(1),
        3,
        7,
    )
    assert continuation.patterns == [{"kind": "every_n_days", "n": 2}]
    product = Product.objects.get(code="biocerulin")
    assert product.sodium_mg_per_dose == Decimal(46) and product.keep_dry is True
    assert (product.storage_min_c, product.storage_max_c) == (Decimal(2), Decimal(8))


def test_ceruloplasmin_sample_against_leaflet(loaded):
    chemo = _phase("ceruloplasmin-chemotherapy")  # differs from Biocerulin's 1-1.5 mg/kg
    assert (chemo.dose_min, chemo.dose_max, chemo.dose_unit) == (Decimal(4), Decimal(6), "mg/kg")
    assert (chemo.count_min, chemo.count_max) == (10, 14)
    postop = _phase("ceruloplasmin-postop")
    assert (postop.dose_min, postop.dose_max, postop.count_min, postop.count_max) == (
        Decimal("1.5"),
        Decimal(6),
        7,
        10,
    )
    assert postop.patterns == [{"kind": "daily"}]

    child = Protocol.objects.get(code="ceruloplasmin-child-posthaemorrhagic")
    assert (child.min_age_months, child.max_age_months) == (6, 216)
    assert child.anchors == ["surgery"]
    phase = child.phases.get()
    assert phase.dose_basis == "age_band"
    assert [(b["min_months"], b["max_months"], b["dose"]) for b in phase.age_bands] == [
        (6, 12, "50"),
        (12, 156, "100"),
        (156, 216, "200"),
    ]
    assert phase.patterns[0]["offsets"] == [-2, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert (phase.count_min, phase.count_max) == (11, 11)

    pregnancy = Protocol.objects.get(code="ceruloplasmin-pregnancy-anaemia")
    assert pregnancy.requires_pregnancy and pregnancy.pregnancy_trimesters_allowed == [2, 3]
    assert pregnancy.lactation_allowed is False
    assert (pregnancy.phases.get().dose_min, pregnancy.phases.get().count_min) == (Decimal(100), 5)
    assert Product.objects.get(code="ceruloplasmin").shelf_life_months == 24


def test_betaleukin_sample_against_leaflet(loaded):
    iv = Protocol.objects.get(code="betaleukin-leukopoiesis-toxic-iv")
    assert iv.leaflet_file == "002_9eae8ef8f93c6d59.txt"
    assert (iv.route, iv.infusion_minutes_min, iv.infusion_minutes_max) == ("iv_infusion", 120, 180)
    assert iv.diluent_volume_ml == Decimal(500)
    phase = iv.phases.get()
    assert (phase.dose_min, phase.dose_max, phase.dose_unit) == (Decimal(15), Decimal(20), "ng/kg")
    assert phase.patterns == [{"kind": "cycles", "on_days": 5, "rest_days": 14}]
    assert phase.cycles_min == 1
    immune = _phase("betaleukin-immunodeficiency-sc")  # "5.8 ng/kg" read as 5-8 ng/kg
    assert (immune.dose_min, immune.dose_max) == (Decimal(5), Decimal(8))
    support = Protocol.objects.get(code="betaleukin-leukopoiesis-support-iv")
    assert support.min_wbc_10e9_per_l == Decimal(3)  # "3h109/l" read as 3x10^9/L
    product = Product.objects.get(code="betaleukin")
    assert (product.storage_min_c, product.storage_max_c) == (None, Decimal(15))
    # Lines 40–42: "hypersensitivity to the drug; septic shock; severe fever".
    assert set(product.contraindications) == {
        "hypersensitivity_to_drug",
        "septic_shock",
        "severe_fever",
    }
    # "0.05 mg - - 0.5 mg - - 1 mg" read as µg (design.md), pack of 5 ampoules.
    strengths = sorted(
        (p.strength, p.strength_unit, p.pack_size) for p in product.presentations.all()
    )
    assert strengths == [
        (Decimal("0.05"), "ug", 5),
        (Decimal("0.5"), "ug", 5),
        (Decimal(1), "ug", 5),
    ]


def test_load_command_is_idempotent(db, roles):
    from io import StringIO

    from django.core.management import call_command

    first, second = StringIO(), StringIO()
    call_command("load_formulary", stdout=first)
    call_command("load_formulary", stdout=second)
    assert "62 created" in first.getvalue()
    assert "0 created, 0 updated, 62 unchanged" in second.getvalue()


def test_protocol_save_validates_each_phase_and_writes_nothing_on_error(loaded):
    from django.core.exceptions import ValidationError
    from django.forms.models import model_to_dict

    from courses.services import protocol_save

    source = Protocol.objects.get(code="ceruloplasmin-postop")
    fields = model_to_dict(source, exclude=["id", "product"]) | {
        "product": source.product,
        "code": "local-zero",
    }
    phase = model_to_dict(source.phases.get(), exclude=["id", "protocol", "order"])
    with pytest.raises(ValidationError) as error:
        protocol_save(protocol=None, fields=fields, phases=[{**phase, "count_min": 0}])
    assert "phases.0.count_min" in error.value.message_dict
    assert not Protocol.objects.filter(code="local-zero").exists()
