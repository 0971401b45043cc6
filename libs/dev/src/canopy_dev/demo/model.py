"""The demo company as plain data: who works there, what they belong to, follow and write.

Every item has a stable ``key``; the seeder derives ``Idempotency-Key`` headers and upstream
event ids from it, so applying the same company twice creates nothing new. Posts carry the
notional ``day`` they belong to (2 = two days ago) for ordering only: the write API stamps
``published`` itself (see the README's "Five-minute tour").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

Visibility = Literal["public", "internal", "private"]
JoinPolicy = Literal["open", "request"]
PostKind = Literal["note", "question", "answer", "announcement", "article"]
ReactionKind = Literal["like", "celebrate", "insightful", "support"]


@dataclass(frozen=True)
class Person:
    """An employee; ``id`` and ``handle`` are the same ``first.last``."""

    id: str
    display_name: str
    title: str
    department: str
    team: str
    location: str
    skills: tuple[str, ...]
    interests: tuple[str, ...]
    manager_id: str | None
    email: str
    roles: tuple[str, ...] = ()
    # A joiner of this week: the HR system announces them on the upstream topic.
    via_upstream: bool = False

    @property
    def handle(self) -> str:
        return self.id

    @property
    def first_name(self) -> str:
        return self.display_name.split()[0]


@dataclass(frozen=True)
class Bot:
    """A system actor an upstream system publishes as (``source`` names the system)."""

    id: str
    display_name: str
    source: str


@dataclass(frozen=True)
class Group:
    key: str
    name: str
    description: str
    visibility: Visibility
    owner_id: str
    members: tuple[str, ...]  # besides the owner
    join_policy: JoinPolicy = "open"
    admins: tuple[str, ...] = ()  # members the owner makes admins
    requests: tuple[str, ...] = ()  # people who asked to join and wait for an answer
    announcements: bool = False  # the company-wide group everyone is in

    @property
    def everyone(self) -> tuple[str, ...]:
        return (self.owner_id, *self.members)


@dataclass(frozen=True)
class Post:
    """A post, question, answer, reply or announcement written by a person over HTTP."""

    key: str
    author_id: str
    content: str
    day: int
    kind: PostKind = "note"
    group_key: str | None = None
    reply_to: str | None = None  # the key of the post it replies to
    name: str | None = None  # an article's title
    mentions: tuple[str, ...] = ()  # user ids its @handles name
    hashtags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Accept:
    question_key: str
    answer_key: str


@dataclass(frozen=True)
class Reaction:
    post_key: str
    user_id: str
    kind: ReactionKind


@dataclass(frozen=True)
class Share:
    key: str
    post_key: str
    user_id: str


@dataclass(frozen=True)
class BotNote:
    """An announcement an upstream system posts into a group (Create of a Note)."""

    key: str
    bot_id: str
    group_key: str
    name: str
    content: str


@dataclass(frozen=True)
class Task:
    """An upstream task with assignees, due ``due_in`` after the seed runs."""

    key: str
    bot_id: str
    name: str
    content: str
    assignees: tuple[str, ...]
    due_in: timedelta
    group_key: str | None = None


@dataclass(frozen=True)
class Company:
    """Everything the seeder applies to one tenant, and who to show off in the guide."""

    tenant: str
    name: str
    people: tuple[Person, ...]
    bots: tuple[Bot, ...]
    groups: tuple[Group, ...]
    follows: tuple[tuple[str, str], ...]  # (follower, followee)
    tag_follows: tuple[tuple[str, str], ...]  # (person, tag)
    posts: tuple[Post, ...]
    accepts: tuple[Accept, ...]
    reactions: tuple[Reaction, ...]
    shares: tuple[Share, ...]
    bot_notes: tuple[BotNote, ...]
    tasks: tuple[Task, ...]
    reader_id: str  # someone with a busy home feed and notifications
    analyst_id: str  # holds the analyst role
    admin_id: str  # holds the tenant_admin role
    _people: dict[str, Person] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._people.update((p.id, p) for p in self.people)

    def person(self, user_id: str) -> Person:
        return self._people[user_id]

    def group(self, key: str) -> Group:
        return next(g for g in self.groups if g.key == key)

    def post(self, key: str) -> Post:
        return next(p for p in self.posts if p.key == key)
