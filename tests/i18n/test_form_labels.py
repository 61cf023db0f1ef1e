"""Every field label of the page forms reads in the page's language.

A form field without a label gets one made from its name ("Lot number"), and a ModelForm field one
from the model field: neither goes through gettext, so a Ukrainian page would show English labels
beside Ukrainian text. This walks the forms of every app and fails on such a label.
"""

import importlib
import inspect

import pytest
from django import forms
from django.utils import translation

MODULES = ("courses.forms", "inventory.forms", "config.forms", "history.views", "config.accounts")


def page_forms():
    found = []
    for name in MODULES:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == name:
                found.append(cls)
    return found


def test_the_walk_finds_the_forms():
    names = {cls.__name__ for cls in page_forms()}
    assert {"DoseRecordForm", "PatientForm", "StockFilterForm", "AuditFilter"} <= names


@pytest.mark.parametrize("form", page_forms(), ids=lambda cls: cls.__name__)
def test_every_label_is_translated(form):
    untranslated = []
    for name, field in form.base_fields.items():
        if isinstance(field.widget, forms.HiddenInput):
            continue
        if field.label is None:
            untranslated.append(f"{name}: no label (made from the field name, never translated)")
            continue
        with translation.override("en-gb"):
            english = str(field.label)
        with translation.override("uk"):
            ukrainian = str(field.label)
        if english == ukrainian:
            untranslated.append(f"{name}: {english!r} is the same in Ukrainian")
    assert untranslated == []
