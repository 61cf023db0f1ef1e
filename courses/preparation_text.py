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

_ACTIVE = object()  # a renderer's language: whichever is active at each call


class LocaleRenderer(Renderer):
    def __init__(self, *, localize_numbers: bool, language=_ACTIVE):
        self.localize_numbers = localize_numbers
        self.language = language
        # A bound renderer's numbers and dates as written (see `bound`); None: not kept.
        self._written: dict | None = None if language is _ACTIVE else {}

    def bound(self) -> LocaleRenderer:
        """This renderer in the active language, looked up once, for one page or response: it
        also keeps each number and date it has written (formats and settings do not change
        within a response, and the doses of a list repeat them: 200 ml, 100 mg, 30)."""
        return LocaleRenderer(
            localize_numbers=self.localize_numbers, language=translation.get_language()
        )

    def gettext(self, msg: Msg) -> str:
        language = translation.get_language() if self.language is _ACTIVE else self.language
        # A list of doses repeats the same sentences with other numbers: each sentence's words
        # are looked up once per language, its numbers written each time.
        return _translated(language, msg.text, msg.plural, msg.count, msg.context)

    def number(self, amount: Decimal) -> str:
        if not self.localize_numbers:
            return f"{amount:f}"
        if self._written is None:
            return number_format(amount)
        # By its exact text: 1.0 and 1.00 are equal Decimals (one key) but written differently.
        key = (type(amount), str(amount))
        found = self._written.get(key)
        if found is None:
            found = self._written[key] = number_format(amount)
        return found

    def unit(self, unit: str) -> str:
        if self._written is None:
            return super().unit(unit)
        key = ("unit", unit)
        found = self._written.get(key)
        if found is None:
            found = self._written[key] = super().unit(unit)
        return found

    def date(self, day: dt.date) -> str:
        if not self.localize_numbers:
            return day.isoformat()
        if self._written is None:
            return date_format(day)
        found = self._written.get(day)
        if found is None:
            found = self._written[day] = date_format(day)
        return found


@lru_cache(maxsize=4096)
def _translated(language: str | None, text: str, plural: str, count, context: str) -> str:
    """A message's words in `language`: every input of Django's lookup is in the key (the
    count picks the plural form, the context the declension)."""
    if translation.get_language() != language:
        with translation.override(language):
            return _translated.__wrapped__(language, text, plural, count, context)
    if plural:
        if context:
            return npgettext(context, text, plural, count)
        return ngettext(text, plural, count)
    return pgettext(context, text) if context else gettext(text)


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
