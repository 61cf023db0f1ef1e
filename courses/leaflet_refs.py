"""Clinician-facing citations of the leaflets: "Ceruloplasmin leaflet — Dosing and
administration", linking to the leaflet's text, never the file name it is stored under."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

from django.urls import reverse
from django.utils.html import format_html

from courses import formulary

LEAFLET_DIR = Path(__file__).resolve().parent / "leaflets"
LEAFLETS = {
    "biocerulin": ("Biocerulin", formulary.BIOCERULIN_FILE),
    "ceruloplasmin": ("Ceruloplasmin", formulary.CERULOPLASMIN_FILE),
    "betaleukin": ("Betaleukin", formulary.BETALEUKIN_FILE),
}
_BY_FILE = {file: (code, name) for code, (name, file) in LEAFLETS.items()}
_FILE_IN_TEXT = re.compile("|".join(re.escape(file) for file in _BY_FILE))


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
    title = f"{name} leaflet — {section}" if section else f"{name} leaflet"
    return format_html('<a class="leaflet-ref" href="{}">{}</a>', url, title)


def cite(text: str):
    """A check's source ("001_….txt: Dosing …") as a clinician reads it, with its link."""
    match = _FILE_IN_TEXT.search(text or "")
    if match is None:
        return text
    code, _ = _BY_FILE[match.group(0)]
    section = text[match.end() :].lstrip(" :—-").strip()
    before = text[: match.start()].strip(" (")
    link = leaflet_link(code, section)
    return format_html("{}{}", f"{before} " if before else "", link)
