"""What a reader of a page gets: its text nodes outside <script> and <style>, and the aria-label
and title attributes a screen reader says. For the tests that check a page's language."""

from html.parser import HTMLParser


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._raw = 0

    def handle_starttag(self, tag, attrs):
        self._raw += tag in ("script", "style")
        self.parts += [value for name, value in attrs if name in ("aria-label", "title") and value]

    def handle_endtag(self, tag):
        self._raw -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._raw and data.strip():
            self.parts.append(" ".join(data.split()))


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)
