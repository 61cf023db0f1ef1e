"""Forms of the ward and prescribing pages. They parse and validate input; services decide."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.forms import service_errors_to_form
from courses import selectors
from courses.models import CourseStatus, Diluent, DoseStatus, Patient
from courses.preparation_text import PAGE, pattern_text
from courses.schedule import WEEKDAYS, Pattern
from courses.services import PATIENT_FIELDS

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
NOTE_INPUT = forms.Textarea(attrs={"rows": 2})


def _number(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


# --- Today: recording a dose ---------------------------------------------------------------------

RECORD_ACTIONS = [
    (DoseStatus.GIVEN, gettext_lazy("Given")),
    (DoseStatus.HELD, gettext_lazy("Held")),
    (DoseStatus.REFUSED, gettext_lazy("Refused")),
    (DoseStatus.MISSED, gettext_lazy("Missed")),
]


REPLACE_CHOICES = [("yes", gettext_lazy("Re-add it at the end")), ("no", gettext_lazy("Drop it"))]


class DoseRecordForm(forms.Form):
    """One click on a Today row: given (with the scanned lot) or held/refused/missed (a reason)."""

    dose = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    action = forms.ChoiceField(label=gettext_lazy("Record as"), choices=RECORD_ACTIONS)
    lot_number = forms.CharField(
        label=gettext_lazy("Lot"), required=False, max_length=40, strip=True
    )
    given_time = forms.TimeField(label=gettext_lazy("Given at"), required=False, widget=TIME_INPUT)
    reason = forms.CharField(
        label=gettext_lazy("Reason"), required=False, max_length=2000, strip=True
    )
    # Held / refused / missed: re-add the dose at the end or drop it. Nothing is preselected;
    # the service refuses a not-given record without the answer (issue 11).
    replace = forms.ChoiceField(
        label=gettext_lazy("If held / refused / missed"), required=False, choices=REPLACE_CHOICES
    )

    def replace_answer(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("replace") or "")


# --- Course actions ------------------------------------------------------------------------------

COURSE_ACTIONS = ("hold", "resume", "cancel")


class CourseActionForm(forms.Form):
    action = forms.ChoiceField(
        label=gettext_lazy("Action"), choices=[(a, a) for a in COURSE_ACTIONS]
    )
    on = forms.DateField(label=gettext_lazy("On"), required=False, widget=DATE_INPUT)
    reason = forms.CharField(
        label=gettext_lazy("Reason"), required=False, max_length=2000, strip=True, widget=NOTE_INPUT
    )


# --- Course list filters -------------------------------------------------------------------------


class CourseFilterForm(forms.Form):
    q = forms.CharField(required=False, label=gettext_lazy("Patient (name or MRN)"), max_length=100)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any status")), *CourseStatus.choices],
    )
    ward = forms.ChoiceField(label=gettext_lazy("Ward"), required=False)
    product = forms.ChoiceField(label=gettext_lazy("Product"), required=False)

    def __init__(self, *args, wards, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ward"].choices = [
            ("", gettext_lazy("All wards")),
            *((w.code, w.name) for w in wards),
        ]
        self.fields["product"].choices = [("", gettext_lazy("All products")), *products]


# --- Prescribing -------------------------------------------------------------------------------


# The formulary's anchor dates (courses/formulary.py), as the prescribing form names them.
ANCHOR_LABELS = {
    "surgery": gettext_lazy("Surgery date"),
    "chemotherapy_dates": gettext_lazy("Chemotherapy dates"),
    "procedure_dates": gettext_lazy("Procedure dates"),
    "radiotherapy_start": gettext_lazy("Radiotherapy start"),
    "radiotherapy_end": gettext_lazy("Radiotherapy end"),
}


def anchor_kinds(protocol) -> dict[str, bool]:
    """The anchor dates the protocol's patterns use: name -> True when it is a list of dates."""
    kinds: dict[str, bool] = {}
    for phase in protocol.phases.all():
        for spec in phase.patterns:
            pattern = Pattern.from_dict(spec)
            for name in pattern.anchor_names:
                kinds[name] = pattern.kind == "dates"
    return kinds


def phase_ranges(protocol) -> list[dict]:
    """The label's allowed ranges per phase, as the form shows them next to the inputs."""
    ranges = []
    for phase in protocol.phases.all():
        unit = phase.get_dose_unit_display()
        if phase.dose_basis == "age_band":
            dose = "; ".join(
                _("%(low)s–%(high)s months: %(dose)s %(unit)s")
                % {
                    "low": b["min_months"],
                    "high": b["max_months"],
                    "dose": b["dose"],
                    "unit": unit,
                }
                for b in phase.age_bands
            )
        elif phase.dose_min == phase.dose_max:
            dose = f"{_number(phase.dose_min)} {unit}"
        else:
            dose = f"{_number(phase.dose_min)}–{_number(phase.dose_max)} {unit}"
        if phase.count_max is None:
            count = _("at least %(count)s") % {"count": phase.count_min}
        elif phase.count_min == phase.count_max:
            count = str(phase.count_min)
        else:
            count = f"{phase.count_min}–{phase.count_max}"
        cycles = ""
        if phase.cycles_min is not None:
            cycles = (
                f"{phase.cycles_min}–{phase.cycles_max}"
                if phase.cycles_max
                else _("%(count)s or more") % {"count": phase.cycles_min}
            )
        ranges.append(
            {
                "order": phase.order,
                "name": phase.name,
                "dose": dose,
                "count": count,
                "cycles": cycles,
                "patterns": [pattern_text(spec) for spec in phase.patterns],
            }
        )
    return ranges


class PrescribeForm(forms.Form):
    """Patient, protocol and the prescriber's choices; the fields below the protocol depend on it.

    Phase fields are `phase<i>_<choice>` and anchors `anchor_<name>`, so that the service's error
    keys (`phases.0.count`, `anchors.surgery`) land next to the input they are about.
    """

    patient = forms.ModelChoiceField(label=gettext_lazy("Patient"), queryset=Patient.objects.none())
    protocol = forms.ChoiceField(label=gettext_lazy("Protocol"))
    start_date = forms.DateField(label=gettext_lazy("Start date"), widget=DATE_INPUT)
    administration_time = forms.TimeField(
        initial=dt.time(10, 0), widget=TIME_INPUT, label=gettext_lazy("Administration time")
    )
    diluent = forms.ChoiceField(label=gettext_lazy("Diluent"), required=False)
    drip_rate_drops_per_min = forms.IntegerField(
        required=False, min_value=1, max_value=200, label=gettext_lazy("Drip rate (drops/min)")
    )
    infusion_minutes = forms.IntegerField(
        required=False, min_value=1, max_value=1440, label=gettext_lazy("Infusion time (min)")
    )
    override_reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=NOTE_INPUT,
        label=gettext_lazy("Override reason"),
        help_text=gettext_lazy("Only to override a hard stop (physicians); kept on the course."),
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, max_length=2000, widget=NOTE_INPUT
    )

    def __init__(self, *args, user, protocol=None, find: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.protocol = protocol
        patient = self.fields["patient"]
        patient.queryset = selectors.patients_visible(user)  # what may be chosen (validation)
        patient.label_from_instance = lambda p: (
            _("%(name)s · MRN %(mrn)s · %(ward)s")
            % {
                "name": p.name,
                "mrn": p.mrn,
                "ward": p.ward,
            }
        )
        self._list_patients(patient, find=find.strip())

        self.fields["protocol"].choices = [
            ("", gettext_lazy("Choose a protocol…")),
            *(
                (
                    product,
                    [
                        (p.code, f"{_(p.indication)} ({p.get_route_display()})")  # by msgid
                        for p in items
                    ],
                )
                for product, items in selectors.protocols_by_product()
            ),
        ]
        self.fields["protocol"].widget.attrs["data-reload"] = "load"
        self.phase_fields: list[dict] = []
        self.anchor_fields: list[str] = []
        if protocol is None:
            for name in ("diluent", "drip_rate_drops_per_min", "infusion_minutes"):
                del self.fields[name]
            return
        self._add_protocol_fields(protocol)

    def _list_patients(self, field, *, find: str) -> None:
        """The patients the list offers: all the user may see while there are at most
        PRESCRIBE_PATIENTS_LISTED; beyond that (a hospital's thousands, once 380 KB and 1.2 s of
        options) those found by name or MRN (`find`), else only the one already chosen.
        Choosing still accepts any patient the user may see."""
        limit = settings.PRESCRIBE_PATIENTS_LISTED
        shown = selectors.patients_matching(
            field.queryset.prefetch_related(None).select_related("ward"), find
        )
        rows = list(shown[: limit + 1])
        self.patients_find = find
        self.patients_limit = limit
        self.patients_too_many = len(rows) > limit
        if self.patients_too_many:
            rows = rows[:limit]
            if not find:
                chosen = str(self["patient"].value() or "")
                rows = list(shown.filter(pk=chosen)) if chosen.isdigit() else []
        self.patients_listed = len(rows)
        field.widget.choices = [("", field.empty_label)] + [
            (p.pk, field.label_from_instance(p)) for p in rows
        ]

    def _add_protocol_fields(self, protocol) -> None:
        labels = dict(Diluent.choices)
        self.fields["diluent"].choices = [
            ("", gettext_lazy("Label default")),
            *((code, labels.get(code, code)) for code in protocol.diluent_options),
        ]
        if protocol.drip_rate_drops_per_min is None:
            del self.fields["drip_rate_drops_per_min"]
        else:
            self.fields["drip_rate_drops_per_min"].help_text = _(
                "Label: %(rate)s drops/min (no faster)."
            ) % {"rate": protocol.drip_rate_drops_per_min}
        if protocol.infusion_minutes_min is None:
            del self.fields["infusion_minutes"]
        else:
            self.fields["infusion_minutes"].help_text = _("Label: %(low)s–%(high)s min.") % {
                "low": protocol.infusion_minutes_min,
                "high": protocol.infusion_minutes_max,
            }
        for name, is_list in anchor_kinds(protocol).items():
            key = f"anchor_{name}"
            label = ANCHOR_LABELS.get(name) or name.replace("_", " ").capitalize()
            self.fields[key] = (
                forms.CharField(
                    label=label,
                    help_text=gettext_lazy("Dates YYYY-MM-DD, separated by commas or spaces."),
                    max_length=2000,
                )
                if is_list
                else forms.DateField(label=label, widget=DATE_INPUT)
            )
            self.anchor_fields.append(key)
        for index, phase in enumerate(protocol.phases.all()):
            self.phase_fields.append(self._add_phase_fields(index, phase))

    def _add_phase_fields(self, index: int, phase) -> dict:
        prefix = f"phase{index}_"
        patterns = [Pattern.from_dict(spec) for spec in phase.patterns]
        names = {}
        if len(patterns) > 1:
            # The label leaves the choice to the prescriber: nothing is preselected.
            self.fields[prefix + "pattern"] = forms.ChoiceField(
                label=gettext_lazy("Schedule"),
                choices=[
                    ("", gettext_lazy("Choose a schedule…")),
                    *((str(i), pattern_text(p)) for i, p in enumerate(patterns)),
                ],
            )
            names["pattern"] = prefix + "pattern"
        if any(p.kind == "per_week" for p in patterns):
            self.fields[prefix + "weekdays"] = forms.TypedMultipleChoiceField(
                label=gettext_lazy("Weekdays"),
                required=False,
                coerce=int,
                choices=[(day, PAGE(name)) for day, name in enumerate(WEEKDAYS)],
                widget=forms.CheckboxSelectMultiple,
                help_text=gettext_lazy("Leave empty for days 1, 3, 5 of each week from the start."),
            )
            names["weekdays"] = prefix + "weekdays"
        if any(p.kind == "cycles" for p in patterns):
            # How many cycles is prescribed, never 1 by default.
            self.fields[prefix + "cycles"] = forms.IntegerField(
                label=gettext_lazy("Cycles"), min_value=1, max_value=50
            )
            names["cycles"] = prefix + "cycles"
        if any(not p.anchored and p.kind != "cycles" for p in patterns):
            self.fields[prefix + "count"] = forms.IntegerField(
                label=gettext_lazy("Injections"),
                min_value=1,
                max_value=500,
                required=phase.count_min != phase.count_max,
                initial=phase.count_min if phase.count_min == phase.count_max else None,
            )
            names["count"] = prefix + "count"
        if phase.dose_basis != "age_band":
            self.fields[prefix + "dose"] = forms.DecimalField(
                label=_("Dose (%(unit)s)") % {"unit": phase.get_dose_unit_display()},
                min_value=Decimal("0.001"),
                max_digits=10,
                decimal_places=3,
                initial=phase.dose_min if phase.dose_min == phase.dose_max else None,
            )
            names["dose"] = prefix + "dose"
        return {"phase": phase, "index": index, "names": names, "patterns": patterns}

    def phase_sections(self) -> list[dict]:
        """Each phase's allowed ranges with its bound fields, in order, for the template."""
        ranges = phase_ranges(self.protocol) if self.protocol else []
        return [
            {"range": allowed, "fields": [self[name] for name in spec["names"].values()]}
            for allowed, spec in zip(ranges, self.phase_fields, strict=True)
        ]

    def anchor_inputs(self) -> list:
        return [self[key] for key in self.anchor_fields]

    def preparation_inputs(self) -> list:
        names = ("diluent", "drip_rate_drops_per_min", "infusion_minutes")
        return [self[name] for name in names if name in self.fields]

    # --- input for the services ---

    def _anchor_value(self, key: str):
        value = self.cleaned_data.get(key)
        if isinstance(value, str):
            parts = value.replace(",", " ").split()
            try:
                return sorted(dt.date.fromisoformat(p) for p in parts)
            except ValueError:
                self.add_error(key, _("Dates are YYYY-MM-DD."))
                return None
        return value

    def service_kwargs(self) -> dict:
        """The course_check/course_create arguments (patient and protocol aside); a badly typed
        list of anchor dates is added to the form's errors."""
        data = self.cleaned_data
        phases = []
        for spec in self.phase_fields:
            names, choice = spec["names"], {}
            if "pattern" in names and data.get(names["pattern"]) not in (None, ""):
                choice["pattern"] = spec["phase"].patterns[int(data[names["pattern"]])]
            for key in ("count", "cycles", "dose"):
                if key in names and data.get(names[key]) is not None:
                    choice[key] = data[names[key]]
            if data.get(names.get("weekdays", "")):
                choice["weekdays"] = data[names["weekdays"]]
            phases.append(choice)
        anchors = {
            key.removeprefix("anchor_"): self._anchor_value(key) for key in self.anchor_fields
        }
        kwargs = {
            "start_date": data.get("start_date"),
            "phases": phases,
            "anchors": anchors,
            "diluent": data.get("diluent") or "",
            "drip_rate_drops_per_min": data.get("drip_rate_drops_per_min"),
            "infusion_minutes": data.get("infusion_minutes"),
        }
        return kwargs

    def add_service_errors(self, error: ValidationError) -> list[str]:
        """Put a service's errors next to their inputs; returns the hard stops it listed."""
        if not hasattr(error, "error_dict"):
            service_errors_to_form(self, error)
            return []
        messages = error.message_dict
        stops = list(messages.pop("hard_stops", []))
        service_errors_to_form(self, ValidationError(messages), self._field_for)
        return stops

    def _field_for(self, key: str) -> str | None:
        parts = key.split(".")
        if parts[0] == "phases" and len(parts) == 3:
            name = f"phase{parts[1]}_{parts[2]}"
        elif parts[0] == "anchors" and len(parts) == 2:
            name = f"anchor_{parts[1]}"
        elif key == "weight_kg":
            name = "patient"
        else:
            name = key
        return name if name in self.fields else None


# --- Patients ----------------------------------------------------------------------------------


class PatientForm(forms.ModelForm):
    weight_kg = forms.DecimalField(
        required=False,
        max_digits=5,
        decimal_places=2,
        label=gettext_lazy("Weight (kg)"),
        min_value=0,
    )
    measured_on = forms.DateField(
        required=False, widget=DATE_INPUT, label=gettext_lazy("Weighed on")
    )

    class Meta:
        model = Patient
        fields = list(PATIENT_FIELDS)
        widgets = {
            "birth_date": DATE_INPUT,
            "wbc_measured_on": DATE_INPUT,
            "drug_allergies": forms.CheckboxSelectMultiple,
        }
        labels = {
            "mrn": gettext_lazy("MRN"),
            "name": gettext_lazy("Name"),
            "birth_date": gettext_lazy("Birth date"),
            "sex": gettext_lazy("Sex"),
            "ward": gettext_lazy("Ward"),
            "pregnant": gettext_lazy("Pregnant"),
            "pregnancy_trimester": gettext_lazy("Pregnancy trimester"),
            "lactating": gettext_lazy("Lactating"),
            "protein_drug_allergy": gettext_lazy("Protein drug allergy"),
            "septic_shock": gettext_lazy("Septic shock"),
            "severe_fever": gettext_lazy("Severe fever"),
            "high_dose_corticosteroids": gettext_lazy("High dose corticosteroids"),
            "sodium_controlled_diet": gettext_lazy("Sodium controlled diet"),
            "drug_allergies": gettext_lazy("Drug allergies"),
            "wbc_10e9_per_l": gettext_lazy("WBC (×10⁹/L)"),
            "wbc_measured_on": gettext_lazy("WBC taken on"),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ward"].queryset = selectors.wards_visible(user)

    def _post_clean(self):
        # The model's own validation runs in services.patient_save, which maps constraint
        # errors to their fields; running it here too would report them twice.
        pass


class WeightForm(forms.Form):
    weight_kg = forms.DecimalField(
        max_digits=5, decimal_places=2, label=gettext_lazy("Weight (kg)")
    )
    measured_on = forms.DateField(
        required=False, widget=DATE_INPUT, label=gettext_lazy("Weighed on")
    )
