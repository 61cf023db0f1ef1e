"""The Ukrainian catalogue: complete, not fuzzy, plural forms right, up to date with the sources.

The last test runs `makemessages` on a copy of the sources (so the committed catalogue is never
touched) and compares its msgids with the committed ones: a string marked for translation but
missing from the catalogue, or a catalogue entry no source uses any more, fails it.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

BASE = Path(settings.BASE_DIR)
CATALOGUE = BASE / "config" / "locale" / "uk" / "LC_MESSAGES" / "django.po"
UKRAINIAN_PLURALS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
    "(n%100<10 || n%100>=20) ? 1 : 2);"
)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
APPS = ("config", "courses", "inventory", "history", "notifications")


@pytest.fixture(scope="module")
def catalogue():
    return polib.pofile(str(CATALOGUE))


def test_every_entry_is_translated_and_none_is_fuzzy(catalogue):
    assert not catalogue.metadata_is_fuzzy
    assert [entry.msgid for entry in catalogue.untranslated_entries()] == []
    assert [entry.msgid for entry in catalogue.fuzzy_entries()] == []
    assert [entry.msgid for entry in catalogue.obsolete_entries()] == []
    assert catalogue.percent_translated() == 100
    assert len(catalogue) > 500  # the whole product, not a sample


def test_ukrainian_has_three_plural_forms_and_every_plural_entry_fills_them(catalogue):
    assert catalogue.metadata["Plural-Forms"] == UKRAINIAN_PLURALS
    plurals = [entry for entry in catalogue if entry.msgid_plural]
    assert plurals
    for entry in plurals:
        assert sorted(entry.msgstr_plural) == [0, 1, 2], entry.msgid
        assert all(entry.msgstr_plural.values()), entry.msgid


def test_translations_keep_every_placeholder_of_the_source(catalogue):
    for entry in catalogue:
        wanted = set(PLACEHOLDER.findall(entry.msgid)) | set(
            PLACEHOLDER.findall(entry.msgid_plural or "")
        )
        forms = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) == wanted, entry.msgid


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "1 місяць"),
        (2, "2 місяці"),
        (4, "4 місяці"),
        (5, "5 місяців"),
        (11, "11 місяців"),
        (12, "12 місяців"),
        (14, "14 місяців"),
        (21, "21 місяць"),
        (22, "22 місяці"),
        (25, "25 місяців"),
        (111, "111 місяців"),
    ],
)
def test_the_compiled_catalogue_picks_the_ukrainian_plural_form(count, expected):
    with translation.override("uk"):
        text = translation.ngettext("%(count)d month", "%(count)d months", count)
    assert text % {"count": count} == expected


def test_english_keeps_its_source_plurals():
    with translation.override("en-gb"):
        assert translation.ngettext("%(count)d month", "%(count)d months", 1) == "%(count)d month"
        assert translation.ngettext("%(count)d month", "%(count)d months", 2) == "%(count)d months"


def test_the_catalogue_holds_exactly_the_strings_the_sources_mark(tmp_path, catalogue):
    if shutil.which("xgettext") is None:
        pytest.fail("xgettext (GNU gettext) is needed: `make install` installs it")
    copy = tmp_path / "src"
    copy.mkdir()
    shutil.copy(BASE / "manage.py", copy)
    for app in APPS:
        shutil.copytree(
            BASE / app,
            copy / app,
            ignore=shutil.ignore_patterns("locale", "__pycache__", "static", "*.mo"),
        )
    (copy / "config" / "locale").mkdir()
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "uk", "--no-obsolete"],
        cwd=copy,
        env={
            "DJANGO_DEBUG": "1",
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    fresh = polib.pofile(str(copy / "config" / "locale" / "uk" / "LC_MESSAGES" / "django.po"))
    keys = {(e.msgctxt, e.msgid, e.msgid_plural) for e in fresh}
    committed = {(e.msgctxt, e.msgid, e.msgid_plural) for e in catalogue}
    assert sorted(keys - committed, key=str) == [], "marked in the sources, not in the catalogue"
    assert sorted(committed - keys, key=str) == [], "in the catalogue, no longer in the sources"
