"""Temperature readings and excursions."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory import alerts
from inventory.fefo import is_expired
from inventory.models import (
    PLAUSIBLE_MAX_C,
    PLAUSIBLE_MIN_C,
    Excursion,
    ExcursionResolution,
    Lot,
    LotStatus,
    MovementKind,
    StockLevel,
    StorageLocation,
    TemperatureReading,
)
from inventory.selectors import stored_limits

from .ledger import _get, _refuse, _required
from .lots import _destroy, _release, _set_status, _unresolved_excursions

# --- Temperature ----------------------------------------------------------------------------------


@dataclass
class IngestResult:
    created: int = 0
    duplicates: int = 0
    excursions: list = field(default_factory=list)


# A reading cannot be older than this: a sensor whose clock reset to its epoch says 1970 or 2000.
EARLIEST_READING = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def _validate_readings(readings: list[dict], *, now: datetime.datetime):
    """Refuse the whole batch on any bad reading; returns the locations by id.

    A reading from the future (beyond READING_CLOCK_SKEW_MINUTES) is refused rather than stored:
    stored, it would be the location's "latest" for as long as its clock is ahead, and readings
    compared against it could open nothing. Two different values for one sensor and time are
    refused too: which one is true cannot be told, and averaging would invent a third.
    """
    errors = {}
    skew = datetime.timedelta(minutes=settings.READING_CLOCK_SKEW_MINUTES)
    location_ids = {r.get("location_id") for r in readings}
    locations = StorageLocation.objects.in_bulk([i for i in location_ids if isinstance(i, int)])
    values: dict[tuple, tuple[int, object]] = {}
    for index, reading in enumerate(readings):
        prefix = f"{index}." if len(readings) > 1 else ""
        value = reading.get("temperature_c")
        taken_at = reading.get("taken_at")
        if reading.get("location_id") not in locations:
            errors[f"{prefix}location_id"] = _("Unknown storage location id %(id)r.") % {
                "id": reading.get("location_id")
            }
        if not reading.get("sensor_id"):
            errors[f"{prefix}sensor_id"] = _("This field is required.")
        if not isinstance(taken_at, datetime.datetime) or timezone.is_naive(taken_at):
            errors[f"{prefix}taken_at"] = _(
                "A date and time with its time-zone offset is required."
            )
        elif taken_at > now + skew:
            errors[f"{prefix}taken_at"] = _(
                "%(taken_at)s is in the future (server time %(now)s, %(skew)s min of clock skew "
                "allowed): check the sensor's clock."
            ) % {
                "taken_at": taken_at.isoformat(),
                "now": now.isoformat(),
                "skew": settings.READING_CLOCK_SKEW_MINUTES,
            }
        elif taken_at < EARLIEST_READING:
            errors[f"{prefix}taken_at"] = _(
                "%(taken_at)s is before %(earliest)s: check the sensor's clock."
            ) % {"taken_at": taken_at.isoformat(), "earliest": f"{EARLIEST_READING:%Y-%m-%d}"}
        if value is None or not (PLAUSIBLE_MIN_C <= value <= PLAUSIBLE_MAX_C):
            errors[f"{prefix}temperature_c"] = _(
                "%(value)s °C is not a plausible reading (accepted %(low)s to %(high)s °C): check "
                "the sensor."
            ) % {"value": value, "low": PLAUSIBLE_MIN_C, "high": PLAUSIBLE_MAX_C}
        elif isinstance(taken_at, datetime.datetime):
            key = (reading.get("location_id"), reading.get("sensor_id"), taken_at)
            first = values.setdefault(key, (index, value))
            if first[1] != value:
                errors[f"{prefix}temperature_c"] = _(
                    "Reading %(first)s has %(first_value)s °C for sensor %(sensor)s at "
                    "%(taken_at)s, this one %(value)s °C: one sensor has one value at a time."
                ) % {
                    "first": first[0],
                    "first_value": first[1],
                    "sensor": key[1],
                    "taken_at": taken_at.isoformat(),
                    "value": value,
                }
    if errors:
        raise ValidationError(errors)
    return locations


def _outside(value, low, high) -> bool:
    return value > high or (low is not None and value < low)


def _quarantine_for(excursion: Excursion, reading, user) -> None:
    reason = (
        f"Temperature excursion at {excursion.location}: {reading['temperature_c']} °C at "
        f"{reading['taken_at']:%Y-%m-%d %H:%M}."
    )
    stored = StockLevel.objects.filter(location=excursion.location, on_hand__gt=0)
    lots = list(
        Lot.objects.select_for_update()
        .filter(pk__in=stored.values("lot_id"), status=LotStatus.AVAILABLE)
        .order_by("pk")
    )
    for lot in lots:
        _set_status(
            lot,
            status=LotStatus.QUARANTINED,
            kind=MovementKind.QUARANTINE,
            on=timezone.localdate(reading["taken_at"]),
            user=user,
            reason=reason,
        )
    excursion.lots.add(*lots)


def _latest_per_sensor(location: StorageLocation) -> dict[str, tuple]:
    """sensor id → (time, °C) of its latest stored reading at this location."""
    latest = dict(
        TemperatureReading.objects.filter(location=location)
        .values("sensor_id")
        .annotate(at=Max("taken_at"))
        .values_list("sensor_id", "at")
    )
    if not latest:
        return {}
    pairs = Q()
    for sensor_id, at in latest.items():
        pairs |= Q(sensor_id=sensor_id, taken_at=at)
    return {
        sensor_id: (at, value)
        for sensor_id, at, value in TemperatureReading.objects.filter(
            pairs, location=location
        ).values_list("sensor_id", "taken_at", "temperature_c")
    }


def _all_back_in_range(sensors: dict[str, tuple], excursion: Excursion) -> bool:
    """Every sensor that reported since the excursion began reads in range now."""
    return not any(
        _outside(value, excursion.limit_min_c, excursion.limit_max_c)
        for at, value in sensors.values()
        if at >= excursion.started_at
    )


def _track(
    location: StorageLocation, readings: list[dict], sensors: dict, user
) -> Excursion | None:
    """Open, extend, reopen or close the location's unresolved excursion from new readings.

    Per sensor and in reading time: a reading counts as current when it is later than its own
    sensor's latest, so one sensor's clock (fast, or a reading dated years ahead) cannot make
    another sensor's readings look old. Older readings only widen the excursion's min/max:
    out-of-order delivery must not end or restart an excursion in the past. With several
    sensors, the excursion ends only when every sensor reporting since it began is back in
    range. `sensors` (sensor → (time, °C) of its latest reading) is updated as readings pass.
    """
    excursion = (
        Excursion.objects.select_for_update()
        .filter(location=location, resolved_at__isnull=True)
        .first()
    )
    touched = None
    # Read once per location per batch: quarantining moves no stock, so it cannot change.
    stored = ...
    for reading in sorted(readings, key=lambda r: r["taken_at"]):
        value, at, sensor = reading["temperature_c"], reading["taken_at"], reading["sensor_id"]
        previous = sensors.get(sensor)
        fresh = previous is None or at > previous[0]
        if fresh:
            sensors[sensor] = (at, value)
        if excursion is not None and excursion.ended_at is None:
            out = _outside(value, excursion.limit_min_c, excursion.limit_max_c)
            if out:
                excursion.min_c, excursion.max_c = (
                    min(excursion.min_c, value),
                    max(excursion.max_c, value),
                )
            if fresh and at > excursion.last_reading_at:
                excursion.seconds_out_of_range += int(
                    (at - excursion.last_reading_at).total_seconds()
                )
                excursion.last_reading_at = at
            if fresh and not out and _all_back_in_range(sensors, excursion):
                excursion.ended_at = max(at, excursion.last_reading_at)
            touched = excursion
            continue
        if stored is ...:
            stored = stored_limits([location.pk]).get(location.pk)  # (min, max, product names)
        if not fresh or stored is None or not _outside(value, *stored[:2]):
            continue
        limits = stored[:2]
        if excursion is None:
            excursion = Excursion(location=location, started_at=at, min_c=value, max_c=value)
        excursion.ended_at = None
        excursion.last_reading_at = max(at, excursion.last_reading_at or at)
        excursion.limit_min_c, excursion.limit_max_c = limits
        excursion.min_c, excursion.max_c = min(excursion.min_c, value), max(excursion.max_c, value)
        excursion.save()
        _quarantine_for(excursion, reading, user)
        touched = excursion
    if touched is not None:
        touched.save()
    return touched


@transaction.atomic
def readings_ingest(
    *, readings: list[dict], user=None, now: datetime.datetime | None = None
) -> IngestResult:
    """Store temperature readings (all or none) and track excursions per location.

    Each reading: location_id, sensor_id, taken_at (aware datetime), temperature_c (Decimal).
    A reading already stored (same location, sensor and time, same value) is skipped, so a
    gateway may resend; the same key with another value is refused. Readings dated after `now`
    (default: the server's clock) plus the allowed clock skew are refused.
    """
    if not readings:
        _refuse("readings", _("No readings given."))
    locations = _validate_readings(readings, now=now or timezone.now())
    result = IngestResult()
    by_location = defaultdict(list)
    for reading in readings:
        by_location[reading["location_id"]].append(reading)
    # Lock the locations so concurrent batches for one location are tracked one after the other.
    list(StorageLocation.objects.filter(pk__in=by_location).order_by("pk").select_for_update())
    for location_id, batch in sorted(by_location.items()):
        location = locations[location_id]
        stored = {
            (sensor_id, taken_at): value
            for sensor_id, taken_at, value in TemperatureReading.objects.filter(
                location=location, taken_at__in=[r["taken_at"] for r in batch]
            ).values_list("sensor_id", "taken_at", "temperature_c")
        }
        new = []
        for reading in batch:
            key = (reading["sensor_id"], reading["taken_at"])
            if key in stored:
                if stored[key] != reading["temperature_c"]:
                    _refuse(
                        "temperature_c",
                        _(
                            "Sensor %(sensor)s at %(taken_at)s is already stored with "
                            "%(stored)s °C, not %(value)s °C."
                        )
                        % {
                            "sensor": key[0],
                            "taken_at": key[1].isoformat(),
                            "stored": stored[key],
                            "value": reading["temperature_c"],
                        },
                        code="conflict",
                    )
                result.duplicates += 1
                continue
            stored[key] = reading["temperature_c"]
            new.append(reading)
        sensors = _latest_per_sensor(location)
        TemperatureReading.objects.bulk_create(
            TemperatureReading(
                location=location,
                sensor_id=r["sensor_id"],
                taken_at=r["taken_at"],
                temperature_c=r["temperature_c"],
            )
            for r in new
        )
        result.created += len(new)
        excursion = _track(location, new, sensors, user)
        if excursion is not None:
            result.excursions.append(excursion)
            # In this transaction: a rolled-back ingest leaves no alert and wakes no worker.
            alerts.excursion_alert_enqueue(excursion=excursion)
    return result


@transaction.atomic
def excursion_resolve(
    *, excursion_id: int, resolution: str, user, on: datetime.date, reason: str
) -> Excursion:
    """A pharmacist's decision on an excursion: release its lots (once it has closed) or discard
    the stock there (also while it is still open).

    Discarding destroys only the vials at the excursion's location; vials of the same lots kept
    elsewhere were never out of range and return to use.
    """
    reason = _required(reason, "reason")
    if resolution not in ExcursionResolution.values:
        _refuse(
            "resolution",
            _("One of: %(choices)s.") % {"choices": ", ".join(ExcursionResolution.values)},
        )
    excursion = _get(Excursion, excursion_id, "excursion_id", Excursion.objects.select_for_update())
    if excursion.resolved_at is not None:
        _refuse("resolution", _("This excursion is already resolved."))
    if excursion.ended_at is None:
        if resolution != ExcursionResolution.DISCARD:
            _refuse(
                "resolution",
                _(
                    "The location is still out of range: its lots can be released once "
                    "readings are back in range, or discarded now."
                ),
            )
        # A fridge that died or a sensor that stopped never reports "back in range": discarding
        # closes the excursion by decision, so it stops reminding and blocking the location.
        excursion.ended_at = timezone.now()
    excursion.resolution = resolution
    excursion.resolution_reason = reason
    excursion.resolved_at = timezone.now()
    excursion.resolved_by = user
    excursion.save()
    for lot in Lot.objects.select_for_update().filter(excursions=excursion).order_by("pk"):
        if resolution == ExcursionResolution.DISCARD:
            _destroy(lot, user=user, on=on, reason=reason, location_id=excursion.location_id)
        if (
            lot.status == LotStatus.QUARANTINED
            and not is_expired(lot.expiry_date, on)
            and not _unresolved_excursions(lot).exists()
        ):
            _release(lot, user=user, on=on, reason=f"Excursion resolved: {reason}")
    return excursion
