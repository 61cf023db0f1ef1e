"""How a dose reads on a page: its status colour, its containers and its preparation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from courses import selectors
from courses.models import Dose, DoseStatus
from courses.preparation import amount_text, display_unit
from courses.schedule import local_date
from courses.units import Mass

STATUS_LABELS = {
    "planned": "Planned",
    "due": "Due",
    "overdue": "Overdue",
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
        return f"{months} month{'s' if months != 1 else ''}"
    return f"{months // 12} years"


def mass_text(amount, unit: str, shown_in: str | None = None) -> str:
    """'1.05 µg': sensible precision, in `shown_in` when given (a dose's waste in its unit)."""
    return amount_text(Mass(amount, unit), shown_in)


def vials_text(dose: Dose, prep: dict) -> str:
    """'1 × 1 µg ampoule + 1 × 0.5 µg ampoule (0.1 µg waste)': containers to take out, the
    waste in the dose's own unit."""
    text = " + ".join(line["text"] for line in prep["containers"])
    if dose.waste_amount:
        unit = display_unit(Mass(dose.amount, dose.amount_unit))
        text += f" ({mass_text(dose.waste_amount, dose.amount_unit, unit)} waste)"
    return text


def give_text(prep: dict) -> str:
    """The line a nurse acts on: what volume goes into the patient, and how."""
    give = prep["give_volume_ml"]
    if prep["route"] == "iv_infusion":
        rate = (
            f"over {prep['infusion_minutes']} min"
            if prep["infusion_minutes"]
            else "over 120–180 min as prescribed"
        )
        return f"Give the whole bag: {give} ml {rate}"
    if prep["route"] == "sc":
        return f"Inject {give} ml subcutaneously"
    return f"Give {give} ml of {prep['final_volume_ml']} ml at {prep['drip_rate_drops_per_min']} drops/min"


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
    rows = []
    for dose in doses:
        prep = selectors.dose_preparation(dose, presentations=presentations, stock=stock)
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
