"""Print, as a Markdown table, one example dose of every protocol in the formulary with the
containers to open, the volume to give and the volume to discard (courses/preparation.py).

Reads `courses/formulary.py` only (no database): the example is the first phase's upper dose
for a 70 kg adult, or the 6–12 months band (50 mg) for the children's protocols.

Written in the active language (`LANGUAGE_CODE`, or `translation.override`), numbers with the
decimal point as the API writes them: the table is a document, golden in English
(tests/courses/golden/preparation_table.md).
"""

from decimal import Decimal

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from courses import formulary, preparation_text
from courses.dosing import Strength, dose_amount, vials_for
from courses.findings import unit_label
from courses.models import Diluent
from courses.preparation import Opened, amount, preparation_for
from courses.preparation_text import english_name
from courses.units import Mass
from courses.views.display import age_text

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
        who = age_text(INFANT_MONTHS)
    else:
        dose = dose_amount(
            basis=phase["dose_basis"],
            unit=phase["dose_unit"],
            value=Decimal(phase["dose_max"]),
            weight_kg=WEIGHT_KG,
        )
        who = (
            _("%(dose)s %(unit)s × %(weight)s kg")
            % {
                "dose": phase["dose_max"],
                "unit": unit_label(phase["dose_unit"].replace("ug", "µg")),
                "weight": WEIGHT_KG,
            }
            if phase["dose_basis"] == "per_kg"
            else _("adult")
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
    if protocol["route"] == "iv_infusion":
        give = _("%(give)s ml (whole bag: %(transfer)s ml of 100 ml into %(bag)s ml)") % {
            "give": data["give_volume_ml"],
            "transfer": data["transfer_volume_ml"],
            "bag": data["diluent_volume_ml"],
        }
    elif protocol["route"] == "iv_drip":
        give = _("%(give)s ml of %(total)s ml") % {
            "give": data["give_volume_ml"],
            "total": data["final_volume_ml"],
        }
    else:
        give = _("%(give)s ml of %(total)s ml (%(solvent)s ml per ampoule)") % {
            "give": data["give_volume_ml"],
            "total": data["final_volume_ml"],
            "solvent": prep.solvent_ml_per_container,
        }
    return {
        "code": protocol["code"],
        "mass": dose,
        "dose": f"{preparation_text.API(amount(dose))} ({who})",
        "containers": " + ".join(c["text"] for c in data["containers"]),
        "give": give,
        "discard": _("%(volume)s ml") % {"volume": data["discard_volume_ml"]},
        "note": data["rounding_note"],
    }


class Command(BaseCommand):
    help = "Markdown table: every protocol × one example dose → containers, give, discard."

    def handle(self, *args, **options):
        columns = (
            _("protocol"),
            _("example dose"),
            _("containers"),
            _("volume to give"),
            _("discard"),
        )
        self.stdout.write("| " + " | ".join(columns) + " |")
        self.stdout.write("|---|---|---|---|---|")
        for protocol in formulary.PROTOCOLS:
            row = example(protocol)
            note = f" — {row['note']}" if row["note"] else ""
            self.stdout.write(
                f"| {row['code']} | {row['dose']} | {row['containers']} | {row['give']}{note} "
                f"| {row['discard']} |"
            )
