"""Reading a scanned GS1 code with `biip`: DataMatrix / GS1-128 element strings (with or without
a symbology identifier such as `]d2`), their printed form `(01)…(17)…(10)…`, and GS1 Digital Link
URIs (`https://…/01/{gtin}/10/{lot}?17=YYMMDD`, the form a QR code on newer packs carries).

Messages are for the pharmacist at the receiving desk: they name the element that is wrong (GTIN,
lot, expiry …) and what to do, never the parser's own wording (its regexes and class names mean
nothing at a scanner). The parser's text is kept for the log only.
"""

import calendar
import datetime
import logging
import re
from dataclasses import dataclass

import biip
from biip.checksums import gs1_standard_check_digit
from biip.gs1_messages import GS1Message
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

logger = logging.getLogger(__name__)

GROUP_SEPARATOR = "\x1d"  # FNC1 as a scanner transmits it between variable-length elements
_EXAMPLE = "(01)09506000134352(17)270331(10)ABC1"
# Fixed-length dates a lot number can swallow when the scanner drops the separator after it.
_SWALLOWED_DATE = re.compile(r"(1[17])(\d{2}(?:0\d|1[0-2])(?:[0-2]\d|3[01]))")
_ELEMENT_NAMES = {
    "01": gettext_noop("GTIN"),
    "10": gettext_noop("lot number"),
    "11": gettext_noop("production date"),
    "17": gettext_noop("expiry date"),
}


@dataclass(frozen=True)
class Gs1Pack:
    gtin: str  # GTIN-14 as scanned from AI (01)
    lot_number: str  # AI (10)
    expiry_date: datetime.date | None  # AI (17)
    manufacture_date: datetime.date | None  # AI (11)


def _refuse(message: str, *, field: str = "gs1"):
    raise ValidationError({field: ValidationError(message, code="invalid_gs1")})


def gtin_check_digit_error(value: str) -> str | None:
    """None when `value` is a GTIN-8/12/13/14 whose last digit is its GS1 check digit, else a
    sentence saying what is wrong (the check digit it should have)."""
    if not value.isdigit() or len(value) not in (8, 12, 13, 14):
        return _("GTIN %(gtin)s is not a GTIN: it has 8, 12, 13 or 14 digits.") % {"gtin": value}
    expected = gs1_standard_check_digit(value[:-1])
    if int(value[-1]) != expected:
        return _(
            "GTIN %(gtin)s has a wrong check digit: the last digit should be %(expected)s, not "
            "%(digit)s. The code was misread or mistyped."
        ) % {"gtin": value, "expected": expected, "digit": value[-1]}
    return None


def validate_gtin(value: str) -> None:
    """Model/serializer validator: a GTIN-14 with a correct GS1 check digit."""
    if not value:
        return
    if not value.isdigit() or len(value) != 14:
        raise ValidationError(
            _("A GTIN here is 14 digits (GTIN-14; pad a GTIN-13 with a leading 0)."),
            code="invalid",
        )
    error = gtin_check_digit_error(value)
    if error:
        raise ValidationError(error, code="invalid_check_digit")


def _date(element) -> datetime.date | None:
    if element is None:
        return None
    date = element.date
    if date is None:
        name = _(_ELEMENT_NAMES.get(element.ai.ai, gettext_noop("date")))
        _refuse(
            _("The %(element)s (%(ai)s) %(value)s is not a date in YYMMDD form.")
            % {"element": name, "ai": element.ai.ai, "value": element.value}
        )
    # GS1 General Specifications: an expiry day "00" means the last day of that month. biip 5.2
    # already does this; applying it again from the raw digits keeps the rule whatever the parser
    # version returns for day 00.
    if element.value[4:6] == "00":
        date = date.replace(day=calendar.monthrange(date.year, date.month)[1])
    return date


def _separator_hint(value: str) -> str:
    if GROUP_SEPARATOR in value:
        return ""
    return " " + _(
        "If the lot number comes before other elements, the scanner must send the separator "
        "(FNC1, ASCII 29) after it: set the scanner to transmit it, or type the printed text "
        "with its brackets, e.g. %(example)s."
    ) % {"example": _EXAMPLE}


_ELEMENT_FORMS = {
    "00": gettext_noop("the SSCC (00) is 18 digits"),
    "01": gettext_noop("the GTIN (01) is 14 digits"),
    "10": gettext_noop("the lot number (10) is 1 to 20 letters, digits or -./ characters"),
    "11": gettext_noop("the production date (11) is 6 digits YYMMDD and a real date"),
    "17": gettext_noop(
        "the expiry date (17) is 6 digits YYMMDD and a real date (day 00: end of the month)"
    ),
    "21": gettext_noop("the serial number (21) is 1 to 20 characters"),
}
# Only to pick which element to name: the parser's wording itself is never shown.
_PARSER_ELEMENT = re.compile(r"GS1 AI \((\d{2,4})\)")


def _element_problem(parser_error: str | None) -> str:
    found = _PARSER_ELEMENT.search(parser_error or "")
    if not found:
        return ""
    ai = found.group(1)
    rule = (
        _(_ELEMENT_FORMS[ai])
        if ai in _ELEMENT_FORMS
        else _("element (%(ai)s) has the form GS1 prescribes for it") % {"ai": ai}
    )
    return _("The element (%(ai)s) is wrong: %(rule)s.") % {"ai": ai, "rule": rule} + " "


def _message(value: str) -> GS1Message:
    """The element strings of a scan in any of the accepted forms, or a plain refusal."""
    if value.startswith("("):
        try:
            return GS1Message.parse_hri(value)
        except biip.ParseError as exc:
            logger.info("GS1 printed text refused: %s", exc)
            _refuse(
                _element_problem(str(exc))
                + _(
                    "The printed text could not be read: each element is a number in brackets "
                    "followed by its value, e.g. %(example)s."
                )
                % {"example": _EXAMPLE}
            )
    # A QR scanner may prefix its symbology identifier (]Q1 …); biip takes only ]Q3 before a URI.
    value = re.sub(r"^\][A-Za-z]\d(?=https?://)", "", value, flags=re.IGNORECASE)
    result = biip.parse(value)
    if result.gs1_digital_link_uri is not None:
        return result.gs1_digital_link_uri.as_gs1_message()
    if result.gs1_message is not None:
        return result.gs1_message
    logger.info(
        "GS1 scan refused: %s / %s", result.gs1_message_error, result.gs1_digital_link_uri_error
    )
    if re.match(r"^https?://", value, re.IGNORECASE):
        problem = _element_problem(result.gs1_digital_link_uri_error)
        if problem:
            _refuse(problem + _("Scan again, or type the printed text."))
        _refuse(
            _(
                "This web address is not a GS1 Digital Link: it needs /01/ and the pack's "
                "14-digit GTIN in its path, then the lot (/10/…) and the expiry (?17=YYMMDD)."
            )
        )
    problem = _element_problem(result.gs1_message_error)
    if problem:
        _refuse(problem + _("Scan again, or type the printed text.") + _separator_hint(value))
    _refuse(
        _(
            "This is not a GS1 pack code: it should start with (01) and the pack's 14-digit "
            "GTIN, then the expiry (17) and the lot (10), e.g. %(example)s."
        )
        % {"example": _EXAMPLE}
        + _separator_hint(value)
    )
    raise AssertionError("unreachable")


def gs1_parse(value: str) -> Gs1Pack:
    """GTIN, lot and dates from a scan; a ValidationError on `gs1` names what is wrong."""
    value = (value or "").strip()
    if not value:
        _refuse(_("Empty GS1 code: scan the pack's DataMatrix."))
    strings = _message(value).element_strings
    gtin = strings.get(ai="01")
    if gtin is None:
        _refuse(_("The code carries no GTIN (01): scan the code on the pack, not on a vial label."))
    error = gtin_check_digit_error(gtin.value)
    if error:
        _refuse(error)
    lot = strings.get(ai="10")
    if lot is None:
        _refuse(_("The code carries no lot number (10)."))
    expiry = strings.get(ai="17")
    manufacture = strings.get(ai="11")
    swallowed = _SWALLOWED_DATE.search(lot.value[1:])
    if expiry is None and manufacture is None:
        if swallowed:
            _refuse(
                _(
                    "The lot number reads %(lot)r, which runs into what looks like the "
                    "%(element)s (%(ai)s) %(value)s: the separator after the lot is missing."
                )
                % {
                    "lot": lot.value,
                    "element": _(_ELEMENT_NAMES[swallowed.group(1)]),
                    "ai": swallowed.group(1),
                    "value": swallowed.group(2),
                }
                + _separator_hint(value)
            )
        _refuse(_("The code carries neither an expiry date (17) nor a production date (11)."))
    return Gs1Pack(
        gtin=gtin.value,
        lot_number=lot.value,
        expiry_date=_date(expiry),
        manufacture_date=_date(manufacture),
    )
