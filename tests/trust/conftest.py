import datetime as dt
from decimal import Decimal


def excursion_recorded(location, *, user, temperatures=(5, 12, 5)):
    """Readings of one sensor at `location`, 30 minutes apart and ending 30 minutes ago, whose
    out-of-range values open an excursion there (and quarantine the lots, and alert)."""
    from inventory.services import readings_ingest

    now = dt.datetime.now(dt.UTC)
    count = len(temperatures)
    return readings_ingest(
        readings=[
            {
                "location_id": location.pk,
                "sensor_id": "trust-sensor",
                "taken_at": now - dt.timedelta(minutes=30 * (count - index)),
                "temperature_c": Decimal(value),
            }
            for index, value in enumerate(temperatures)
        ],
        user=user,
    )
