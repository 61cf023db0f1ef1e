"""Stock alerts: expiry thresholds, temperature excursions, shortages against scheduled demand.

Like courses.alerts: each function selects what is due and enqueues outbox rows under unique
keys (safe to run twice); `notifications.send_due` delivers. Excursion alerts go to the
pharmacists and the location's ward whatever their digest opt-out: they need action.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, Max, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from inventory.models import Excursion, Presentation, StorageLocation
from inventory.selectors import expiry_alert_lots, stock_forecast, unused_at_expiry
from notifications.models import AlertMarker, Notification, NotificationKind
from notifications.selectors import role_recipients, ward_recipients
from notifications.services import (
    alert_markers_add,
    notification_enqueue,
    notifications_send_after_commit,
    site_link,
)

# --- Expiry ----------------------------------------------------------------------------------


def expiry_marker_key(lot: dict, days: int) -> str:
    return f"expiry:lot:{lot['id']}:{days}d"


def _expiry_marker_key_sql():
    """`expiry_marker_key` of the outer lot row and its tightest threshold, in SQL."""
    return Concat(
        Value("expiry:lot:"),
        Cast(OuterRef("id"), CharField()),
        Value(":"),
        Cast(OuterRef("threshold"), CharField()),
        Value("d"),
        output_field=CharField(),
    )


def expiry_markers_prune(*, now: dt.datetime) -> int:
    """Delete the expiry markers no run will ask for again; returns how many.

    A lot is marked when it crosses a threshold, at most max(EXPIRY_ALERT_DAYS) days before its
    expiry, and only unexpired lots are ever alerted: a marker older than that (and a month's
    margin) belongs to a lot past its expiry. Without this the table keeps a row per lot and
    threshold for ever (three million at a million lots). Run after the day's digest."""
    keep = dt.timedelta(days=max(settings.EXPIRY_ALERT_DAYS) + 31)
    deleted, _ = AlertMarker.objects.filter(
        key__startswith="expiry:lot:", created_at__lt=now - keep
    ).delete()
    return deleted


def _expiry_summary(lots: list[dict], presentations: dict, thresholds) -> dict:
    """Counts over every newly crossed lot: per threshold and per presentation."""
    by_threshold = {days: {"days": days, "lots": 0, "vials": 0} for days in sorted(thresholds)}
    by_presentation = {}
    for lot in lots:
        row = by_threshold[lot["threshold"]]
        row["lots"] += 1
        row["vials"] += lot["on_hand"]
        row = by_presentation.get(lot["presentation_id"])
        if row is None:  # str() of a presentation translates its name: once each, not per lot
            row = by_presentation[lot["presentation_id"]] = {
                "presentation": str(presentations[lot["presentation_id"]]),
                "lots": 0,
                "vials": 0,
                "unused": 0,
            }
        row["lots"] += 1
        row["vials"] += lot["on_hand"]
        row["unused"] += lot["unused"]
    return {
        "thresholds": [row for row in by_threshold.values() if row["lots"]],
        "presentations": sorted(by_presentation.values(), key=lambda row: row["presentation"]),
    }


def expiry_alerts_enqueue(*, on: dt.date) -> Notification | None:
    """One digest a day to the pharmacists about the lots that newly crossed 90/30/7 days to
    expiry: a summary they can act on, not a list of every lot.

    It counts every newly crossed lot per threshold and per presentation, then lists at most
    EXPIRY_ALERT_LIST_LIMIT lots: first those whose vials scheduled doses will not use before
    they expire (the ones to move, use first or return), then the soonest to expire; the rest
    are "and N more", linked to the stock page's expiry list. A lot counts under the tightest
    threshold it has crossed (a lot received with 20 days left counts once, at 30 days) and is
    then marked for every threshold crossed — every lot, listed or not — so each lot is alerted
    once per threshold. Key expiry:<date>: one digest a day; lots crossing later that day wait
    for tomorrow's, because markers are written only with a digest. Available lots with stock
    on hand only (the expiry day itself counts as usable).
    """
    thresholds = settings.EXPIRY_ALERT_DAYS
    # The marker check runs in the lots' own query (the marker's unique key, per lot), not as a
    # list of tens of thousands of keys sent back to the database. Marked lots are read too:
    # their usable vials are the new lots' FEFO predecessors for the unused figures, read in
    # the same scan rather than a second pass over the same lots and stock levels.
    scanned = list(
        expiry_alert_lots(
            on=on,
            days=max(thresholds),
            thresholds=thresholds,
            marked=Exists(AlertMarker.objects.filter(key=_expiry_marker_key_sql())),
            usable=True,
        )
    )
    lots = [lot for lot in scanned if not lot["marked"]]
    if not lots:
        return None
    presentation_ids = {lot["presentation_id"] for lot in lots}
    # The forecast's "expiring before it can be used", for the new lots' presentations only.
    unused = unused_at_expiry(
        start=on,
        last_expiry=max(lot["expiry_date"] for lot in lots),
        presentation_ids=presentation_ids,
        usable=(
            (lot["presentation_id"], lot["id"], lot["expiry_date"], lot["usable"])
            for lot in scanned
        ),
    )
    for lot in lots:
        lot["unused"] = unused.get(lot["id"], 0)
    presentations = Presentation.objects.select_related("product").in_bulk(presentation_ids)
    # Lots with vials to act on first; each group keeps the query's soonest-expiry-first order.
    listed = sorted(lots, key=lambda lot: not lot["unused"])[: settings.EXPIRY_ALERT_LIST_LIMIT]
    rows = [
        {
            "threshold_days": lot["threshold"],
            "lot_number": lot["lot_number"],
            "presentation": str(presentations[lot["presentation_id"]]),
            "expiry_date": lot["expiry_date"],
            "days_left": (lot["expiry_date"] - on).days,
            "on_hand": lot["on_hand"],
            "unused": lot["unused"],
            "no_use": lot["unused"] >= lot["on_hand"],
            "url": site_link(reverse("stock-lot", args=[lot["id"]])),
        }
        for lot in listed
    ]
    within_days = max(lot["threshold"] for lot in lots)
    with transaction.atomic():
        notification, created = notification_enqueue(
            kind=NotificationKind.EXPIRY_ALERT,
            key=f"expiry:{on.isoformat()}",
            recipients=role_recipients(Role.PHARMACIST),
            template="expiry_alert",
            context={
                "on": on,
                "within_days": within_days,
                "total": len(lots),
                **_expiry_summary(lots, presentations, thresholds),
                "unused_lots": sum(1 for lot in lots if lot["unused"]),
                "lots": rows,
                "more": len(lots) - len(rows),
                "limit": settings.EXPIRY_ALERT_LIST_LIMIT,
                # The stock page lists every lot expiring within the days, soonest first.
                "url": site_link(reverse("stock"))
                + f"?expiring_within_days={within_days}#stock-lots",
            },
            subject_type="expiry",
            threshold=",".join(sorted({f"{lot['threshold']}d" for lot in lots})),
            for_date=on,
        )
        if not created:
            return None
        alert_markers_add(
            notification=notification,
            keys=(
                expiry_marker_key(lot, days)
                for lot in lots
                for days in thresholds
                if days >= lot["threshold"]
            ),
        )
    return notification


# --- Temperature excursions ------------------------------------------------------------------


def _location_recipients(location: StorageLocation) -> list[str]:
    # digest=False: an excursion or a silent sensor cannot be opted out of.
    addresses = set(role_recipients(Role.PHARMACIST))
    if location.ward_id:
        addresses.update(ward_recipients(location.ward, role=None))
    return sorted(addresses)


def _excursion_recipients(excursion: Excursion) -> list[str]:
    return _location_recipients(excursion.location)


def _excursion_context(excursion: Excursion) -> dict:
    lots = excursion.lots.select_related("presentation__product").order_by("pk")
    listed = list(lots[: settings.EXCURSION_LOTS_LISTED])
    total = len(listed) if len(listed) < settings.EXCURSION_LOTS_LISTED else lots.count()
    return {
        "url": site_link(reverse("cold-chain"))
        + f"?location={excursion.location_id}#excursions-pending",
        "location": excursion.location.name,
        "started_at": timezone.localtime(excursion.started_at),
        "status": excursion.status,
        "ended_at": timezone.localtime(excursion.ended_at) if excursion.ended_at else None,
        "limits": (
            f"{excursion.limit_min_c}–{excursion.limit_max_c} °C"
            if excursion.limit_min_c is not None
            else f"≤ {excursion.limit_max_c} °C"
        ),
        "min_c": excursion.min_c,
        "max_c": excursion.max_c,
        "minutes_out": excursion.minutes_out_of_range,
        "lots": [
            {
                "lot_number": lot.lot_number,
                "presentation": str(lot.presentation),
                "url": site_link(reverse("stock-lot", args=[lot.pk])),
            }
            for lot in listed
        ],
        # A pharmacy fridge quarantines thousands of lots: the rest are on the stock page.
        "more": total - len(listed),
        "stock_url": site_link(reverse("stock")) + f"?location={excursion.location_id}",
    }


def excursion_alert_enqueue(*, excursion: Excursion) -> bool:
    """Alert at once that an excursion opened; one per excursion (key excursion_alert:…:<id>).

    Called by `readings_ingest` inside its transaction for every excursion it touched: the row
    and the sender's wake-up both vanish if the readings roll back.
    """
    key = f"excursion_alert:excursion:{excursion.pk}"
    if Notification.objects.filter(key=key).exists():
        return False  # extended by later readings: the reminders carry on
    _, created = notification_enqueue(
        kind=NotificationKind.EXCURSION_ALERT,
        key=key,
        recipients=_excursion_recipients(excursion),
        template="excursion_alert",
        context=_excursion_context(excursion),
        subject_type="excursion",
        subject_id=excursion.pk,
        due_at=timezone.now(),
    )
    if created:
        notifications_send_after_commit()
    return created


def excursion_reminders_enqueue(*, now: dt.datetime) -> int:
    """Every EXCURSION_REMINDER_HOURS while an excursion is unresolved (still out of range, or
    back in range and awaiting a pharmacist's release or discard). Key per excursion and slot:
    slot n is due at started_at + n × the interval; only the current slot is sent, so a scan
    after an outage sends one reminder, not the ones it missed."""
    every = dt.timedelta(hours=settings.EXCURSION_REMINDER_HOURS)
    created = 0
    for excursion in Excursion.objects.filter(
        resolved_at__isnull=True, started_at__lte=now - every
    ).select_related("location__ward"):
        slot = int((now - excursion.started_at) / every)
        key = f"excursion_reminder:excursion:{excursion.pk}:{slot}"
        if Notification.objects.filter(key=key).exists():
            continue
        hours = slot * settings.EXCURSION_REMINDER_HOURS
        _, new = notification_enqueue(
            kind=NotificationKind.EXCURSION_REMINDER,
            key=key,
            recipients=_excursion_recipients(excursion),
            template="excursion_reminder",
            context={**_excursion_context(excursion), "hours": hours},
            subject_type="excursion",
            subject_id=excursion.pk,
            threshold=f"{hours}h",
            due_at=excursion.started_at + slot * every,
        )
        created += new
    return created


def sensor_silence_alerts_enqueue(*, now: dt.datetime) -> int:
    """Alert when an active location that has a sensor (it has sent readings) sent none for
    SENSOR_SILENT_MINUTES: a dead sensor or gateway would otherwise look like a fridge in range.

    Key per location and last reading time: one alert per silence, and a new one if readings
    resume and stop again. Reading time, not arrival time, counts; readings from the future are
    refused at ingest, so a wrong clock cannot keep a location looking alive.
    """
    silent_for = dt.timedelta(minutes=settings.SENSOR_SILENT_MINUTES)
    created = 0
    for location in (
        StorageLocation.objects.filter(active=True)
        .annotate(last_reading_at=Max("readings__taken_at"))
        .filter(last_reading_at__lt=now - silent_for)
        .select_related("ward")
        .order_by("pk")
    ):
        last = location.last_reading_at
        minutes = int((now - last).total_seconds() // 60)
        _, new = notification_enqueue(
            kind=NotificationKind.SENSOR_SILENT,
            key=f"sensor_silent:location:{location.pk}:{last.isoformat()}",
            recipients=_location_recipients(location),
            template="sensor_silent",
            context={
                "location": location.name,
                "last_reading_at": timezone.localtime(last),
                "minutes": minutes,
                "limit_minutes": settings.SENSOR_SILENT_MINUTES,
            },
            subject_type="location",
            subject_id=location.pk,
            due_at=now,
        )
        created += new
    return created


# --- Shortage ----------------------------------------------------------------------------------


def shortage_alerts_enqueue(*, on: dt.date) -> int:
    """Usable stock against scheduled demand for SHORTAGE_HORIZON_DAYS from `on` (the forecast's
    FEFO simulation); one alert to the pharmacists per presentation and first short day (key
    shortage:presentation:<id>:<date>), so a shortage moving to another day is told again."""
    forecast = stock_forecast(start=on, days=settings.SHORTAGE_HORIZON_DAYS)
    short = [row for row in forecast["presentations"] if row["shortages"]]
    if not short:
        return 0
    presentations = Presentation.objects.select_related("product").in_bulk(
        [row["presentation"] for row in short]
    )
    recipients = role_recipients(Role.PHARMACIST)
    created = 0
    for row in short:
        first = row["shortages"][0]["date"]
        presentation = presentations[row["presentation"]]
        _, new = notification_enqueue(
            kind=NotificationKind.SHORTAGE_ALERT,
            key=f"shortage:presentation:{presentation.pk}:{first.isoformat()}",
            recipients=recipients,
            template="shortage_alert",
            context={
                "short_total": sum(s["short"] for s in row["shortages"]),
                "presentation": str(presentation),
                "first": first,
                "horizon_end": forecast["end"],
                "needed": row["needed"],
                "usable": row["usable_at_start"],
                "shortages": row["shortages"],
                "url": site_link(reverse("stock-forecast-page")),
            },
            subject_type="presentation",
            subject_id=presentation.pk,
            for_date=first,
        )
        created += new
    return created
