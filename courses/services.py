"""Writes of the courses app. Every function runs in one transaction."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from courses import formulary
from courses.models import Protocol, ProtocolPhase
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
    for entry in presentations:
        values = {k: v for k, v in entry.items() if k not in {"code", "product"}}
        product = by_code.get(entry["product"]) or Product.objects.get(code=entry["product"])
        _upsert(
            Presentation,
            {"code": entry["code"]},
            {**values, "product": product},
            report,
            f"presentation {entry['code']}",
        )
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


@transaction.atomic
def protocol_save(
    *, protocol: Protocol | None, fields: dict, phases: list[dict] | None
) -> Protocol:
    """Create or update a protocol; `phases`, when given, replaces its phases in order."""
    if protocol is None:
        protocol = Protocol(**fields)
    else:
        for name, value in fields.items():
            setattr(protocol, name, value)
    protocol.full_clean()
    protocol.save()
    if phases is not None:
        protocol.phases.all().delete()
        for order, phase in enumerate(phases, start=1):
            ProtocolPhase.objects.create(protocol=protocol, order=order, **phase)
    return protocol
