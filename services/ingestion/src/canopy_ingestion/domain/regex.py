"""RE2 (``google-re2``), typed: the one regular-expression engine of the content policy.

RE2 runs in time linear in the text, whatever the pattern: a rule a tenant admin writes cannot
hang a write. The price is its syntax — no lookarounds, no backreferences — and ``\\d``,
``\\w``, ``\\s`` and ``\\b`` are ASCII (``\\p{L}`` is any letter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import re2

Span = tuple[int, int]


class RegexError(ValueError):
    """A pattern RE2 refuses, with its reason (e.g. ``invalid perl operator: (?<``)."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is an answer to its author, not a log line
    return options


@dataclass(frozen=True, eq=False)
class Regex:
    """A compiled RE2 pattern; positions are in characters (code points), as in ``str``."""

    source: str
    _compiled: Any

    @classmethod
    def compile(cls, source: str) -> Regex:
        try:
            return cls(source, re2.compile(source, _options()))
        except re2.error as exc:
            reason = exc.args[0] if exc.args else exc
            text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
            raise RegexError(text) from None

    def search(self, text: str, pos: int = 0, *, group: int = 0) -> tuple[Span, Span] | None:
        """The first match at or after ``pos``: the whole match's span and ``group``'s.

        ``^`` matches only at the start of ``text`` and ``\\b`` sees the character before
        ``pos``, as with ``re``."""
        found = self._compiled.search(text, pos)
        if found is None:
            return None
        whole: Span = found.span()
        part: Span = found.span(group)
        return whole, part
