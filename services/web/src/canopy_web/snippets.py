"""The one sanitiser of search snippets (docs/architecture.md §18): analytics sends each snippet
as HTML — its text escaped, every match wrapped in ``<mark>…</mark>``. A page shows exactly that
and nothing more: every other tag, attribute or stray ``<`` becomes text, marks are balanced, and
the text between them is escaped again by us, so a snippet is safe whatever the API sends."""

from __future__ import annotations

import html
import re

from markupsafe import Markup, escape

# Only the bare tags, exactly as analytics writes them: `<mark class=x>` or `<MARK>` is text.
_MARK_TAG = re.compile(r"(</?mark>)")
_OPEN, _CLOSE = "<mark>", "</mark>"


def snippet_html(raw: str | None) -> Markup:
    """``raw`` as safe HTML: its text (entities decoded, then escaped) with its ``<mark>``
    highlights kept, unnested and closed; any other markup shows as text."""
    parts: list[str] = []
    open_ = False
    for piece in _MARK_TAG.split(raw or ""):
        if piece == _OPEN:
            if not open_:  # a mark inside a mark adds nothing
                parts.append(_OPEN)
                open_ = True
        elif piece == _CLOSE:
            if open_:  # a close without an open is dropped
                parts.append(_CLOSE)
                open_ = False
        elif piece:
            parts.append(str(escape(html.unescape(piece))))
    if open_:
        parts.append(_CLOSE)
    return Markup("".join(parts))  # noqa: S704 - every text piece escaped above
