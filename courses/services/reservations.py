"""Holding vials for the doses that come due."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from courses import selectors, stock
from courses.schedule import local_date


def doses_reserve(*, start: dt.date, end: dt.date, user=None) -> int:
    """Reserve stock for the scheduled doses of active courses from `start` to `end` (inclusive).

    Safe to run again: doses that already hold their vials are skipped, and inventory's
    reservations are idempotent per dose reference besides. Returns the number of doses reserved
    for.
    """
    doses = list(selectors.doses_due(start=start, end=end))
    reserved = stock.doses_reserved([dose.id for dose in doses])
    count = 0
    for dose in doses:
        if dose.id in reserved or not dose.vials:
            continue
        # One transaction per dose: a shortage of one leaves the others' holds in place.
        with transaction.atomic():
            on = local_date(dose.scheduled_at, dose.course.time_zone)
            try:
                if stock.reserve(dose_id=dose.id, vials=dose.vials, on=on, user=user):
                    count += 1
            except ValidationError:
                continue  # a shortage: inventory's shortage alerts report it from demand_lines()
    return count
