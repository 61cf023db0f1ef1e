"""How a dose reads on a page: its status colour, its containers and its preparation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from courses import selectors
from courses.models import Dose, DoseStatus
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


def mass_text(amount, unit: str) -> str:
    return str(Mass(amount, unit).best_unit())


def vials_text(dose: Dose, presentations: dict) -> str:
    """'2 × 100 mg vial (60 mg waste)': what to take out of the fridge for this dose."""
    parts = []
    for line in dose.vials:
        presentation = presentations.get(line["presentation_id"])
        container = presentation.get_container_display().lower() if presentation else "container"
        parts.append(f"{line['count']} × {line['strength']} {container}")
    text = " + ".join(parts)
    if dose.waste_amount:
        text += f" ({mass_text(dose.waste_amount, dose.amount_unit)} waste)"
    return text


def preparation_text(dose: Dose) -> list[str]:
    """Diluent and volume, drip rate or infusion time, route: one short line each."""
    prep = selectors.dose_preparation(dose)
    lines = [prep["route_label"]]
    if prep["diluent_label"]:
        volume = prep["diluent_volume_ml"]
        lines.append(
            f"in {volume.normalize():f} ml {prep['diluent_label']}"
            if volume
            else prep["diluent_label"]
        )
    if prep.get("dose_volume_ml"):
        lines.append(f"add {prep['dose_volume_ml']} ml of the 100 ml solution")
    if prep["drip_rate_drops_per_min"]:
        lines.append(f"{prep['drip_rate_drops_per_min']} drops/min")
    if prep["infusion_minutes"]:
        lines.append(f"over {prep['infusion_minutes']} min")
    return lines


@dataclass
class DoseRow:
    dose: Dose
    status: str
    amount: str
    vials: str
    preparation: list[str]
    lots: list[dict] = field(default_factory=list)
    suggested_lot: str = ""
    can_record: bool = False
    errors: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


def dose_rows(doses, *, now: dt.datetime, today: dt.date, presentations: dict) -> list[DoseRow]:
    return [
        DoseRow(
            dose=dose,
            status=dose_status(dose, now=now, today=today),
            amount=mass_text(dose.amount, dose.amount_unit),
            vials=vials_text(dose, presentations),
            preparation=preparation_text(dose),
        )
        for dose in doses
    ]
