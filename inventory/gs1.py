"""Reading a scanned GS1 DataMatrix / GS1-128 string (or its printed HRI form) with `biip`."""

import calendar
import datetime
from dataclasses import dataclass

import biip
from biip.gs1_messages import GS1Message
from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class Gs1Pack:
    gtin: str  # GTIN-14 as scanned from AI (01)
    lot_number: str  # AI (10)
    expiry_date: datetime.date | None  # AI (17)
    manufacture_date: datetime.date | None  # AI (11)


def _refuse(message: str):
    raise ValidationError({"gs1": ValidationError(message, code="invalid_gs1")})


def _date(element) -> datetime.date | None:
    if element is None:
        return None
    date = element.date
    # GS1 General Specifications: an expiry day "00" means the last day of that month. biip 5.2
    # already does this; applying it again from the raw digits keeps the rule whatever the parser
    # version returns for day 00.
    if element.value[4:6] == "00":
        date = date.replace(day=calendar.monthrange(date.year, date.month)[1])
    return date


def gs1_parse(value: str) -> Gs1Pack:
    """GTIN, lot and dates from a scan; a ValidationError on `gs1` names what is wrong."""
    value = (value or "").strip()
    if not value:
        _refuse("Empty GS1 code.")
    try:
        if value.startswith("("):
            message = GS1Message.parse_hri(value)
        else:
            result = biip.parse(value)
            message = result.gs1_message
            if message is None:
                _refuse(f"Not a GS1 element string: {result.gs1_message_error}")
    except biip.ParseError as exc:
        _refuse(f"Not a GS1 element string: {exc}")
    strings = message.element_strings
    gtin = strings.get(ai="01")
    if gtin is None:
        _refuse("The code carries no GTIN (AI 01).")
    if gtin.gtin is None:
        _refuse(f"GTIN {gtin.value} is not valid: {gtin.gtin_error}")
    lot = strings.get(ai="10")
    if lot is None:
        _refuse("The code carries no lot number (AI 10).")
    expiry = strings.get(ai="17")
    manufacture = strings.get(ai="11")
    if expiry is None and manufacture is None:
        _refuse("The code carries neither an expiry date (AI 17) nor a production date (AI 11).")
    return Gs1Pack(
        gtin=gtin.value,
        lot_number=lot.value,
        expiry_date=_date(expiry),
        manufacture_date=_date(manufacture),
    )
