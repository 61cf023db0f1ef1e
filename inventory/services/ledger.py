"""The ledger core: every change of stock goes through `_move` on a locked level."""

import datetime
import hashlib
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from config.dates import date_error
from inventory.models import (
    Excursion,
    Lot,
    StockLevel,
    StockMovement,
    StorageLocation,
)


def _refuse(field_name: str, message: str, code: str = "invalid"):
    raise ValidationError({field_name: ValidationError(message, code=code)})


def _status_text(lot: Lot) -> str:
    """A lot's status as a refusal names it, in the reader's language ("quarantined")."""
    return str(lot.get_status_display()).lower()


def _positive(quantity, field_name: str = "quantity") -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        _refuse(field_name, _("A whole number of vials, at least 1."))
    return quantity


def _required(value: str, field_name: str) -> str:
    value = (value or "").strip()
    if not value:
        _refuse(field_name, _("This field is required."))
    return value


def _get(model, pk, field_name: str, queryset=None):
    queryset = model.objects.all() if queryset is None else queryset
    try:
        return queryset.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        _refuse(
            field_name,
            _("Unknown %(model)s id %(id)r.") % {"model": model._meta.verbose_name, "id": pk},
            code="does_not_exist",
        )


def _locked(queryset) -> list:
    """Lock the rows in primary-key order (no deadlock cycles) and return them fresh."""
    return list(
        queryset.select_related("lot__presentation__product", "location")
        .order_by("pk")
        .select_for_update(of=("self",))
    )


def _reference_lock(reference: str) -> None:
    """Serialise, until the transaction ends, every caller working under one reference.

    The levels a return touches may be at different locations, so their row locks do not
    serialise two returns under one reference; this transaction-scoped advisory lock on the
    reference's hash does, and the second caller then reads the first one's committed movements.
    SQLite needs none: its writers already run one at a time (IMMEDIATE transactions).
    """
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(f"stock-reference:{reference}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _level_for_inbound(lot: Lot, location: StorageLocation) -> StockLevel:
    level, _ = StockLevel.objects.get_or_create(lot=lot, location=location)
    return _locked(StockLevel.objects.filter(pk=level.pk))[0]


def _check_day(on) -> None:
    if not isinstance(on, datetime.date) or date_error(on):
        # Every movement's date: a dose "given at 0001-01-01" must not be dispensed that day.
        _refuse("on", _("%(day)s is not a plausible movement date.") % {"day": on})


def _move(
    level: StockLevel,
    *,
    kind: str,
    quantity: int,
    on: datetime.date,
    user,
    on_hand_delta: int = 0,
    reserved_delta: int = 0,
    reference: str = "",
    recipient: str = "",
    reason: str = "",
    other_location=None,
) -> StockMovement:
    """Write one ledger line and apply its deltas to the (locked) level in the same transaction."""
    _check_day(on)
    if on_hand_delta or reserved_delta:
        StockLevel.objects.filter(pk=level.pk).update(
            on_hand=F("on_hand") + on_hand_delta,
            reserved=F("reserved") + reserved_delta,
            updated_at=timezone.now(),
        )
        level.on_hand += on_hand_delta
        level.reserved += reserved_delta
    return StockMovement.objects.create(
        lot=level.lot,
        location=level.location,
        other_location=other_location,
        kind=kind,
        quantity=quantity,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        effective_date=on,
        reference=reference,
        recipient=recipient,
        reason=reason,
        user=user,
    )


@dataclass(frozen=True)
class Line:
    """One ledger line to write on a locked level (`level_id`): see `_moves`."""

    level_id: int
    lot: Lot
    location: StorageLocation
    kind: str
    quantity: int
    on_hand_delta: int = 0
    reserved_delta: int = 0
    reason: str = ""
    recipient: str = ""
    # Part of `on_hand_delta` the level already carries (vials a pick took in its own statement).
    applied_on_hand: int = 0


def _moves(lines: list[Line], *, on, user, reference: str = "") -> list[StockMovement]:
    """`_move` for several lines on locked levels: one UPDATE per distinct net deltas (levels
    with the same change share it), one INSERT for every line."""
    _check_day(on)
    net: dict[int, list[int]] = {}
    for line in lines:
        on_hand_delta = line.on_hand_delta - line.applied_on_hand
        if on_hand_delta or line.reserved_delta:
            deltas = net.setdefault(line.level_id, [0, 0])
            deltas[0] += on_hand_delta
            deltas[1] += line.reserved_delta
    now = timezone.now()
    # One UPDATE per distinct pair of deltas, not per level: destroying a fridge's stock moves
    # thousands of levels, with a few dozen different counts among them.
    levels_by_deltas: dict[tuple[int, int], list[int]] = {}
    for pk, (on_hand_delta, reserved_delta) in net.items():
        levels_by_deltas.setdefault((on_hand_delta, reserved_delta), []).append(pk)
    for (on_hand_delta, reserved_delta), pks in levels_by_deltas.items():
        StockLevel.objects.filter(pk__in=pks).update(
            on_hand=F("on_hand") + on_hand_delta,
            reserved=F("reserved") + reserved_delta,
            updated_at=now,
        )
    return StockMovement.objects.bulk_create(
        StockMovement(
            lot=line.lot,
            location=line.location,
            kind=line.kind,
            quantity=line.quantity,
            on_hand_delta=line.on_hand_delta,
            reserved_delta=line.reserved_delta,
            effective_date=on,
            reference=reference,
            recipient=line.recipient,
            reason=line.reason,
            user=user,
        )
        for line in lines
    )


def _check_destination(location: StorageLocation, lot: Lot, field_name: str) -> None:
    product = lot.presentation.product
    if not location.active:
        _refuse(field_name, _("%(location)s is not in use.") % {"location": location})
    if not location.keeps(product):
        _refuse(
            field_name,
            _(
                "%(location)s (%(range)s) does not satisfy %(product)s's storage range "
                "(%(product_range)s)."
            )
            % {
                "location": location,
                "range": location.range_plain,
                "product": product,
                "product_range": product.storage_range_plain,
            },
            code="out_of_range",
        )
    if Excursion.objects.filter(location=location, ended_at__isnull=True).exists():
        _refuse(
            field_name,
            _("%(location)s is out of its temperature range right now.") % {"location": location},
        )


def expiry_from_manufacture(manufacture_date: datetime.date, shelf_life_months: int):
    """Last usable day: the day before the same calendar day `shelf_life_months` later.

    relativedelta clamps a day the target month lacks to its last day (31 Aug + 6 months →
    28/29 Feb), so a lot never gets a day beyond its shelf life.
    """
    return manufacture_date + relativedelta(months=shelf_life_months) - datetime.timedelta(days=1)
