"""A feed item as every service reads it from an activity (docs/architecture.md §5, §6).

Who may see one is the visibility rule, :func:`canopy_common.visibility.may_see` (re-exported
here with the reader and ties it takes): fan-out decides with it whose feeds an item goes
into, notifications whom they may tell.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from canopy_common.events import Visibility
from canopy_common.visibility import NO_TIES, Reader, Ties, may_see

__all__ = ["NO_TIES", "Item", "Reader", "Ties", "may_see"]


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
