"""Who may see a post: one rule for every service (docs/architecture.md §5, §6).

It follows ingestion's rules for posts: an item in a group is seen only by those who see the
group (members; anyone for a public group; employees for an internal one; nobody else for a
private one); within that its visibility decides — ``public`` everyone in the tenant, guests
too; ``internal`` employees; ``group`` members; ``followers`` the author's followers (not
guests) and the people it mentions; ``direct`` its addressees and mentions. The author always
sees their post (and shares of it, unless they blocked the sharer); a block between the reader
and the actor or author hides it.

Fan-out decides with it whose feeds an item goes into, notifications whom they may tell.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from canopy_common.events import Visibility


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


NO_TIES = Ties()


def sees_group(reader: Reader, item: Item, ties: Ties) -> bool:
    """Whether ``reader`` sees the item's group (True when it has none)."""
    if item.group_id is None or ties.member:
        return True
    match item.group_visibility:
        case Visibility.PUBLIC:
            return True
        case Visibility.INTERNAL:
            return not reader.guest
    return False  # private (or unknown): members only


def may_see(reader: Reader, item: Item, ties: Ties = NO_TIES) -> bool:
    """Whether ``reader`` may see ``item`` at all (in any feed)."""
    if item.deleted or not reader.active:
        return False
    if reader.id == item.author_id:
        return not ties.blocked  # their own post (or a share of it, unless they blocked the sharer)
    if ties.blocked or not sees_group(reader, item, ties):
        return False
    match item.visibility:
        case Visibility.PUBLIC:
            return True
        case Visibility.INTERNAL:
            return not reader.guest
        case Visibility.GROUP:
            return ties.member
        case Visibility.FOLLOWERS:
            follows_author = item.author_id in ties.follows
            return (follows_author and not reader.guest) or reader.id in item.mentions
        case Visibility.DIRECT:
            return reader.id in item.addressees or reader.id in item.mentions
    return False
