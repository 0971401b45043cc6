"""People discovery, as plain ranking over plain data (no I/O): experts on a topic, people
you may know, groups you may like.

Every score is a weighted sum of counts the response shows next to it, so a person can see
why someone ranks where they do; ties break on the stronger signal, then on the id, so the
order is deterministic. Who may appear at all (visibility, blocks, follows, memberships) is
decided where the candidates are read (``adapters/discovery.py``); this module ranks them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, TypeVar

# --- topics --------------------------------------------------------------------------------

MAX_TOPIC_LENGTH = 100  # hashtags are short; longer input is a mistake, not a topic
# Spelling differences that do not make another skill: "machine learning", "machine-learning",
# "machine_learning" and "#machinelearning" are one; "node.js" is "nodejs". The same
# characters are removed in SQL (adapters/discovery.py), so keep them plain ASCII.
_SPELLING = re.compile(r"[ _.-]+")
SPELLING_SQL = "[ _.-]+"


def normalize_topic(raw: str) -> str:
    """A topic as hashtags are stored: NFC, trimmed, without a leading ``#``, lower-cased."""
    return unicodedata.normalize("NFC", raw).strip().lstrip("#").strip().lower()


def skill_key(term: str) -> str:
    """What a skill, interest or topic is compared by: lower-cased, spelling marks removed."""
    return _SPELLING.sub("", normalize_topic(term))


def _shared(mine: Iterable[str], theirs: Iterable[str]) -> list[str]:
    """Their terms that match one of mine (by :func:`skill_key`), in their spelling, sorted."""
    keys = {skill_key(term) for term in mine} - {""}
    return sorted({term for term in theirs if skill_key(term) in keys})


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


class _Scored(Protocol):
    @property
    def score(self) -> float: ...


_S = TypeVar("_S", bound=_Scored)


def _best(
    scored: Iterable[_S], *, ties: Callable[[_S], tuple[object, ...]], limit: int
) -> list[_S]:
    """The ``limit`` highest scores, best first, none at zero (nothing to show for it); equal
    scores in the order of ``ties``."""
    ranked = sorted((s for s in scored if s.score > 0), key=lambda s: (-s.score, *ties(s)))
    return ranked[:limit]


# --- experts -------------------------------------------------------------------------------

# Writing about a topic in the open shows working knowledge.
EXPERT_POST_WEIGHT = 2.0
# An accepted answer is a peer saying "this solved my problem": the strongest signal.
EXPERT_ACCEPTED_ANSWER_WEIGHT = 5.0
# Reactions are cheap to give: many are needed to matter, so one popular post cannot outrank
# sustained contribution.
EXPERT_REACTION_WEIGHT = 0.5
# A declared skill surfaces quiet experts, yet counts less than one accepted answer.
EXPERT_SKILL_BONUS = 3.0


@dataclass(frozen=True, slots=True)
class ExpertCandidate:
    """A visible, active person with contributions on the topic or the topic as a skill."""

    user_id: str
    name: str | None
    title: str | None
    department: str | None
    posts: int = 0
    accepted_answers: int = 0
    reactions_received: int = 0
    skill_match: bool = False


@dataclass(frozen=True, slots=True)
class Expert:
    candidate: ExpertCandidate
    score: float


def expert_score(c: ExpertCandidate) -> float:
    """posts·2 + accepted answers·5 + reactions received·0.5 (+3 when a skill names it)."""
    score = (
        EXPERT_POST_WEIGHT * c.posts
        + EXPERT_ACCEPTED_ANSWER_WEIGHT * c.accepted_answers
        + EXPERT_REACTION_WEIGHT * c.reactions_received
        + (EXPERT_SKILL_BONUS if c.skill_match else 0.0)
    )
    return round(score, 2)


def rank_experts(candidates: Iterable[ExpertCandidate], limit: int) -> list[Expert]:
    """The ``limit`` best experts, best first; nobody with a zero score. Ties: more accepted
    answers, then more posts, then more reactions, then the user id."""
    return _best(
        (Expert(c, expert_score(c)) for c in candidates),
        ties=lambda e: (
            -e.candidate.accepted_answers,
            -e.candidate.posts,
            -e.candidate.reactions_received,
            e.candidate.user_id,
        ),
        limit=limit,
    )


# --- people you may know -------------------------------------------------------------------

# Someone who already follows you is the likeliest person to follow back.
FOLLOWS_YOU_WEIGHT = 4.0
# Each person you follow who follows them (friends of friends): the classic signal.
MUTUAL_FOLLOW_WEIGHT = 3.0
# Each group you are both in: you work in the same places.
SHARED_GROUP_WEIGHT = 2.0
# Each skill or interest you share: common ground, weaker than knowing the same people.
SHARED_SKILL_WEIGHT = 1.0
SHARED_INTEREST_WEIGHT = 1.0
REASON_TERMS = 3  # a reason names at most this many shared skills or interests
# Writing about the same things (cosine similarity of what each writes in the open, docs §17;
# at least the service's floor, else 0): as strong as a shared group at 0.5, never more than
# a mutual follow and a shared group together.
WRITES_ALIKE_WEIGHT = 4.0
WRITES_ALIKE_REASON = "writes about what you write about"


@dataclass(frozen=True, slots=True)
class Profile:
    """The caller, as ranking needs them."""

    user_id: str
    skills: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PersonCandidate:
    """Someone the caller may see, does not follow and has not blocked (nor been blocked by)."""

    user_id: str
    name: str | None
    title: str | None
    department: str | None
    mutual_follows: int = 0  # people the caller follows who follow them
    shared_groups: int = 0
    follows_you: bool = False
    skills: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    writes_alike: float = 0.0  # similarity of what they and the caller write (0: not counted)


@dataclass(frozen=True, slots=True)
class PersonSuggestion:
    candidate: PersonCandidate
    score: float
    reasons: list[str]
    shared_skills: list[str] = field(default_factory=list)
    shared_interests: list[str] = field(default_factory=list)


def _listed(label: str, terms: Sequence[str]) -> str:
    shown = ", ".join(terms[:REASON_TERMS])
    more = len(terms) - REASON_TERMS
    return f"{label}: {shown}" + (f" (+{more} more)" if more > 0 else "")


def suggest_person(me: Profile, c: PersonCandidate) -> PersonSuggestion:
    """Score one candidate: follows-you·4 + mutual follows·3 + shared groups·2 + shared
    skills·1 + shared interests·1 + writes-alike similarity·4, with a reason per signal
    present."""
    skills = _shared(me.skills, c.skills)
    interests = _shared(me.interests, c.interests)
    reasons: list[str] = []
    if c.follows_you:
        reasons.append("follows you")
    if c.mutual_follows:
        reasons.append(_plural(c.mutual_follows, "mutual follow", "mutual follows"))
    if c.shared_groups:
        reasons.append(_plural(c.shared_groups, "shared group", "shared groups"))
    if skills:
        reasons.append(_listed("shared skills", skills))
    if interests:
        reasons.append(_listed("shared interests", interests))
    if c.writes_alike > 0:
        reasons.append(WRITES_ALIKE_REASON)
    score = (
        (FOLLOWS_YOU_WEIGHT if c.follows_you else 0.0)
        + MUTUAL_FOLLOW_WEIGHT * c.mutual_follows
        + SHARED_GROUP_WEIGHT * c.shared_groups
        + SHARED_SKILL_WEIGHT * len(skills)
        + SHARED_INTEREST_WEIGHT * len(interests)
        + WRITES_ALIKE_WEIGHT * max(c.writes_alike, 0.0)
    )
    return PersonSuggestion(c, round(score, 2), reasons, skills, interests)


def rank_people(
    me: Profile, candidates: Iterable[PersonCandidate], limit: int
) -> list[PersonSuggestion]:
    """The ``limit`` best suggestions, best first: never the caller, never without a reason.
    Ties: more mutual follows, more shared groups, then the user id."""
    return _best(
        (suggest_person(me, c) for c in candidates if c.user_id != me.user_id),
        ties=lambda s: (
            -s.candidate.mutual_follows,
            -s.candidate.shared_groups,
            s.candidate.user_id,
        ),
        limit=limit,
    )


# --- groups you may like -------------------------------------------------------------------

# Each person you follow who is a member: you would find people you know there.
FOLLOWED_MEMBER_WEIGHT = 3.0
# Each of your skills or interests the group talks about (its hashtags) or is named after.
GROUP_TOPIC_WEIGHT = 2.0
# Liveliness, so newcomers with no follows still get good suggestions; capped so a large
# group never outranks one that is about you.
ACTIVE_MEMBER_WEIGHT = 0.2
ACTIVE_MEMBERS_CAP = 10
GROUP_ACTIVITY_DAYS = 28  # "active members" counts those active in the group this long
# Its open posts are about what the caller writes about (similarity of the centroids, at
# least the floor): at 0.5 as strong as one matching topic.
GROUP_WRITES_ALIKE_WEIGHT = 4.0
GROUP_WRITES_ALIKE_REASON = "its posts are close to what you write about"


@dataclass(frozen=True, slots=True)
class GroupCandidate:
    """A group the caller may see and is not in."""

    group_id: str
    name: str | None
    visibility: str
    members: int = 0
    followed_members: int = 0  # people the caller follows who are members
    # Hashtags used in its posts that match one of the caller's skills or interests.
    tags: tuple[str, ...] = ()
    active_members: int = 0  # distinct people active in it over GROUP_ACTIVITY_DAYS
    writes_alike: float = 0.0  # similarity of its open posts to the caller's (0: not counted)


@dataclass(frozen=True, slots=True)
class GroupSuggestion:
    candidate: GroupCandidate
    score: float
    reasons: list[str]
    topics: list[str] = field(default_factory=list)


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"\W+", normalize_topic(text)) if w}


def _group_topics(me: Profile, c: GroupCandidate) -> list[str]:
    """The caller's skills and interests the group is about: in its hashtags, or every word
    of the skill in its name ("machine learning" in "Machine Learning Guild")."""
    mine = {skill_key(t): t for t in (*me.skills, *me.interests)}
    mine.pop("", None)
    tag_keys = {skill_key(t) for t in c.tags}
    name_words = _words(c.name or "")
    return sorted(
        {
            term
            for key, term in mine.items()
            if key in tag_keys or (_words(term) and _words(term) <= name_words)
        }
    )


def suggest_group(me: Profile, c: GroupCandidate) -> GroupSuggestion:
    """Score one group: followed members·3 + matching topics·2 + min(active members, 10)·0.2
    + writes-alike similarity·4, with a reason per signal present."""
    topics = _group_topics(me, c)
    reasons: list[str] = []
    if c.followed_members:
        reasons.append(
            _plural(
                c.followed_members, "person you follow is a member", "people you follow are members"
            )
        )
    if topics:
        reasons.append(_listed("about", topics))
    if c.active_members:
        reasons.append(
            _plural(c.active_members, "active member", "active members")
            + f" in the last {GROUP_ACTIVITY_DAYS} days"
        )
    if c.writes_alike > 0:
        reasons.append(GROUP_WRITES_ALIKE_REASON)
    score = (
        FOLLOWED_MEMBER_WEIGHT * c.followed_members
        + GROUP_TOPIC_WEIGHT * len(topics)
        + ACTIVE_MEMBER_WEIGHT * min(c.active_members, ACTIVE_MEMBERS_CAP)
        + GROUP_WRITES_ALIKE_WEIGHT * max(c.writes_alike, 0.0)
    )
    return GroupSuggestion(c, round(score, 2), reasons, topics)


def rank_groups(
    me: Profile, candidates: Iterable[GroupCandidate], limit: int
) -> list[GroupSuggestion]:
    """The ``limit`` best group suggestions, best first, never without a reason. Ties: more
    followed members, more members, then the group id."""
    return _best(
        (suggest_group(me, c) for c in candidates),
        ties=lambda s: (-s.candidate.followed_members, -s.candidate.members, s.candidate.group_id),
        limit=limit,
    )


# --- experts for a text, likely answerers (docs/architecture.md §17) -------------------------

# A person's score for a text is the weighted similarity of the things they wrote that are
# nearest it in meaning (cosine similarity of the vectors, at least the floor the service
# sets): an accepted answer is a peer saying "this solved it" (most), an answer is help
# given, a post (or comment) shows working knowledge; asking a question shows interest but
# not that one knows the answer (least).
TEXT_ACCEPTED_ANSWER_WEIGHT = 3.0
TEXT_ANSWER_WEIGHT = 2.0
TEXT_POST_WEIGHT = 1.0
TEXT_QUESTION_WEIGHT = 0.5
# Only a person's closest few items count: five so-so posts must not outweigh one accepted
# answer to the very question, and volume alone never makes an expert.
TEXT_ITEMS_PER_PERSON = 3
# Nearest items read per text: enough for dozens of people, bounded per request.
TEXT_NEIGHBOURS = 200
QUOTE_CHARS = 120  # a reason quotes a title or the start of a text, this long at most


class Contribution(StrEnum):
    """What an item near the text is, for its author."""

    ACCEPTED_ANSWER = "accepted_answer"
    ANSWER = "answer"
    POST = "post"  # a post, article or comment
    QUESTION = "question"

    @property
    def weight(self) -> float:
        return _TEXT_WEIGHTS[self]


_TEXT_WEIGHTS = {
    Contribution.ACCEPTED_ANSWER: TEXT_ACCEPTED_ANSWER_WEIGHT,
    Contribution.ANSWER: TEXT_ANSWER_WEIGHT,
    Contribution.POST: TEXT_POST_WEIGHT,
    Contribution.QUESTION: TEXT_QUESTION_WEIGHT,
}


@dataclass(frozen=True, slots=True)
class CloseItem:
    """Something a person wrote, ``similarity`` close to the text."""

    object_id: str
    author_id: str
    contribution: Contribution
    similarity: float
    kind: str | None = None
    quote: str = ""  # its title, or the start of its text
    question_quote: str = ""  # an answer's: its question's title or text
    question_id: str | None = None


@dataclass(frozen=True, slots=True)
class TextExpert:
    """A person ranked for a text: their closest items (best first) and what they add up to."""

    user_id: str
    score: float
    items: tuple[CloseItem, ...]

    def count(self, contribution: Contribution) -> int:
        return sum(1 for item in self.items if item.contribution is contribution)

    @property
    def reason(self) -> str:
        return reason_of(self.items[0])

    @property
    def evidence(self) -> list[str]:
        return [item.object_id for item in self.items]


def quote(title: str | None, text: str | None) -> str:
    """A title, or the start of a text, short enough for a sentence."""
    raw = " ".join((title or text or "").split())
    return raw if len(raw) <= QUOTE_CHARS else raw[: QUOTE_CHARS - 1].rstrip() + "…"


def reason_of(item: CloseItem) -> str:
    """Why an item makes its author an expert, in a sentence shown to people."""
    match item.contribution:
        case Contribution.ACCEPTED_ANSWER:
            return f"Answer accepted on a similar question: “{item.question_quote}”"
        case Contribution.ANSWER:
            return f"Answered a similar question: “{item.question_quote}”"
        case Contribution.QUESTION:
            return f"Asked a similar question: “{item.quote}”"
    return f"Writes about this: “{item.quote}”"


def _item_weight(item: CloseItem) -> float:
    return item.contribution.weight * item.similarity


def rank_text_experts(
    items: Iterable[CloseItem], limit: int, *, leave_out: frozenset[str] = frozenset()
) -> list[TextExpert]:
    """People by Σ weight x similarity of their closest :data:`TEXT_ITEMS_PER_PERSON`
    items, best first; nobody in ``leave_out``. Ties: the user id."""
    by_person: dict[str, list[CloseItem]] = {}
    for item in items:
        if item.author_id not in leave_out:
            by_person.setdefault(item.author_id, []).append(item)
    ranked: list[TextExpert] = []
    for user, theirs in by_person.items():
        best = sorted(theirs, key=lambda i: (-_item_weight(i), i.object_id))
        best = best[:TEXT_ITEMS_PER_PERSON]
        score = round(sum(_item_weight(i) for i in best), 4)
        ranked.append(TextExpert(user, score, tuple(best)))
    return _best(ranked, ties=lambda e: (e.user_id,), limit=limit)
