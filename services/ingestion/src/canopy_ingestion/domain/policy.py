"""Write policy for posts (docs/architecture.md §4): size limits, mention and hashtag caps, and each
tenant's content rules (secrets and card numbers by default).

Pure: the handlers decide what a match means — refused when guests could see the post, else
accepted and flagged for moderators.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Any

from canopy_common.errors import InvalidInput
from canopy_ingestion.domain.regex import Regex, RegexError, Span

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

MAX_RULES = 50  # a policy is a short list of secrets and code names, not a word filter
MAX_RULE_NAME_CHARS = 64  # it goes into a flag's `rule` and a 422's `rules`
MAX_PATTERN_CHARS = 500  # RE2 compiles any pattern in bounded memory; this keeps it readable
# Lower-case words joined by '-', like the defaults' names (no ',': flags join names with it).
_RULE_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class Rule:
    """A named RE2 pattern. ``group`` is the part of a match that is the finding (a default
    that stands in for a lookaround consumes a neighbour character and reports the group
    inside); ``confirm`` (when set) must also accept the finding's text."""

    name: str
    pattern: Regex
    confirm: Callable[[str], bool] | None = None
    group: int = 0

    def findings(self, content: str) -> Iterator[Span]:
        """Every finding in ``content``, left to right, as (start, end) in characters."""
        pos = 0
        while pos <= len(content):
            found = self.pattern.search(content, pos, group=self.group)
            if found is None:
                return
            (_, match_end), (start, end) = found
            if start < 0:  # the group took no part in this match
                start, end = match_end, match_end
            elif self.confirm is None or self.confirm(content[start:end]):
                yield start, end
            # Go on after the finding, not the match: the neighbour a default consumed as a
            # boundary may be the boundary of the next finding.
            pos = end if end > pos else pos + 1

    def matches(self, content: str) -> bool:
        return next(self.findings(content), None) is not None


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    start: int
    end: int


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


# RE2 has no lookarounds: a rule that must not touch a neighbour character matches "start of
# text or another character" / "another character or end of text" and reports group 1.
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("private-key", Regex.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    Rule("aws-access-key", Regex.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b")),
    # A service-account key file pasted as JSON.
    Rule("gcp-service-account-key", Regex.compile(r"\"private_key_id\"\s*:")),
    Rule(
        "google-api-key",
        Regex.compile(r"\b(AIza[0-9A-Za-z_\-]{35})(?:[^0-9A-Za-z_\-]|$)"),
        group=1,
    ),
    Rule(
        "github-token",
        Regex.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
    ),
    Rule("slack-token", Regex.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    # 13 to 19 digits, optionally grouped by single spaces or dashes, passing the Luhn check.
    Rule(
        "card-number",
        Regex.compile(r"(?:^|[^0-9])((?:[0-9][ -]?){12,18}[0-9])(?:[^0-9]|$)"),
        confirm=luhn_valid,
        group=1,
    ),
)
_DEFAULTS_BY_NAME = {rule.name: rule for rule in DEFAULT_RULES}


class InvalidContentPolicy(ValueError):
    """A tenant's content policy that cannot be used (bad shape or regular expression)."""


def compile_rules(policy: Iterable[Any] | None, *, strict: bool = True) -> tuple[Rule, ...]:
    """The rules of a tenant's ``content_policy``: ``None`` means :data:`DEFAULT_RULES`.

    Each entry is ``{"name": ..., "pattern": ...}`` (an RE2 regular expression; add ``(?i)``
    to ignore case). An entry naming a default rule without a pattern, or with that rule's own
    pattern, is that rule, so a tenant can keep, say, the Luhn-checked card numbers next to
    its own rules. ``strict`` raises :class:`InvalidContentPolicy` on a bad entry; otherwise
    bad entries are skipped.
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
    default = _DEFAULTS_BY_NAME.get(name)
    if default is not None and pattern in (None, default.pattern.source):
        return default
    if pattern is None:
        raise InvalidContentPolicy(f"content rule {name!r} needs a pattern")
    if not isinstance(pattern, str) or not pattern:
        raise InvalidContentPolicy(f"content rule {name!r}: the pattern must be a string")
    try:
        return Rule(name, Regex.compile(pattern))
    except RegexError as exc:
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


def findings(content: str, rules: Sequence[Rule], *, per_rule: int) -> list[Finding]:
    """Where ``content`` matches ``rules`` (at most ``per_rule`` findings each), by position
    and then rule order."""
    found = [
        (start, index, Finding(rule.name, start, end))
        for index, rule in enumerate(rules)
        for start, end in islice(rule.findings(content), per_rule)
    ]
    return [finding for _, _, finding in sorted(found, key=lambda item: item[:2])]


def default_policy() -> list[dict[str, str]]:
    """The default rules as a policy's entries (their RE2 patterns)."""
    return [{"name": rule.name, "pattern": rule.pattern.source} for rule in DEFAULT_RULES]


def checked_policy(entries: Sequence[tuple[str, str | None]]) -> tuple[Rule, ...]:
    """The rules of a policy a tenant admin sends, each entry (name, pattern) checked: at most
    :data:`MAX_RULES`; names unique, lower-case words joined by ``-``; patterns of at most
    :data:`MAX_PATTERN_CHARS` that RE2 compiles and that do not match the empty text (such a
    rule would match every post). A default rule's name may go without a pattern: that rule.
    Raises 422 naming the first bad rule (``index``, ``rule``) and why."""
    if len(entries) > MAX_RULES:
        raise InvalidInput(
            f"rules: {len(entries)} rules, at most {MAX_RULES}",
            code="limit-exceeded",
            extra={"field": "rules", "limit": MAX_RULES, "actual": len(entries)},
        )
    first_index: dict[str, int] = {}
    rules: list[Rule] = []
    for index, (name, pattern) in enumerate(entries):
        rules.append(_checked_rule(index, name, pattern, first_index))
        first_index.setdefault(name, index)
    return tuple(rules)


def _checked_rule(index: int, name: str, pattern: str | None, seen: dict[str, int]) -> Rule:
    def bad(field: str, why: str) -> InvalidInput:
        return InvalidInput(
            f"rules[{index}] ({name!r}): {why}",
            extra={"field": f"rules[{index}].{field}", "index": index, "rule": name},
        )

    if len(name) > MAX_RULE_NAME_CHARS or not _RULE_NAME.fullmatch(name):
        raise bad(
            "name",
            f"a name is 1 to {MAX_RULE_NAME_CHARS} lower-case letters and digits, "
            "words joined by '-' (like 'project-codename')",
        )
    if name in seen:
        raise bad("name", f"the name of rules[{seen[name]}] too; names are unique")
    default = _DEFAULTS_BY_NAME.get(name)
    if default is not None and pattern in (None, default.pattern.source):
        return default
    if pattern is None:
        defaults = ", ".join(_DEFAULTS_BY_NAME)
        raise bad("pattern", f"needs a pattern (only a default rule goes without: {defaults})")
    if not 1 <= len(pattern) <= MAX_PATTERN_CHARS:
        raise bad("pattern", f"a pattern is 1 to {MAX_PATTERN_CHARS} characters")
    try:
        rule = Rule(name, Regex.compile(pattern))
    except RegexError as exc:
        reason = f"{exc} (RE2 syntax: no lookarounds, no backreferences)"
        raise bad("pattern", f"not a pattern RE2 compiles: {reason}") from None
    if rule.matches(""):
        raise bad("pattern", "matches the empty text, so it would match every post")
    return rule
