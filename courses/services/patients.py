"""Patients and their weights."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from courses.models import (
    WEIGHT_MAX_KG,
    WEIGHT_MIN_KG,
    Patient,
    PatientWeight,
)
from history.context import records

# --- Patients ---------------------------------------------------------------------------------

PATIENT_FIELDS = (
    "mrn",
    "name",
    "birth_date",
    "sex",
    "ward",
    "pregnant",
    "pregnancy_trimester",
    "lactating",
    "protein_drug_allergy",
    "septic_shock",
    "severe_fever",
    "high_dose_corticosteroids",
    "sodium_controlled_diet",
    "drug_allergies",
    "wbc_10e9_per_l",
    "wbc_measured_on",
)

# No patient alive was born before this; year 1 (a typo, a default) is refused, not stored.
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)


def _full_clean(obj) -> None:
    """Model validation, with the constraint names turned into the field they are about."""
    try:
        obj.full_clean()
    except ValidationError as error:
        messages = error.message_dict
        if "__all__" in messages and "pregnancy_trimester" not in messages:
            text = " ".join(messages["__all__"])
            if "pregnancy" in text:
                messages = {
                    **messages,
                    "pregnancy_trimester": [_("Give trimester 1–3 when pregnant.")],
                }
                messages.pop("__all__")
        raise ValidationError(messages) from None


@records("patient.save")
@transaction.atomic
def patient_save(
    *,
    patient: Patient | None = None,
    fields: dict,
    weight_kg: Decimal | None = None,
    measured_on: dt.date | None = None,
    user=None,
    today: dt.date | None = None,
) -> Patient:
    """Create or update a patient; a weight given with it is recorded on `measured_on`."""
    patient = patient or Patient()
    fields = dict(fields)
    # Per-product allergies (a relation): set once the row exists.
    allergies = fields.pop("drug_allergies", None)
    for name, value in fields.items():
        if name not in PATIENT_FIELDS:
            raise ValidationError({name: _("Unknown patient field.")})
        setattr(patient, name, value)
    if not patient.pregnant:
        patient.pregnancy_trimester = None
    if patient.birth_date and patient.birth_date > (today or timezone.localdate()):
        raise ValidationError({"birth_date": _("A birth date cannot be in the future.")})
    if patient.birth_date and patient.birth_date < EARLIEST_BIRTH_DATE:
        raise ValidationError(
            {
                "birth_date": _("A birth date is on or after %(day)s.")
                % {"day": EARLIEST_BIRTH_DATE.isoformat()}
            }
        )
    _full_clean(patient)
    patient.save()
    if allergies is not None:
        patient.drug_allergies.set(allergies)
    if weight_kg is not None:
        patient_weight_record(
            patient=patient, weight_kg=weight_kg, measured_on=measured_on, user=user
        )
    return patient


@records("patient.weight")
@transaction.atomic
def patient_weight_record(
    *, patient: Patient, weight_kg: Decimal, measured_on: dt.date | None, user=None
) -> PatientWeight:
    """Record the day's weight (a second weighing the same day replaces the first)."""
    measured_on = measured_on or timezone.localdate()
    if measured_on > timezone.localdate():
        raise ValidationError({"measured_on": _("A weight cannot be measured in the future.")})
    if measured_on < max(patient.birth_date or EARLIEST_BIRTH_DATE, EARLIEST_BIRTH_DATE):
        raise ValidationError(
            {"measured_on": _("A weight cannot be measured before the patient was born.")}
        )
    candidate = PatientWeight(
        patient=patient, measured_on=measured_on, weight_kg=weight_kg, recorded_by=user
    )
    try:
        # The day's row may exist: the one-a-day constraint is kept by update_or_create below.
        candidate.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise ValidationError(
            {
                "weight_kg": _("Must be %(low)s–%(high)s kg.")
                % {"low": WEIGHT_MIN_KG, "high": WEIGHT_MAX_KG}
            }
            if "weight_kg" in error.message_dict or "__all__" in error.message_dict
            else error.message_dict
        ) from None
    # Two nurses weighing the same patient the same day: the row is locked, or, when both
    # insert it at once, the loser's insert fails in a savepoint and it updates the winner's.
    weight, _created = PatientWeight.objects.update_or_create(
        patient=patient,
        measured_on=measured_on,
        defaults={"weight_kg": candidate.weight_kg, "recorded_by": user},
    )
    return weight
