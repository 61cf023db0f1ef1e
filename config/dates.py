"""Sane bounds for every date and time a user or client gives: one rule, used by the API's
serializers, the list filters and the pages' forms alike.

Python's dates reach year 9999 and PostgreSQL's time-zone offsets ±15:59; a date at either end
overflows as soon as a day is added or a zone applied (500 OverflowError), an offset beyond
±15:59 is refused by the database (500 DataError). Nothing in a hospital pharmacy is dated
before 1900 or after 2199, so those bounds are refused up front as a 400 naming the field.
"""

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_filters.fields import IsoDateTimeField
from rest_framework import serializers

EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)
MAX_OFFSET = dt.timedelta(hours=15, minutes=59)  # PostgreSQL's limit, and more than any zone


def date_error(value: dt.date) -> str | None:
    if not EARLIEST <= value <= LATEST:
        return _("%(day)s is outside %(earliest)s – %(latest)s.") % {
            "day": value.isoformat(),
            "earliest": EARLIEST.isoformat(),
            "latest": LATEST.isoformat(),
        }
    return None


def datetime_error(value: dt.datetime) -> str | None:
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        return _("A time-zone offset is at most ±15:59.")
    return date_error(value.date())


def _raise(message: str | None) -> None:
    if message:
        raise ValidationError(message, code="out_of_range")


# --- Forms and list filters ----------------------------------------------------------------------


class BoundedDateField(forms.DateField):
    def validate(self, value):
        super().validate(value)
        if value is not None:
            _raise(date_error(value))


class _BoundedDateTime:
    def to_python(self, value):
        # Django attaches the zone to a naive value without converting, so nothing overflows
        # before this check; the database would (or refuse the offset).
        result = super().to_python(value)
        if result is not None:
            _raise(datetime_error(result))
        return result


class BoundedDateTimeField(_BoundedDateTime, forms.DateTimeField):
    pass


class BoundedIsoDateTimeField(_BoundedDateTime, IsoDateTimeField):
    pass


class DateFilter(django_filters.DateFilter):
    field_class = BoundedDateField


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField


# --- API -----------------------------------------------------------------------------------------


def bounded_date(value: dt.date) -> dt.date:
    """A DRF validator for DateField."""
    message = date_error(value)
    if message:
        raise serializers.ValidationError(message, code="out_of_range")
    return value


class BoundedApiDateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField, refusing offsets beyond ±15:59 and dates outside the bounds."""

    def enforce_timezone(self, value):
        message = datetime_error(value)
        if message:
            raise serializers.ValidationError(message, code="out_of_range")
        return super().enforce_timezone(value)
