"""Write policy for posts (docs/architecture.md §4): size limits, mention and hashtag caps, and each
tenant's content rules (secrets and card numbers by default).

Pure: the handlers decide what a match means — refused when guests could see the post, else
accepted and flagged for moderators.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from canopy_common.errors import InvalidInput

MAX_CONTENT_CHARS = 10_000  # after NFC; a long article, well under the 64 KiB body limit
MAX_MENTIONS = 20  # more is a broadcast, not a conversation (and a notification storm)
MAX_HASHTAGS = 10  # keeps topic feeds from being spammed by one post
MAX_ADDRESSEES = 100  # a direct post to more people is a group post
MAX_NAME_CHARS = 300  # an article's title


class ContentPolicyViolation(InvalidInput):
    """A post matching the tenant's content rules where guests could read it (422)."""

    code = "content-policy"

    def __init__(self, rules: Sequence[str]) -> None:
        names = ", ".join(rules)
        super().__init__(
            f"the post matches the content policy ({names}) and would be visible to guests; "
            "remove the matching text or narrow the visibility",
            extra={"rule": rules[0], "rules": list(rules)},
        )


class LimitExceeded(InvalidInput):
    code = "limit-exceeded"

    def __init__(self, what: str, limit: int, actual: int) -> None:
        super().__init__(
            f"too many {what}: {actual}, at most {limit}",
            extra={"limit": limit, "actual": actual, "field": what},
        )


# C0 and C1 controls but tab and newline: invisible, and NUL is not even storable.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def check_limits(content: str, *, mentions: int, hashtags: int) -> None:
    """Refuse empty, over-long or control-character content and too many mentions or
    hashtags (422). Bidi marks stay allowed: right-to-left prose needs them."""
    if not content.strip():
        raise InvalidInput("content must not be empty", extra={"field": "content"})
    if (control := _CONTROL.search(content)) is not None:
        raise InvalidInput(
            f"content must not contain control characters (U+{ord(control.group()):04X})",
            extra={"field": "content"},
        )
    if len(content) > MAX_CONTENT_CHARS:
        raise InvalidInput(
            f"content is {len(content)} characters, at most {MAX_CONTENT_CHARS}",
            code="limit-exceeded",
            extra={"field": "content", "limit": MAX_CONTENT_CHARS, "actual": len(content)},
        )
    if mentions > MAX_MENTIONS:
        raise LimitExceeded("mentions", MAX_MENTIONS, mentions)
    if hashtags > MAX_HASHTAGS:
        raise LimitExceeded("hashtags", MAX_HASHTAGS, hashtags)


# --- content rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A named pattern; ``confirm`` (when set) must also accept the matched text."""

    name: str
    pattern: re.Pattern[str]
    confirm: Callable[[str], bool] | None = None

    def matches(self, content: str) -> bool:
        if self.confirm is None:
            return self.pattern.search(content) is not None
        return any(self.confirm(found.group()) for found in self.pattern.finditer(content))


def luhn_valid(number: str) -> bool:
    """The Luhn checksum of the digits in ``number`` (separators ignored)."""
    digits = [int(ch) for ch in number if ch.isdigit()]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return bool(digits) and total % 10 == 0


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("private-key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    Rule("aws-access-key", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    # A service-account key file pasted as JSON.
    Rule("gcp-service-account-key", re.compile(r"\"private_key_id\"\s*:")),
    Rule("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])")),
    Rule(
        "github-token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
    ),
    Rule("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    # 13 to 19 digits, optionally grouped by single spaces or dashes, passing the Luhn check.
    Rule("card-number", re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)"), confirm=luhn_valid),
)
_DEFAULTS_BY_NAME = {rule.name: rule for rule in DEFAULT_RULES}


class InvalidContentPolicy(ValueError):
    """A tenant's content policy that cannot be used (bad shape or regular expression)."""


def compile_rules(policy: Iterable[Any] | None, *, strict: bool = True) -> tuple[Rule, ...]:
    """The rules of a tenant's ``content_policy``: ``None`` means :data:`DEFAULT_RULES`.

    Each entry is ``{"name": ..., "pattern": ...}`` (a Python regular expression; add ``(?i)``
    to ignore case). An entry naming a default rule without a pattern uses that rule, so a
    tenant can keep, say, the Luhn-checked card numbers next to its own rules. ``strict``
    raises :class:`InvalidContentPolicy` on a bad entry; otherwise bad entries are skipped.
    """
    if policy is None:
        return DEFAULT_RULES
    rules: list[Rule] = []
    for entry in policy:
        try:
            rules.append(_rule_of(entry))
        except InvalidContentPolicy:
            if strict:
                raise
    return tuple(rules)


def _rule_of(entry: Any) -> Rule:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise InvalidContentPolicy(f"a content rule needs a name: {entry!r}")
    name, pattern = entry["name"], entry.get("pattern")
    if pattern is None:
        if name in _DEFAULTS_BY_NAME:
            return _DEFAULTS_BY_NAME[name]
        raise InvalidContentPolicy(f"content rule {name!r} needs a pattern")
    if not isinstance(pattern, str) or not pattern:
        raise InvalidContentPolicy(f"content rule {name!r}: the pattern must be a string")
    try:
        return Rule(name, re.compile(pattern))
    except re.error as exc:
        raise InvalidContentPolicy(f"content rule {name!r}: {exc}") from None


@lru_cache(maxsize=256)
def _cached_rules(policy: tuple[tuple[str, str | None], ...]) -> tuple[Rule, ...]:
    return compile_rules(
        [{"name": name, "pattern": pattern} for name, pattern in policy], strict=False
    )


def rules_for(policy: list[Any] | None) -> tuple[Rule, ...]:
    """:func:`compile_rules` for a stored policy, skipping bad entries, compiled once."""
    if policy is None:
        return DEFAULT_RULES
    frozen = tuple(
        (str(entry.get("name") or ""), pattern if isinstance(pattern, str) else None)
        for entry in policy
        if isinstance(entry, dict)
        for pattern in [entry.get("pattern")]
    )
    return _cached_rules(frozen)


def matched_rules(content: str, rules: Iterable[Rule]) -> list[str]:
    """The names of the rules ``content`` matches, in rule order."""
    return [rule.name for rule in rules if rule.matches(content)]
