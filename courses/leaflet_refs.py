"""Clinician-facing citations of the leaflets: "Ceruloplasmin leaflet — Dosing and
administration", linking to the leaflet's text, never the file name it is stored under."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext, gettext_noop

from courses import formulary

LEAFLET_DIR = Path(__file__).resolve().parent / "leaflets"
LEAFLETS = {
    "biocerulin": ("Biocerulin", formulary.BIOCERULIN_FILE),
    "ceruloplasmin": ("Ceruloplasmin", formulary.CERULOPLASMIN_FILE),
    "betaleukin": ("Betaleukin", formulary.BETALEUKIN_FILE),
}
_BY_FILE = {file: (code, name) for code, (name, file) in LEAFLETS.items()}
_FILE_IN_TEXT = re.compile("|".join(re.escape(file) for file in _BY_FILE))

# Sources a check cites that are not a leaflet (courses/checks.py), said in the reader's language.
_OTHER_SOURCES = {
    "patient record: drug allergies": gettext_noop("patient record: drug allergies"),
    "per-kg dosing": gettext_noop("per-kg dosing"),
}
# Section names the checks give themselves rather than quote from the leaflet.
_OWN_SECTIONS = {"preparation": gettext_noop("preparation")}
# "(line 40: 'hypersensitivity to the drug')", "(lines 36–38, 49)": the label is translated, the
# section heading and the quotation stay in the leaflet's language.
_LINES = re.compile(r"\((lines?) ([^:)]+)(?::\s*'([^']*)')?\)")
_LINE_LABELS = {
    ("line", False): gettext_noop("(line %(lines)s)"),
    ("lines", False): gettext_noop("(lines %(lines)s)"),
    ("line", True): gettext_noop("(line %(lines)s: %(quote)s)"),
    ("lines", True): gettext_noop("(lines %(lines)s: %(quote)s)"),
}


def leaflet_text(product_code: str) -> str | None:
    entry = LEAFLETS.get(product_code)
    if entry is None:
        return None
    return (LEAFLET_DIR / entry[1]).read_text(encoding="utf-8")


def _fragment(quote_text: str) -> str:
    """A text fragment (#:~:text=) of the quote's first words, so the browser scrolls to and
    highlights the passage; only words before any elision ("…"), which are verbatim."""
    words = quote_text.split("…")[0].split()[:6]
    return "#:~:text=" + quote(" ".join(words)) if words else ""


def leaflet_link(product_code: str, section: str, quote_text: str = ""):
    """<a href="/leaflets/ceruloplasmin/#…">Ceruloplasmin leaflet — section</a>."""
    name = LEAFLETS[product_code][0]
    url = reverse("leaflet", args=[product_code]) + _fragment(quote_text)
    if not section:
        title = escape(gettext("%(name)s leaflet") % {"name": name})
    else:
        title = escape(gettext("%(product)s leaflet — %(section)s")) % {
            "product": escape(name),
            "section": _section_html(section),
        }
    return format_html('<a class="leaflet-ref" href="{}">{}</a>', url, mark_safe(title))


def _in_english(text: str) -> str:
    words = text.strip()
    if not words:
        return escape(text)
    start = text.index(words)
    return format_html(
        '{}<span lang="en">{}</span>{}', text[:start], words, text[start + len(words) :]
    )


def _section_html(section: str) -> str:
    """A leaflet section as HTML: on an English page as it is; on another, the labels around it
    translated and the leaflet's own words marked as English (WCAG 3.1.2, language of parts)."""
    if (get_language() or "en").startswith("en"):
        return escape(section)
    if section in _OWN_SECTIONS:
        return escape(gettext(_OWN_SECTIONS[section]))
    parts, last = [], 0
    for match in _LINES.finditer(section):
        kind, lines, quoted = match.groups()
        label = escape(gettext(_LINE_LABELS[(kind, quoted is not None)]))
        quote_html = format_html('<q lang="en">{}</q>', quoted) if quoted is not None else ""
        parts += [
            _in_english(section[last : match.start()]),
            label % {"lines": escape(lines), "quote": quote_html},
        ]
        last = match.end()
    parts.append(_in_english(section[last:]))
    return "".join(parts)


def cite(text: str):
    """A check's source ("001_….txt: Dosing …") as a clinician reads it, with its link."""
    match = _FILE_IN_TEXT.search(text or "")
    if match is None:
        return gettext(_OTHER_SOURCES[text]) if text in _OTHER_SOURCES else text
    code, _ = _BY_FILE[match.group(0)]
    section = text[match.end() :].lstrip(" :—-").strip()
    before = text[: match.start()].strip(" (")
    link = leaflet_link(code, section)
    return format_html("{}{}", f"{before} " if before else "", link)
