"""A label check's finding as words that can be said in any of the site's languages.

A finding is stored on its course (`Course.hard_stops`, `Course.warnings`) and read later by
people who may read another language than the prescriber's. So it keeps, beside its English
`message` (what older rows and readers of the raw JSON have), the message's msgid (`template`,
marked for extraction) and its parameters, and is rendered at display time in the reader's
language (`finding_text`: the `finding_message` template filter and the course serializer).

Parameters are JSON. A plain string or number is said as it is (product names, dates, the
diluent a prescriber typed); the others say how to translate them:

- `{"msgid": "...", "params": {...}}`: words, translated, with parameters of their own (and
  `"plural"`, `"count"` when they follow a number: Ukrainian has three forms);
- `{"list": [...]}`: parameters joined with ", " (or `"separator"`);
- `{"date": "2026-12-01"}`: a date, ISO in English and the API, `DATE_FORMAT` on pages;
- `{"number": "3.5"}`: a decimal, with a decimal comma on Ukrainian pages, never in the API;
- `{"unit": "mg/kg"}`: a unit, as the models label it.

English is produced by the same templates with nothing translated, so the stored `message` of a
new finding is what the check said before it had a template.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import formats
from django.utils.translation import gettext, gettext_noop, ngettext

from courses.preparation import Day, Joined, Msg
from courses.units import UNIT_LABELS, Mass, tidy

# The unit labels of courses.models.DoseUnit and courses.units.UNIT_LABELS, marked for
# extraction here: a unit in a finding is stored as its English text, translated when shown.
UNITS = {
    "mg": gettext_noop("mg"),
    "mg/kg": gettext_noop("mg/kg"),
    "ug/kg": gettext_noop("ug/kg"),
    "µg": gettext_noop("µg"),
    "ng": gettext_noop("ng"),
    "ng/kg": gettext_noop("ng/kg"),
}


def words(msgid: str, **params) -> dict:
    """A parameter that is itself words to translate (`msgid` marked with gettext_noop)."""
    return {"msgid": msgid, "params": params} if params else {"msgid": msgid}


def number(value) -> dict:
    """A Decimal parameter, written as the checks always wrote it (`normalize():f`)."""
    return {"number": f"{value.normalize():f}"}


def unit(text: str) -> dict:
    return {"unit": text}


def mass(amount: Mass) -> dict:
    """A Mass as its str() writes it ("100 mg"), the unit translated when shown."""
    return words(
        gettext_noop("%(amount)s %(unit)s"),
        amount={"number": f"{tidy(amount.amount):f}"},
        unit=unit(UNIT_LABELS[amount.unit]),
    )


def unit_label(text: str) -> str:
    """A unit's label in the active language (an unknown one as it is)."""
    known = UNITS.get(text)
    return gettext(known) if known else text


def listed(*items) -> dict:
    return {"list": list(items)}


def msg_param(value) -> object:
    """The scheduling engine's words (`courses.preparation.Msg`: a pattern's description) as a
    parameter: stored as JSON, translated when shown."""
    if isinstance(value, Msg):
        found = {"msgid": value.text}
        if value.plural:
            found |= {"plural": value.plural, "count": value.count}
        if value.params:
            found["params"] = {name: msg_param(param) for name, param in value.params}
        return found
    if isinstance(value, Joined):
        return {"list": [msg_param(part) for part in value.parts], "separator": value.separator}
    if isinstance(value, Day):
        return {"date": value.day.isoformat()}
    return value


def _english(text: str, plural: str = "", count: int | None = None) -> str:
    return plural if plural and count != 1 else text


def _translated(text: str, plural: str = "", count: int | None = None) -> str:
    return ngettext(text, plural, count) if plural else gettext(text)


def _param(value, translate, localize: bool):
    if isinstance(value, dict):
        if "msgid" in value:
            template = translate(value["msgid"], value.get("plural", ""), value.get("count"))
            return _render(template, value.get("params") or {}, translate, localize)
        if "list" in value:
            separator = value.get("separator", ", ")
            return separator.join(str(_param(item, translate, localize)) for item in value["list"])
        if "date" in value:
            day = dt.date.fromisoformat(value["date"])
            return formats.date_format(day) if localize else value["date"]
        if "number" in value:
            text = value["number"]
            return formats.number_format(text, use_l10n=True) if localize else text
        if "unit" in value:
            known = UNITS.get(value["unit"])
            return translate(known) if known else value["unit"]
        raise ValueError(f"Unknown finding parameter {value!r}")
    return value


def _render(template: str, params: dict, translate, localize: bool) -> str:
    """`template` already in the reader's language; its parameters translated here."""
    values = {name: _param(value, translate, localize) for name, value in params.items()}
    return template % values


def finding_text(finding: dict, *, localize: bool = False) -> str:
    """A stored finding's message in the active language; an old row without a template is
    shown as it was stored. `localize` writes decimals as the page's locale does (pages only)."""
    template = finding.get("template")
    if not template:
        return finding.get("message", "")
    return _render(gettext(template), finding.get("params") or {}, _translated, localize)


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    source: str
    template: str = ""
    params: dict = field(default_factory=dict)

    @classmethod
    def of(cls, code: str, template: str, source: str, **params) -> Finding:
        """A finding from its msgid (marked with gettext_noop) and parameters; its `message` is
        the English text."""
        message = _render(template, params, _english, localize=False)
        return cls(code, message, source, template, params)

    def as_dict(self) -> dict:
        found = {"code": self.code, "message": self.message, "source": self.source}
        if self.template:
            found |= {"template": self.template, "params": self.params}
        return found

    def __str__(self) -> str:
        return f"[{self.code}] {self.message} ({self.source})"

    def text(self) -> str:
        """This finding as `str()` says it, in the active language (the API's refusal)."""
        return f"[{self.code}] {finding_text(self.as_dict())} ({self.source})"
