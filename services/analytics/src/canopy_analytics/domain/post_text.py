"""A post's plain text, as search indexes it and embeddings read it (docs/architecture.md §17).
Pure.

The text is the post's name (an article's or question's title) and its content, one paragraph
apart, with HTML tags dropped and entities decoded (content is Markdown people typed, or HTML
an upstream system sent). Control characters are dropped too: the highlight markers of search
snippets are control characters, so no text can fake one.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Final

# Markers ts_headline puts around a match (docs §17): no post text can contain them.
MARK_START: Final = "\x02"
MARK_END: Final = "\x03"

# Every C0 control but tab and newline, and DEL: none belongs in searchable text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_BLANK_RUN = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")

# Tags whose content is no text a person wrote for others to read.
_SKIPPED = frozenset({"script", "style", "template"})
# Tags that end a line of text.
_BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        elif tag in _BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def strip_html(value: str) -> str:
    """``value`` without HTML tags, entities decoded, control characters dropped, blanks
    collapsed (a lone ``<`` in text, as in ``a < b``, stays)."""
    parser = _Text()
    parser.feed(value)
    parser.close()
    text = _CONTROL.sub(" ", "".join(parser.parts))
    lines = (_BLANK_RUN.sub(" ", line).strip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def plain_text(name: str | None, content: str | None) -> str:
    """A post's searchable text: its name, then its content; '' when it has neither."""
    parts = [strip_html(part) for part in (name, content) if part]
    return "\n\n".join(part for part in parts if part)
