"""Text rules (docs/architecture.md §8): NFC normalisation, handles, hashtags, and what a post
mentions.

Pure functions. Every piece of text a person gives is NFC-normalised first, so two spellings
of "é" are one handle. Bidirectional controls (the "Trojan Source" characters) and other
control characters are refused in handles and in one-line fields, because they make a name
look like another; multi-line text keeps tabs and newlines only.

Handles are letters, marks, decimal digits, ``_``, ``.`` and ``-`` (any script), start with a
letter or digit and never end with ``.`` or ``-``, so ``@ada.`` at the end of a sentence
mentions ``ada``. Hashtags are letters, marks, digits and ``_`` with at least one letter, so
``#42`` (an issue number) is not a tag. Both are lower-cased when parsed; code spans and
fenced code blocks are skipped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from canopy_common.errors import InvalidInput

HANDLE_MAX_LENGTH = 40  # long enough for "firstname.lastname" handles derived from e-mail
HASHTAG_MAX_LENGTH = 64  # longer runs are prose, not tags
# Explicit directional formatting characters (Unicode TR9 §2) and the Arabic letter mark.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_HANDLE_PUNCTUATION = frozenset("_.-")
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
_BACKTICKS = re.compile(r"`+")


class InvalidText(InvalidInput):
    """A field whose text breaks a rule (422); ``field`` names it in the problem body."""

    code = "invalid-text"

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}", extra={"field": field})


def normalize(text: str) -> str:
    """NFC, the one form Canopy stores and compares."""
    return unicodedata.normalize("NFC", text)


def describe(char: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: a character named so a person can find it."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".rstrip()


def forbidden_character(text: str, *, multiline: bool = False) -> str | None:
    """The first bidi control or control character in ``text`` (described), or None.

    ``multiline`` allows tab and newline. Other format characters (the zero-width joiner of
    emoji sequences) are allowed here; handles refuse them through their charset.
    """
    for char in text:
        if multiline and char in "\t\n":
            continue
        if char in BIDI_CONTROLS:
            return f"a bidirectional control character ({describe(char)})"
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Zl", "Zp"):
            return f"a control character ({describe(char)})"
    return None


def clean_line(value: str, *, field: str, max_length: int, min_length: int = 1) -> str:
    """One line of text (a name, a title): NFC, trimmed, no control characters."""
    text = normalize(value).strip()
    if (bad := forbidden_character(text)) is not None:
        raise InvalidText(field, f"must not contain {bad}")
    _check_length(text, field=field, min_length=min_length, max_length=max_length)
    return text


def clean_block(value: str, *, field: str, max_length: int) -> str:
    """Multi-line text (a description): NFC, ``\\r\\n`` as ``\\n``, trimmed, tab and newline
    the only control characters allowed."""
    text = normalize(value.replace("\r\n", "\n")).strip()
    if (bad := forbidden_character(text, multiline=True)) is not None:
        raise InvalidText(field, f"must not contain {bad}")
    _check_length(text, field=field, min_length=0, max_length=max_length)
    return text


def _check_length(text: str, *, field: str, min_length: int, max_length: int) -> None:
    if len(text) < min_length:
        raise InvalidText(field, "must not be empty" if min_length == 1 else "is too short")
    if len(text) > max_length:
        raise InvalidText(field, f"must be at most {max_length} characters")


# --- e-mail addresses -----------------------------------------------------------------------

EMAIL_MAX_LENGTH = 254  # what fits in an SMTP path (RFC 5321 §4.5.3.1.3)
EMAIL_LOCAL_MAX_LENGTH = 64  # RFC 5321 §4.5.3.1.1
_EMAIL_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DNS_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# Plausible, not all of RFC 5322: a dot-atom local part (no quoted strings or comments) and a
# domain of two or more DNS labels ending in a top-level label of letters, so typos such as
# "ada@example" or "ada.example.com" are caught before mail bounces.
_EMAIL = re.compile(
    rf"(?P<local>{_EMAIL_ATOM}(?:\.{_EMAIL_ATOM})*)"
    rf"@(?P<domain>(?:{_DNS_LABEL}\.)+[A-Za-z]{{2,63}})"
)


def validate_email(raw: str) -> str:
    """A plausible e-mail address, trimmed, its domain lower-cased (the local part is the
    mail server's to interpret, so its case is kept); raises :class:`InvalidText`."""
    text = normalize(raw).strip()
    found = _EMAIL.fullmatch(text) if len(text) <= EMAIL_MAX_LENGTH else None
    if found is None or len(found["local"]) > EMAIL_LOCAL_MAX_LENGTH:
        raise InvalidText("email", "is not a plausible e-mail address (like ada@example.com)")
    return f"{found['local']}@{found['domain'].lower()}"


# --- handles and hashtags -------------------------------------------------------------------


def _is_word_char(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LM" or category == "Nd" or char == "_"


def _is_handle_char(char: str) -> bool:
    return _is_word_char(char) or char in _HANDLE_PUNCTUATION


def _starts_word(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] == "L" or category == "Nd"


def validate_handle(raw: str) -> str:
    """The handle in NFC, as given (uniqueness is case-insensitive); raises :class:`InvalidText`."""
    handle = normalize(raw)
    if (bad := forbidden_character(handle)) is not None:
        raise InvalidText("handle", f"must not contain {bad}")
    for char in handle:
        if unicodedata.category(char) == "Cf":
            raise InvalidText(
                "handle", f"must not contain an invisible character ({describe(char)})"
            )
    _check_length(handle, field="handle", min_length=1, max_length=HANDLE_MAX_LENGTH)
    if not all(_is_handle_char(char) for char in handle):
        raise InvalidText("handle", "may contain only letters, digits, '_', '.' and '-'")
    if not _starts_word(handle[0]):
        raise InvalidText("handle", "must start with a letter or a digit")
    if handle[-1] in ".-":
        raise InvalidText("handle", "must not end with '.' or '-'")
    return handle


def validate_hashtag(raw: str) -> str:
    """A hashtag given alone (``#Release`` or ``release``): lower-case, without ``#``."""
    tag = normalize(raw.removeprefix("#"))
    if (bad := forbidden_character(tag)) is not None:
        raise InvalidText("tag", f"must not contain {bad}")
    _check_length(tag, field="tag", min_length=1, max_length=HASHTAG_MAX_LENGTH)
    if not all(_is_word_char(char) for char in tag):
        raise InvalidText("tag", "may contain only letters, digits and '_'")
    if not any(unicodedata.category(char)[0] == "L" for char in tag):
        raise InvalidText("tag", "must contain at least one letter")
    return tag.lower()


# --- parsing content ------------------------------------------------------------------------


def parse_mentions(content: str) -> list[str]:
    """The handles ``content`` mentions (``@ada``), lower-cased, first mention first, once each.

    Not a mention: ``ada@example.com``, ``https://host/@ada``, anything in code, and a handle
    run into an invisible or control character (``@ad\\u200bmin`` would spoof ``@ad``).
    """
    found: dict[str, None] = {}
    for handle, hidden in _mention_runs(_without_code(normalize(content))):
        if hidden is None and handle:
            found.setdefault(handle.lower(), None)
    return list(found)


def check_mentions(content: str) -> None:
    """Refuse content where an ``@handle`` contains a bidi control or another invisible
    character (docs/architecture.md §8); raises :class:`InvalidText` naming it."""
    for handle, hidden in _mention_runs(_without_code(normalize(content))):
        if hidden is not None:
            raise InvalidText(
                "content", f"the mention @{handle}… contains {hidden}; remove it and retry"
            )


def parse_hashtags(content: str) -> list[str]:
    """The hashtags in ``content`` (``#release``), lower-cased, first first, once each.

    Not a hashtag: ``#42``, ``# Heading``, URL fragments (``page#top``, ``/#top``), HTML
    entities (``&#39;``), anything in code, and runs longer than :data:`HASHTAG_MAX_LENGTH`.
    """
    text = _without_code(normalize(content))
    found: dict[str, None] = {}
    for start in _marker_positions(text, "#"):
        end = start + 1
        while end < len(text) and _is_word_char(text[end]):
            end += 1
        tag = text[start + 1 : end]
        if (
            0 < len(tag) <= HASHTAG_MAX_LENGTH
            and any(unicodedata.category(char)[0] == "L" for char in tag)
            and not (end < len(text) and text[end] == "#")
        ):
            found.setdefault(tag.lower(), None)
    return list(found)


def _marker_positions(text: str, marker: str) -> Iterator[int]:
    """Where ``marker`` starts a token: at the start, or after a character that cannot be
    part of a word, a URL path or an HTML entity."""
    for index, char in enumerate(text):
        if char != marker:
            continue
        before = text[index - 1] if index else " "
        if not (
            _is_handle_char(before) or before in "/&@#" or unicodedata.category(before) == "Cf"
        ):
            yield index


def _mention_runs(text: str) -> Iterator[tuple[str, str | None]]:
    """Each ``@`` token: (its handle, the hidden character that taints it or None)."""
    for start in _marker_positions(text, "@"):
        end, hidden = start + 1, None
        while end < len(text):
            char = text[end]
            if _is_handle_char(char):
                end += 1
            elif char in BIDI_CONTROLS or unicodedata.category(char) in ("Cf", "Cc"):
                if char.isspace():  # tab, newline: the mention simply ends
                    break
                hidden = hidden or (
                    f"a bidirectional control character ({describe(char)})"
                    if char in BIDI_CONTROLS
                    else f"an invisible character ({describe(char)})"
                )
                end += 1
            else:
                break
        handle = text[start + 1 : end].rstrip(".-")
        if hidden is not None:
            yield "".join(c for c in handle if _is_handle_char(c)), hidden
        elif handle and _starts_word(handle[0]) and len(handle) <= HANDLE_MAX_LENGTH:
            yield handle, None


def _without_code(text: str) -> str:
    """``text`` with fenced code blocks and inline code spans blanked out."""
    lines: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        opened = _FENCE.match(line)
        if fence is None and opened is not None:
            fence = opened["fence"]
            lines.append("")
        elif fence is not None:
            closing = line.strip()
            if closing.startswith(fence[0] * len(fence)) and set(closing) == {fence[0]}:
                fence = None
            lines.append("")
        else:
            lines.append(_without_code_spans(line))
    return "\n".join(lines)


def _without_code_spans(line: str) -> str:
    """A code span opens with a run of backticks and closes with a run of the same length."""
    out: list[str] = []
    position = 0
    while (opening := _BACKTICKS.search(line, position)) is not None:
        out.append(line[position : opening.start()])
        run = opening.group()
        closing = re.compile(rf"(?<!`){run}(?!`)").search(line, opening.end())
        if closing is None:  # an unmatched run is literal text
            out.append(run)
            position = opening.end()
            continue
        out.append(" ")
        position = closing.end()
    out.append(line[position:])
    return "".join(out)
