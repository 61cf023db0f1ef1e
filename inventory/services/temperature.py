"""Temperature readings and excursions."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory import alerts
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
from .lots import _destroy, _releasable, _set_statuses

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
    # Every lot at once: a pharmacy fridge holds thousands, and the gateway waits for this.
    _set_statuses(
        lots,
        status=LotStatus.QUARANTINED,
        kind=MovementKind.QUARANTINE,
        on=timezone.localdate(reading["taken_at"]),
        user=user,
        reason=reason,
    )
    excursion.lots.add(*lots)


# A batch denser than one reading per this much (per location) reads its whole time span for
# resent readings; a sparser one (a reading from last year beside today's) names its times.
_DENSE_BATCH_STEP = datetime.timedelta(minutes=10)


def _stored_values(by_location: dict[int, list[dict]]) -> dict[tuple, object]:
    """(location, sensor, time) → °C of the stored readings a batch may repeat, in one query.

    Per location, the batch's sensors over the batch's time span there (the unique index on
    location, sensor and time serves it): a gateway's 10,000 times in an IN list took 30× longer.
    """
    wanted = Q()
    for location_id, batch in by_location.items():
        times = [r["taken_at"] for r in batch]
        first, last = min(times), max(times)
        wanted |= Q(
            Q(taken_at__range=(first, last))
            if last - first <= _DENSE_BATCH_STEP * len(times)
            else Q(taken_at__in=times),
            location_id=location_id,
            sensor_id__in={r["sensor_id"] for r in batch},
        )
    return {
        (location_id, sensor_id, taken_at): value
        for location_id, sensor_id, taken_at, value in TemperatureReading.objects.filter(wanted)
        .order_by()
        .values_list("location_id", "sensor_id", "taken_at", "temperature_c")
    }


def _latest_per_sensor(location_ids) -> dict[int, dict[str, tuple]]:
    """location → sensor id → (time, °C) of its latest stored reading there. Two queries."""
    latest = list(
        TemperatureReading.objects.filter(location_id__in=location_ids)
        .order_by()
        .values("location_id", "sensor_id")
        .annotate(at=Max("taken_at"))
        .values_list("location_id", "sensor_id", "at")
    )
    sensors = defaultdict(dict)
    if not latest:
        return sensors
    pairs = Q()
    for location_id, sensor_id, at in latest:
        pairs |= Q(location_id=location_id, sensor_id=sensor_id, taken_at=at)
    for location_id, sensor_id, at, value in (
        TemperatureReading.objects.filter(pairs)
        .order_by()
        .values_list("location_id", "sensor_id", "taken_at", "temperature_c")
    ):
        sensors[location_id][sensor_id] = (at, value)
    return sensors


def _all_back_in_range(sensors: dict[str, tuple], excursion: Excursion) -> bool:
    """Every sensor that reported since the excursion began reads in range now."""
    return not any(
        _outside(value, excursion.limit_min_c, excursion.limit_max_c)
        for at, value in sensors.values()
        if at >= excursion.started_at
    )


def _track(
    location: StorageLocation,
    readings: list[dict],
    *,
    sensors: dict,
    excursion: Excursion | None,
    limits_at,
    user,
) -> Excursion | None:
    """Open, extend, reopen or close the location's unresolved excursion from new readings.

    Per sensor and in reading time: a reading counts as current when it is later than its own
    sensor's latest, so one sensor's clock (fast, or a reading dated years ahead) cannot make
    another sensor's readings look old. Older readings only widen the excursion's min/max:
    out-of-order delivery must not end or restart an excursion in the past. With several
    sensors, the excursion ends only when every sensor reporting since it began is back in
    range. `sensors` (sensor → (time, °C) of its latest reading) is updated as readings pass.

    The walk itself reads and writes nothing: `excursion` is the location's unresolved one
    (locked), `limits_at(location_id)` its storage limits (asked once, only when an excursion
    could open). The excursion is saved once at the end, and the location's lots quarantined
    once, as of the first reading that opened or reopened it — a later reopening in the same
    batch would find every lot there quarantined already.
    """
    touched = opened_by = None
    stored = ...
    for reading in sorted(readings, key=itemgetter("taken_at")):
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
            stored = limits_at(location.pk)  # (min, max, product names), or None: nothing stored
        if not fresh or stored is None or not _outside(value, *stored[:2]):
            continue
        if excursion is None:
            excursion = Excursion(location=location, started_at=at, min_c=value, max_c=value)
        excursion.ended_at = None
        excursion.last_reading_at = max(at, excursion.last_reading_at or at)
        excursion.limit_min_c, excursion.limit_max_c = stored[:2]
        excursion.min_c, excursion.max_c = min(excursion.min_c, value), max(excursion.max_c, value)
        opened_by = opened_by or reading
        touched = excursion
    if touched is not None:
        touched.save()
        if opened_by is not None:
            _quarantine_for(touched, opened_by, user)
    return touched


def _new_readings(by_location: dict[int, list[dict]], result: IngestResult) -> dict:
    """Per location, the readings not stored yet; a resent one is counted in `duplicates`, the
    same sensor and time with another value refused."""
    stored = _stored_values(by_location)
    new_by_location = {}
    for location_id, batch in sorted(by_location.items()):
        new = new_by_location[location_id] = []
        for reading in batch:
            key = (location_id, reading["sensor_id"], reading["taken_at"])
            if key in stored:
                if stored[key] != reading["temperature_c"]:
                    _refuse(
                        "temperature_c",
                        _(
                            "Sensor %(sensor)s at %(taken_at)s is already stored with "
                            "%(stored)s °C, not %(value)s °C."
                        )
                        % {
                            "sensor": key[1],
                            "taken_at": key[2].isoformat(),
                            "stored": stored[key],
                            "value": reading["temperature_c"],
                        },
                        code="conflict",
                    )
                result.duplicates += 1
                continue
            stored[key] = reading["temperature_c"]
            new.append(reading)
    return new_by_location


@transaction.atomic
def readings_ingest(
    *, readings: list[dict], user=None, now: datetime.datetime | None = None
) -> IngestResult:
    """Store temperature readings (all or none) and track excursions per location.

    Each reading: location_id, sensor_id, taken_at (aware datetime), temperature_c (Decimal).
    A reading already stored (same location, sensor and time, same value) is skipped, so a
    gateway may resend; the same key with another value is refused. Readings dated after `now`
    (default: the server's clock) plus the allowed clock skew are refused.

    The queries do not grow with the readings: the batch is checked in Python, inserted in one
    statement, and each location's excursion tracked by one walk in reading time (`_track`);
    an excursion that opens adds its quarantine and its alert.
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
    new_by_location = _new_readings(by_location, result)
    sensors = _latest_per_sensor(list(by_location))  # before this batch's readings are stored
    TemperatureReading.objects.bulk_create(
        TemperatureReading(
            location_id=location_id,
            sensor_id=r["sensor_id"],
            taken_at=r["taken_at"],
            temperature_c=r["temperature_c"],
        )
        for location_id, new in new_by_location.items()
        for r in new
    )
    result.created = sum(len(new) for new in new_by_location.values())
    excursions = {
        excursion.location_id: excursion
        for excursion in Excursion.objects.select_for_update().filter(
            location_id__in=by_location, resolved_at__isnull=True
        )
    }
    # Read once, when first needed: quarantining moves no stock, so the limits cannot change.
    limits = cache(lambda: stored_limits(list(by_location)))
    for location_id, new in new_by_location.items():
        location = locations[location_id]
        excursion = excursions.get(location_id)
        if excursion is not None:
            excursion.location = location  # for the alert and the answer, without a query
        excursion = _track(
            location,
            new,
            sensors=sensors[location_id],
            excursion=excursion,
            limits_at=lambda pk: limits().get(pk),
            user=user,
        )
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
    # All the excursion's lots at once (a pharmacy fridge's ten thousand took 55,000 queries and
    # 38 s one by one, past gunicorn's default timeout): queries do not grow with the lots.
    lots = list(Lot.objects.select_for_update().filter(excursions=excursion).order_by("pk"))
    if resolution == ExcursionResolution.DISCARD:
        _destroy(lots, user=user, on=on, reason=reason, location_id=excursion.location_id)
    # Lots still held elsewhere, destroyed or expired stay as they are.
    _set_statuses(
        _releasable(lots, on=on),
        status=LotStatus.AVAILABLE,
        kind=MovementKind.RELEASE,
        on=on,
        user=user,
        reason=f"Excursion resolved: {reason}",
    )
    return excursion
