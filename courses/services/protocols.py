"""Formulary loading and protocol edits."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy, ngettext

from courses import formulary
from courses.models import (
    CoursePhase,
    Protocol,
    ProtocolPhase,
)
from history.context import records
from inventory.models import Presentation, Product


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0

    def __str__(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, {self.unchanged} unchanged"
        )


def _coerce(model, name: str, value):
    """Turn the formulary's strings into the model field's Python type (Decimal for decimals)."""
    internal = model._meta.get_field(name).get_internal_type()
    if internal == "DecimalField" and value is not None:
        return Decimal(str(value))
    return value


def _upsert(model, lookup: dict, values: dict, report: LoadReport, label: str):
    """Create the row, or update in place only the fields whose value changed."""
    values = {name: _coerce(model, name, value) for name, value in values.items()}
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model.objects.create(**lookup, **values)
        report.created.append(label)
        return obj
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.full_clean(validate_unique=False, validate_constraints=False)
        obj.save(update_fields=[*changed, *(["updated_at"] if hasattr(obj, "updated_at") else [])])
        report.updated.append(f"{label} ({', '.join(changed)})")
    else:
        report.unchanged += 1
    return obj


@records("formulary.load")
@transaction.atomic
def formulary_load(*, products=None, presentations=None, protocols=None) -> LoadReport:
    """Load the leaflet formulary; idempotent (a second run changes nothing)."""
    products = formulary.PRODUCTS if products is None else products
    presentations = formulary.PRESENTATIONS if presentations is None else presentations
    protocols = formulary.PROTOCOLS if protocols is None else protocols
    report = LoadReport()

    by_code = {}
    for entry in products:
        values = {k: v for k, v in entry.items() if k != "code"}
        by_code[entry["code"]] = _upsert(
            Product, {"code": entry["code"]}, values, report, f"product {entry['code']}"
        )
    codes = {entry["code"] for entry in presentations}
    for old, new in formulary.PRESENTATION_RENAMES.items():
        # In place, so that lots received against the old row stay attached to it.
        if (
            new in codes
            and not Presentation.objects.filter(code=new).exists()
            and Presentation.objects.filter(code=old).update(code=new)
        ):
            report.updated.append(f"presentation {old} renamed to {new}")
    changed_products = set()
    for entry in presentations:
        before = len(report.updated) + len(report.created)
        values = {k: v for k, v in entry.items() if k not in {"code", "product"}}
        product = by_code.get(entry["product"]) or Product.objects.get(code=entry["product"])
        _upsert(
            Presentation,
            {"code": entry["code"]},
            {**values, "product": product},
            report,
            f"presentation {entry['code']}",
        )
        if len(report.updated) + len(report.created) != before:
            changed_products.add(product.pk)
    if changed_products:
        _dose_plans_refresh(product_ids=changed_products, report=report)
    for entry in protocols:
        values = {k: v for k, v in entry.items() if k not in {"code", "product", "phases"}}
        product = by_code.get(entry["product"]) or Product.objects.get(code=entry["product"])
        protocol = _upsert(
            Protocol,
            {"code": entry["code"]},
            {**values, "product": product},
            report,
            f"protocol {entry['code']}",
        )
        for order, phase in enumerate(entry["phases"], start=1):
            _upsert(
                ProtocolPhase,
                {"protocol": protocol, "order": order},
                phase,
                report,
                f"phase {entry['code']}#{order}",
            )
        stale = protocol.phases.filter(order__gt=len(entry["phases"]))
        for phase in stale:
            report.updated.append(f"phase {entry['code']}#{phase.order} removed")
        stale.delete()
    return report


def _dose_plans_refresh(*, product_ids: set[int], report: LoadReport) -> None:
    """Re-plan the containers of every still-scheduled dose of products whose presentations
    changed (Betaleukin's strengths read as µg instead of mg), and release those doses' holds:
    they were taken against the old plan; the hourly reservation scan holds the new one."""
    from courses import selectors, stock
    from courses.models import Dose, DoseStatus
    from courses.services.prescribing import _vial_plan
    from courses.units import Mass

    doses = Dose.objects.filter(
        status=DoseStatus.SCHEDULED, course__protocol__product_id__in=product_ids
    ).select_related("course__protocol__product")
    presentations: dict = {}
    changed = []
    for dose in doses:
        protocol = dose.course.protocol
        if protocol.pk not in presentations:
            presentations[protocol.pk] = selectors.presentations_for(protocol)
        vials, waste = _vial_plan(Mass(dose.amount, dose.amount_unit), presentations[protocol.pk])
        if vials != dose.vials or waste != dose.waste_amount:
            dose.vials, dose.waste_amount = vials, waste
            changed.append(dose)
    if changed:
        Dose.objects.bulk_update(changed, ["vials", "waste_amount"])
        stock.release(
            dose_ids=[dose.pk for dose in changed],
            reason="Containers re-planned: the product's presentations changed",
        )
        report.updated.append(f"{len(changed)} scheduled dose(s) re-planned")


@records("protocol.save")
@transaction.atomic
def protocol_save(
    *, protocol: Protocol | None, fields: dict, phases: list[dict] | None
) -> Protocol:
    """Create or update a protocol; `phases`, when given, replaces its phases in order.

    Phases are updated in place by order: prescribed courses point at their protocol phase, so a
    phase that courses use cannot be removed (shorten the protocol by a new one instead).
    """
    if protocol is None:
        protocol = Protocol(**fields)
    else:
        for name, value in fields.items():
            setattr(protocol, name, value)
    protocol.full_clean()
    protocol.save()
    if phases is not None:
        _protocol_phases_replace(protocol, phases)
    return protocol


def _protocol_phases_replace(protocol: Protocol, phases: list[dict]) -> None:
    existing = {phase.order: phase for phase in protocol.phases.all()}
    surplus = [phase for order, phase in existing.items() if order > len(phases)]
    used = sorted(
        set(
            CoursePhase.objects.filter(protocol_phase__in=surplus).values_list(
                "protocol_phase__order", flat=True
            )
        )
    )
    if used:
        raise ValidationError(
            {
                "phases": ngettext(
                    "Phase %(phases)s is used by prescribed courses and cannot be removed.",
                    "Phases %(phases)s are used by prescribed courses and cannot be removed.",
                    len(used),
                )
                % {"phases": ", ".join(map(str, used))}
            }
        )
    ProtocolPhase.objects.filter(pk__in=[phase.pk for phase in surplus]).delete()
    for order, values in enumerate(phases, start=1):
        phase = existing.get(order) or ProtocolPhase(protocol=protocol, order=order)
        for name, value in values.items():
            setattr(phase, name, value)
        try:
            phase.full_clean()
        except ValidationError as error:
            raise ValidationError(_phase_errors(error, f"phases.{order - 1}")) from None
        phase.save()


# The phase table's check constraints (by name), as the field and reason a pharmacist can act on.
_PHASE_CONSTRAINTS = {
    "phase_count_min_1": ("count_min", gettext_lazy("A phase has at least 1 injection.")),
    "phase_count_range_ordered": ("count_max", gettext_lazy("Must not be below count_min.")),
    "phase_dose_range_ordered": ("dose_max", gettext_lazy("Must not be below dose_min.")),
    "phase_dose_bounds_for_basis": (
        "dose_min",
        gettext_lazy("A fixed or per-kg dose rule needs dose_min and dose_max."),
    ),
    "phase_dose_unit_for_basis": (
        "dose_unit",
        gettext_lazy("A per-kg dose needs a per-kg unit; fixed or age-band: mg."),
    ),
    "phase_age_band_has_bands": (
        "age_bands",
        gettext_lazy("An age-band dose rule needs its bands."),
    ),
}


def _phase_rule(text: str) -> tuple[str, str] | None:
    """The field and reason of the constraint whose violation `text` reports: matched by the
    constraint's own message in the active language (the one `full_clean` just wrote), so the
    match holds in Ukrainian as in English."""
    for constraint in ProtocolPhase._meta.constraints:
        rule = _PHASE_CONSTRAINTS.get(constraint.name)
        if rule and text == str(constraint.get_violation_error_message()):
            return rule[0], str(rule[1])
    return None


def _phase_errors(error: ValidationError, key: str) -> dict:
    errors: dict = {}
    for name, texts in error.message_dict.items():
        for text in texts:
            field, text = _phase_rule(text) or (None if name == "__all__" else name, text)
            errors.setdefault(f"{key}.{field}" if field else key, []).append(text)
    return errors
