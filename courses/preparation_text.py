"""`courses.preparation`'s messages in the reader's language (Django's gettext, active language),
and the scheduling engine's (`courses.schedule`, `courses.dosing`: pattern descriptions and their
errors are `Msg`s too).

Pages write numbers and dates as the language does (decimal comma and `DATE_FORMAT` in
Ukrainian); the API keeps the point and ISO dates in its text as in its fields
(`localize_numbers=False`) but words follow the request's language. Leaflet quotations
(`Citation.quote`) are never passed through here: they stay in the leaflet's own language.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache

from django.utils import translation
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, ngettext, npgettext, pgettext

from courses.preparation import Msg, Renderer
from courses.schedule import Pattern


class LocaleRenderer(Renderer):
    def __init__(self, *, localize_numbers: bool):
        self.localize_numbers = localize_numbers

    def gettext(self, msg: Msg) -> str:
        if msg.plural:
            if msg.context:
                return npgettext(msg.context, msg.text, msg.plural, msg.count)
            return ngettext(msg.text, msg.plural, msg.count)
        return pgettext(msg.context, msg.text) if msg.context else gettext(msg.text)

    def number(self, amount: Decimal) -> str:
        return number_format(amount) if self.localize_numbers else f"{amount:f}"

    def date(self, day: dt.date) -> str:
        return date_format(day) if self.localize_numbers else day.isoformat()

    def __call__(self, value) -> str:
        if isinstance(value, Msg):
            # A list of doses repeats the same sentences (a ward's silent notes, a protocol's
            # steps): each is written once per language. The key is the whole message, its
            # suggested lot included, so two doses never share a sentence that differs.
            return _rendered(translation.get_language(), self.localize_numbers, value)
        return super().__call__(value)

    def render(self, value) -> str:
        return super().__call__(value)


@lru_cache(maxsize=4096)
def _rendered(language: str | None, localize_numbers: bool, msg: Msg) -> str:
    return _RENDERERS[localize_numbers].render(msg)


_RENDERERS = {
    True: LocaleRenderer(localize_numbers=True),
    False: LocaleRenderer(localize_numbers=False),
}
PAGE = _RENDERERS[True]
API = _RENDERERS[False]


def english_name(label) -> str:
    """A choice's label in English (`courses.preparation` takes names in English, its msgids)."""
    with translation.override("en-gb"):
        return str(label)


def pattern_text(pattern: Pattern | dict, *, render: LocaleRenderer = PAGE) -> str:
    """A schedule pattern's description in the reader's language ('every other day', 'через
    день'); `render=API` for the API's text."""
    if isinstance(pattern, dict):
        pattern = Pattern.from_dict(pattern)
    return render(pattern.description())
