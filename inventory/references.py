"""References owned by another app, registered without inventory importing it.

A stock movement's `reference` ties it to what it was for. Some references belong to another
app's records — `dose:<id>` to a dose of courses — and a vial held or dispensed under one must go
through that app's own path (recording the dose checks the ward, the patient and the dose's
status). The owning app registers its prefix in its AppConfig.ready(), as for inventory.demand;
the stock services then refuse such a reference unless the caller says it is the owner's path.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_owned_prefixes: dict[str, str] = {}


def reference_prefix_register(prefix: str, *, owner: str) -> None:
    """Reserve references starting with `prefix` (e.g. "dose:") for `owner`'s own services."""
    _owned_prefixes[prefix] = owner  # a lazy translation: read in the reader's language


def reference_check(reference: str, *, owner_path: bool, field_name: str = "reference") -> None:
    """Refuse a reference that belongs to another app unless called from that app's path."""
    if owner_path or not reference:
        return
    for prefix, owner in _owned_prefixes.items():
        if reference.strip().lower().startswith(prefix.lower()):
            raise ValidationError(
                {
                    field_name: ValidationError(
                        _(
                            "References starting with “%(prefix)s” belong to %(owner)s: record "
                            "it there (it checks the ward and the dose), not through the stock "
                            "actions."
                        )
                        % {"prefix": prefix, "owner": owner},
                        code="reserved_reference",
                    )
                }
            )
