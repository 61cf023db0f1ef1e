"""Products, presentations, wards and storage locations: created and changed here, by the admin
as by any other caller, so the model's rules (a GTIN's check digit, a storage range's order, code
formats) are checked on every save and the history records who saved and through which action.
"""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from history.context import records
from inventory.models import Presentation, Product, StorageLocation, Ward


def _save(instance: models.Model, fields: dict) -> models.Model:
    """Set `fields` (model field names only), validate the whole row and save it."""
    known = {field.name for field in instance._meta.concrete_fields}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    return instance


@records("product.save")
@transaction.atomic
def product_save(*, product: Product | None = None, fields: dict, user=None) -> Product:
    """Create (`product` None) or change a product."""
    return _save(product or Product(), fields)


@records("presentation.save")
@transaction.atomic
def presentation_save(
    *, presentation: Presentation | None = None, fields: dict, user=None
) -> Presentation:
    """Create or change a presentation (an empty GTIN is stored as none: GTINs are unique)."""
    fields = dict(fields)
    if "gtin" in fields:
        fields["gtin"] = (fields["gtin"] or "").strip() or None
    return _save(presentation or Presentation(), fields)


@records("ward.save")
@transaction.atomic
def ward_save(*, ward: Ward | None = None, fields: dict, members=None, user=None) -> Ward:
    """Create or change a ward; `members`, when given, replaces its staff (who sees whose
    patients: the membership history records each change)."""
    ward = _save(ward or Ward(), fields)
    if members is not None:
        ward.members.set(members)
    return ward


@records("location.save")
@transaction.atomic
def location_save(
    *, location: StorageLocation | None = None, fields: dict, user=None
) -> StorageLocation:
    """Create or change a storage location (never deleted: stock history points at it; set
    `active` false instead)."""
    return _save(location or StorageLocation(), fields)
