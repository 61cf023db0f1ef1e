"""Receiving lots (typed or scanned GS1)."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from inventory.fefo import is_expired
from inventory.gs1 import gs1_parse
from inventory.models import (
    Lot,
    LotStatus,
    MovementKind,
    Presentation,
    StockMovement,
    StorageLocation,
    lot_number_validator,
)

from .ledger import (
    _check_destination,
    _get,
    _level_for_inbound,
    _move,
    _positive,
    _refuse,
    _required,
    _status_text,
    expiry_from_manufacture,
)

# --- Receiving ------------------------------------------------------------------------------------


def _gs1_fill(gs1: str, given: dict) -> dict:
    """Fields from the scan; a field typed in as well must agree with the code."""
    pack = gs1_parse(gs1)
    scanned = {
        "gtin": pack.gtin,
        "lot_number": pack.lot_number,
        "expiry_date": pack.expiry_date,
        "manufacture_date": pack.manufacture_date,
    }
    for name, value in scanned.items():
        if given.get(name) and value and given[name] != value:
            _refuse(name, _("Disagrees with the scanned code (%(value)s).") % {"value": value})
    return {name: given.get(name) or value for name, value in scanned.items()}


def _presentation_for_receipt(presentation_id, gtin: str, gs1: str) -> Presentation:
    queryset = Presentation.objects.select_related("product")
    if presentation_id is not None:
        presentation = _get(Presentation, presentation_id, "presentation_id", queryset)
        if gtin and presentation.gtin and presentation.gtin != gtin:
            _refuse(
                "gtin",
                _("GTIN %(gtin)s is not the GTIN of %(presentation)s (%(own)s).")
                % {"gtin": gtin, "presentation": presentation, "own": presentation.gtin},
            )
        return presentation
    if not gtin:
        _refuse("presentation_id", _("Give the presentation, its GTIN or a GS1 scan."))
    presentation = queryset.filter(gtin=gtin).first()
    if presentation is None:
        _refuse(
            "gs1" if gs1 else "gtin",
            _("Unknown GTIN %(gtin)s: no presentation carries it.") % {"gtin": gtin},
        )
    return presentation


@transaction.atomic
def lot_receive(
    *,
    quantity: int,
    location_id: int,
    user,
    on: datetime.date,
    presentation_id: int | None = None,
    lot_number: str = "",
    expiry_date: datetime.date | None = None,
    manufacture_date: datetime.date | None = None,
    gtin: str = "",
    gs1: str = "",
    reference: str = "",
    reason: str = "",
) -> StockMovement:
    """Receive vials of a lot (new or known) into a location, from fields or a GS1 scan."""
    given = {
        "gtin": gtin,
        "lot_number": lot_number,
        "expiry_date": expiry_date,
        "manufacture_date": manufacture_date,
    }
    if gs1:
        given = _gs1_fill(gs1, given)
    _positive(quantity)
    presentation = _presentation_for_receipt(presentation_id, given["gtin"], gs1)
    product = presentation.product
    lot_number = _required(given["lot_number"], "lot_number")
    try:
        lot_number_validator(lot_number)
    except ValidationError as exc:
        _refuse("lot_number", exc.messages[0])
    manufacture_date = given["manufacture_date"]
    expiry_date = given["expiry_date"]
    if expiry_date is None:
        if manufacture_date is None:
            _refuse("expiry_date", _("Give the expiry date or the manufacture date."))
        expiry_date = expiry_from_manufacture(manufacture_date, product.shelf_life_months)
    if manufacture_date and manufacture_date > expiry_date:
        _refuse("manufacture_date", _("The manufacture date is after the expiry date."))
    if manufacture_date and manufacture_date > on:
        _refuse("manufacture_date", _("The manufacture date is in the future."))
    if is_expired(expiry_date, on):
        _refuse(
            "expiry_date",
            _("Lot %(lot)s expired on %(day)s; it cannot be received.")
            % {"lot": lot_number, "day": expiry_date},
        )
    location = _get(StorageLocation, location_id, "location_id")

    lot, created = Lot.objects.get_or_create(
        presentation=presentation,
        lot_number=lot_number,
        defaults={
            "expiry_date": expiry_date,
            "manufacture_date": manufacture_date,
            "gtin": given["gtin"] or presentation.gtin or "",
        },
    )
    if not created:
        lot = Lot.objects.select_for_update().get(pk=lot.pk)
        if lot.expiry_date != expiry_date:
            _refuse(
                "expiry_date",
                _(
                    "Lot %(lot)s of %(presentation)s is on record with expiry %(recorded)s, not "
                    "%(day)s: check the pack."
                )
                % {
                    "lot": lot_number,
                    "presentation": presentation,
                    "recorded": lot.expiry_date,
                    "day": expiry_date,
                },
                code="lot_mismatch",
            )
        if lot.status in {LotStatus.RECALLED, LotStatus.DESTROYED}:
            _refuse(
                "lot_number",
                _("Lot %(lot)s is %(status)s.") % {"lot": lot_number, "status": _status_text(lot)},
            )
    _check_destination(location, lot, "location_id")
    level = _level_for_inbound(lot, location)
    return _move(
        level,
        kind=MovementKind.RECEIPT,
        quantity=quantity,
        on_hand_delta=quantity,
        on=on,
        user=user,
        reference=reference,
        reason=reason,
    )
