"""How a dose reads on a page: its status colour, its containers and its preparation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from courses import selectors
from courses.models import Dose, DoseStatus
from courses.preparation import amount_text, display_unit
from courses.schedule import local_date
from courses.units import UNIT_LABELS, Mass

STATUS_LABELS = {
    "planned": gettext_lazy("Planned"),
    "due": gettext_lazy("Due"),
    "overdue": gettext_lazy("Overdue"),
    **{value: label for value, label in DoseStatus.choices},
}


def dose_status(dose: Dose, *, now: dt.datetime, today: dt.date) -> str:
    """A recorded dose keeps its status; a scheduled one is overdue once past its time by more
    than the on-time window dose_administer allows without a reason, due on its day, else
    planned."""
    if dose.status != DoseStatus.SCHEDULED:
        return dose.status
    if now > dose.scheduled_at + selectors.on_time_window():
        return "overdue"
    if local_date(dose.scheduled_at, dose.course.time_zone) <= today:
        return "due"
    return "planned"


def age_text(months: int) -> str:
    """Completed months as a ward says it: months under two years, else years."""
    if months < 24:
        return ngettext("%(count)d month", "%(count)d months", months) % {"count": months}
    years = months // 12
    return ngettext("%(count)d year", "%(count)d years", years) % {"count": years}


def mass_text(amount, unit: str, shown_in: str | None = None) -> str:
    """'1.05 µg' ('1,05 мкг' on a Ukrainian page): sensible precision, in `shown_in` when given
    (a dose's waste in its unit). The API keeps `amount_text`'s point and English unit."""
    number, _space, label = amount_text(Mass(amount, unit), shown_in).partition(" ")
    return f"{decimal_text(number)} {_(label)}"


def best_unit_text(mass: Mass) -> str:
    """`str(mass.best_unit())` ('36.15 mg', unrounded: what the prescriber will see dispensed)
    with the page's decimal separator and unit ('36,15 мг')."""
    shown = mass.best_unit()
    return f"{decimal_text(shown.amount)} {_(UNIT_LABELS[shown.unit])}"


def decimal_text(value) -> str:
    """A decimal as the page's language writes it (decimal comma in Ukrainian)."""
    return number_format(Decimal(str(value)))


def vials_text(dose: Dose, prep: dict) -> str:
    """'1 × 1 µg ampoule + 1 × 0.5 µg ampoule (0.1 µg waste)': containers to take out, the
    waste in the dose's own unit."""
    text = " + ".join(line["text"] for line in prep["containers"])
    if dose.waste_amount:
        unit = display_unit(Mass(dose.amount, dose.amount_unit))
        waste = mass_text(dose.waste_amount, dose.amount_unit, unit)
        text += " " + _("(%(amount)s waste)") % {"amount": waste}
    return text


def give_text(prep: dict) -> str:
    """The line a nurse acts on: what volume goes into the patient, and how."""
    give = prep["give_volume_ml"]
    if prep["route"] == "iv_infusion":
        if prep["infusion_minutes"]:
            return _("Give the whole bag: %(volume)s ml over %(minutes)s min") % {
                "volume": decimal_text(give),
                "minutes": prep["infusion_minutes"],
            }
        return _("Give the whole bag: %(volume)s ml over 120–180 min as prescribed") % {
            "volume": decimal_text(give)
        }
    if prep["route"] == "sc":
        return _("Inject %(volume)s ml subcutaneously") % {"volume": decimal_text(give)}
    return _("Give %(volume)s ml of %(total)s ml at %(rate)s drops/min") % {
        "volume": decimal_text(give),
        "total": decimal_text(prep["final_volume_ml"]),
        "rate": prep["drip_rate_drops_per_min"],
    }


@dataclass
class DoseRow:
    dose: Dose
    status: str
    amount: str
    vials: str
    prep: dict
    give: str
    given_amount: str = ""
    lots: list[dict] = field(default_factory=list)
    suggested_lot: str = ""
    suggestion: dict | None = None
    can_record: bool = False
    errors: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


def dose_rows(
    doses, *, now: dt.datetime, today: dt.date, presentations: dict, stock: list | None = None
) -> list[DoseRow]:
    rows, memo = [], {}
    for dose in doses:
        prep = selectors.dose_preparation(
            dose, presentations=presentations, stock=stock, page=True, memo=memo
        )
        unit = display_unit(Mass(dose.amount, dose.amount_unit))
        rows.append(
            DoseRow(
                dose=dose,
                status=dose_status(dose, now=now, today=today),
                amount=mass_text(dose.amount, dose.amount_unit, unit),
                vials=vials_text(dose, prep),
                prep=prep,
                give=give_text(prep),
                given_amount=(
                    mass_text(dose.given_amount, dose.amount_unit, unit)
                    if dose.given_amount is not None
                    else ""
                ),
            )
        )
    return rows
