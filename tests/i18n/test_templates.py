"""No template shows words that skip translation (see tests/i18n/template_text.py)."""

from pathlib import Path

from django.conf import settings

from tests.i18n.template_text import project_templates, untranslated


def test_the_checker_finds_text_outside_translation_tags():
    source = (
        '{% load i18n %}<p title="Plain">{% translate "Marked" %} Loose words {{ value }}</p>'
        "{% blocktranslate %}Inside {{ value }}{% endblocktranslate %}"
        "<script>const words = 'ignored';</script>{% comment %}ignored{% endcomment %} 5 °C"
    )
    assert untranslated(source) == ["Plain", "Loose words"]


def test_every_template_marks_its_words_for_translation():
    templates = project_templates(Path(settings.BASE_DIR))
    assert len(templates) > 40
    found = {
        str(path.relative_to(settings.BASE_DIR)): words
        for path in templates
        if (words := untranslated(path.read_text()))
    }
    assert found == {}
