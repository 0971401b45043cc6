"""What the fanout service knows: feed items, the feeds they go into, and readers.

Plain data, built by :mod:`canopy_fanout.domain.items` from activities and by the adapters from
the ``fanout`` schema; the rules over them live in :mod:`canopy_fanout.domain.audience`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from canopy_common.events import Visibility


class FeedKind(StrEnum):
    HOME = "home"  # what a reader follows: people, groups, hashtags, and what names them
    USER = "user"  # what one person did (their posts and shares)
    GROUP = "group"  # what was posted into one group
    TAG = "tag"  # what carries one hashtag


@dataclass(frozen=True, slots=True)
class FeedRef:
    """One feed: its kind and whose it is (a user id, a group id or a lower-case hashtag)."""

    kind: FeedKind
    owner: str


@dataclass(frozen=True, slots=True)
class Item:
    """A feed item: the ``Create`` of a post (or task, event, document), or the ``Announce``
    (share) of one. ``actor`` did the activity; ``author`` wrote the object."""

    tenant_id: str
    activity_id: str
    object_id: str
    type: str  # Create | Announce
    actor_id: str
    author_id: str
    visibility: Visibility  # the object's: who may see it
    published: datetime
    group_id: str | None = None
    # The group's own visibility as AS2 says it: public, internal, or group (= private).
    group_visibility: Visibility | None = None
    addressees: frozenset[str] = frozenset()  # user ids in to/cc/bto/bcc/audience
    mentions: frozenset[str] = frozenset()  # user ids
    hashtags: frozenset[str] = frozenset()  # lower-case, without '#'
    in_reply_to: str | None = None  # replies count on their post; they are not feed items
    deleted: bool = False

    @property
    def people(self) -> frozenset[str]:
        """The people whose relation to a reader decides what the reader sees of this item."""
        return frozenset({self.actor_id, self.author_id})


@dataclass(frozen=True, slots=True)
class Reader:
    """Someone reading feeds (or receiving pushes): their id and whether they are a guest."""

    id: str
    guest: bool = False
    active: bool = True


@dataclass(frozen=True, slots=True)
class Ties:
    """A reader's relations to one item's people, group and hashtags."""

    follows: frozenset[str] = frozenset()  # which of the item's people the reader follows
    member: bool = False  # of the item's group
    follows_tag: bool = False  # any of the item's hashtags
    blocked: bool = False  # the reader and one of the item's people, either way round
    muted: bool = False  # the reader muted one of the item's people


@dataclass(frozen=True, slots=True)
class ReaderGraph:
    """Everything about one reader that decides what they see: who and what they follow,
    their groups, whom they block or are blocked by, whom they mute, and which of the people
    and groups they follow are pull sources (too big to push)."""

    reader: Reader
    follows: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    blocked: frozenset[str] = frozenset()  # either way round
    muted: frozenset[str] = frozenset()
    pull_people: frozenset[str] = frozenset()
    pull_groups: frozenset[str] = frozenset()

    def ties(self, item: Item) -> Ties:
        """The reader's relations to ``item``."""
        people = item.people
        return Ties(
            follows=people & self.follows,
            member=item.group_id is not None and item.group_id in self.groups,
            follows_tag=not self.tags.isdisjoint(item.hashtags),
            blocked=not self.blocked.isdisjoint(people),
            muted=not self.muted.isdisjoint(people),
        )
