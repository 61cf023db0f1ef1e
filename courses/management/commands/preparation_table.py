"""Print, as a Markdown table, one example dose of every protocol in the formulary with the
containers to open, the volume to give and the volume to discard (courses/preparation.py).

Reads `courses/formulary.py` only (no database): the example is the first phase's upper dose
for a 70 kg adult, or the 6–12 months band (50 mg) for the children's protocols.
"""

from decimal import Decimal

from django.core.management.base import BaseCommand

from courses import formulary, preparation_text
from courses.dosing import Strength, dose_amount, vials_for
from courses.models import Diluent
from courses.preparation import Opened, amount_text, preparation_for
from courses.preparation_text import english_name
from courses.units import Mass

WEIGHT_KG = Decimal(70)
INFANT_MONTHS = 8


def _strengths(product: str) -> list[tuple[Strength, str]]:
    rows = [p for p in formulary.PRESENTATIONS if p["product"] == product]
    rows.sort(key=lambda p: (p["container"] != "vial", Decimal(p["strength"])))
    return [
        (
            Strength(p["code"], Mass(Decimal(p["strength"]), p["strength_unit"]), p["code"]),
            p["container"],
        )
        for p in rows
    ]


def example(protocol: dict) -> dict:
    phase = protocol["phases"][0]
    if phase["dose_basis"] == "age_band":
        dose = dose_amount(
            basis="age_band", unit="mg", age_months=INFANT_MONTHS, bands=phase["age_bands"]
        )
        who = f"{INFANT_MONTHS} months"
    else:
        dose = dose_amount(
            basis=phase["dose_basis"],
            unit=phase["dose_unit"],
            value=Decimal(phase["dose_max"]),
            weight_kg=WEIGHT_KG,
        )
        who = (
            f"{phase['dose_max']} {phase['dose_unit'].replace('ug', 'µg')} × 70 kg"
            if phase["dose_basis"] == "per_kg"
            else "adult"
        )
    strengths = _strengths(protocol["product"])
    containers = dict(strengths)
    plan = vials_for(dose, [s for s, _ in strengths])
    prep = preparation_for(
        product=protocol["product"],
        route=protocol["route"],
        dose=dose,
        containers=[
            Opened(s.key, s.label, s.strength, containers[s], n) for s, n in plan.containers
        ],
        diluent=english_name(Diluent(protocol["diluent_options"][0]).label),
        diluent_volume_ml=Decimal(protocol["diluent_volume_ml"]),
        drip_rate_drops_per_min=protocol["drip_rate_drops_per_min"],
        infusion_minutes=protocol["infusion_minutes_min"],
    )
    data = prep.as_dict(preparation_text.API)
    give = f"{data['give_volume_ml']} ml"
    if protocol["route"] == "iv_infusion":
        give += f" (whole bag: {data['transfer_volume_ml']} ml of 100 ml into {data['diluent_volume_ml']} ml)"
    elif protocol["route"] == "iv_drip":
        give += f" of {data['final_volume_ml']} ml"
    else:
        give += f" of {data['final_volume_ml']} ml ({prep.solvent_ml_per_container} ml per ampoule)"
    return {
        "code": protocol["code"],
        "dose": f"{amount_text(dose)} ({who})",
        "containers": " + ".join(c["text"] for c in data["containers"]),
        "give": give,
        "discard": f"{data['discard_volume_ml']} ml",
        "note": data["rounding_note"],
    }


class Command(BaseCommand):
    help = "Markdown table: every protocol × one example dose → containers, give, discard."

    def handle(self, *args, **options):
        self.stdout.write("| protocol | example dose | containers | volume to give | discard |")
        self.stdout.write("|---|---|---|---|---|")
        for protocol in formulary.PROTOCOLS:
            row = example(protocol)
            note = f" — {row['note']}" if row["note"] else ""
            self.stdout.write(
                f"| {row['code']} | {row['dose']} | {row['containers']} | {row['give']}{note} "
                f"| {row['discard']} |"
            )
