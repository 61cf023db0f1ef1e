"""E-mails rendered at send time, in each recipient's language.

An alert stores its template name and its context (a snapshot of what it is about, taken when it
was raised), not finished text: the sender renders subject, plain text and HTML per language
group of the recipients (`notifications.selectors.recipient_languages`) inside
`translation.override`, so a Ukrainian-reading ward and an English-reading pharmacist each get
the message in their own language. The snapshot keeps the two promises of rendering at enqueue:
sending never reads the dose or lot (changed or deleted since, it cannot alter the e-mail), and a
retry in one language renders the same bytes (same templates, same context).

The context is JSON with dates, times, datetimes and decimals tagged so they come back as
themselves: the templates format them with the recipient's locale (`|date`, decimal comma).
Lazy translations (choice labels) are stored by their English text and translated at render.
"""

import datetime as dt
from decimal import Decimal

from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import translation
from django.utils.functional import Promise

_TAGS = {
    "datetime": (dt.datetime, dt.datetime.fromisoformat),
    "date": (dt.date, dt.date.fromisoformat),
    "time": (dt.time, dt.time.fromisoformat),
    "decimal": (Decimal, Decimal),
}


def context_encode(value):
    """A JSON-safe copy of a template context; see `context_decode`."""
    if isinstance(value, dict):
        return {str(key): context_encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [context_encode(item) for item in value]
    # datetime before date: a datetime is a date too.
    for tag, (kind, _) in _TAGS.items():
        if isinstance(value, kind):
            return {f"__{tag}__": value.isoformat() if tag != "decimal" else str(value)}
    if isinstance(value, Promise):
        # A lazy translation (a route's label): stored as its English source text and
        # translated again into each recipient's language.
        with translation.override(None):
            return {"__msgid__": str(value)}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)  # a model instance or a lazy string: its text, as the template showed it


def context_decode(value):
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, item),) = value.items()
            tag = key[2:-2] if key.startswith("__") and key.endswith("__") else None
            if tag in _TAGS:
                return _TAGS[tag][1](item)
            if tag == "msgid":
                return translation.gettext(item)
        return {key: context_decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [context_decode(item) for item in value]
    return value


def subject_template(template: str) -> str | None:
    """`<template>_subject.txt` when the template has one, else None (the stored subject)."""
    name = f"notifications/email/{template}_subject.txt"
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return None
    return name


def _subject(template: str, values: dict, subject: str) -> str:
    name = subject_template(template)
    if name:
        subject = render_to_string(name, values)
    # A newline in a subject would be a header injection; Django refuses to send it.
    return " ".join(subject.split())[:255]


def subject_render(*, template: str, context: dict | None, subject: str, language: str) -> str:
    """The subject alone in `language`, as `render` would write it (the alerts page lists each
    row in its reader's language); the stored subject for a row stored without a context."""
    if context is None:
        return subject
    with translation.override(language):
        return _subject(template, context_decode(context), subject)


def render(*, template: str, context: dict, subject: str, language: str) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of one e-mail in `language`; `context` as stored (encoded).

    `subject` is used as given when the template has no subject template of its own.
    """
    with translation.override(language):
        values = context_decode(context)
        subject = _subject(template, values, subject)
        values = {**values, "subject": subject, "language": language}
        return (
            subject,
            render_to_string(f"notifications/email/{template}.txt", values),
            render_to_string(f"notifications/email/{template}.html", values),
        )
