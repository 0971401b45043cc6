"""What the fanout service knows: feed items, the feeds they go into, and readers.

Plain data, built by :mod:`canopy_common.activities` from activities and by the adapters from
the ``fanout`` schema; who may see an item is :mod:`canopy_common.audience`'s rule, whose feeds it
goes into :mod:`canopy_fanout.domain.audience`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from canopy_common.audience import Item as Item
from canopy_common.audience import Reader as Reader
from canopy_common.audience import Ties as Ties


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
