"""Text in a template that no translation tag covers: what the template test reports.

Django's own lexer splits a template into text, variables and tags; text outside
{% blocktranslate %} … {% endblocktranslate %}, {% comment %} and {% verbatim %}, with the HTML
tags, <script>/<style> bodies and entities taken out, must hold no letters. User-facing
attributes (aria-label, placeholder, title, alt, data-label, data-confirm, label) written
literally inside a tag must hold none either.
"""

import re
from pathlib import Path

from django.template.base import Lexer, TokenType

TAG = re.compile(r"<[^>]*>", re.S)
RAW = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
ENTITY = re.compile(r"&[#\w]+;")
LETTER = re.compile(r"[^\W\d_]")
ATTRIBUTE = re.compile(
    r"\b(aria-label|placeholder|title|alt|data-label|data-confirm|label)=\"([^\"]*)\"", re.S
)
# Symbols read alike in every language here: units and standards' names.
SYMBOLS = re.compile(r"°C|\b(?:ml|mg|µg|kg|QR|FHIR|GS1)\b")
OPEN = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans"}
OPEN |= {"comment": "endcomment", "verbatim": "endverbatim"}


def untranslated(source: str) -> list[str]:
    """The literal user-facing words of a template that are not marked for translation."""
    text, closing = [], None
    for token in Lexer(source).tokenize():
        if closing:
            if token.token_type == TokenType.BLOCK and token.contents.split()[0] == closing:
                closing = None
            continue
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0]
            closing = OPEN.get(name)
            text.append("\x00")  # a tag separates two runs of text
        elif token.token_type == TokenType.VAR:
            text.append("\x00")
        elif token.token_type == TokenType.TEXT:
            text.append(token.contents)
    flat = RAW.sub(" ", "".join(text))
    found = []
    for tag in TAG.findall(flat):
        for _, value in ATTRIBUTE.findall(tag):
            found += _words(value)
    found += _words(TAG.sub(" ", flat))
    return found


def _words(text: str) -> list[str]:
    runs = [" ".join(run.split()) for run in ENTITY.sub(" ", text).split("\x00")]
    return [run for run in runs if LETTER.search(SYMBOLS.sub("", run))]


def project_templates(base: Path) -> list[Path]:
    return sorted(
        path
        for app in ("config", "courses", "inventory", "history", "notifications")
        for path in (base / app).rglob("templates/**/*")
        if path.suffix in {".html", ".txt"} and path.is_file()
    )
