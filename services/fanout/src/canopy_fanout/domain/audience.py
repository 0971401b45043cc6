"""Who may see a feed item, and whose home feed it goes into. Pure rules (ARCHITECTURE §5).

Seeing follows ingestion's rules for posts: an item in a group is seen only by those who see
the group (members; anyone for a public group; employees for an internal one; nobody else for
a private one); within that its visibility decides — ``public`` everyone in the tenant, guests
too; ``internal`` employees; ``group`` members; ``followers`` the author's followers (not
guests) and the people it mentions; ``direct`` its addressees and mentions. The author always
sees their post (and shares of it, unless they blocked the sharer); a block between the reader
and the actor or author hides it.

Delivery into a home feed needs a reason besides: the reader wrote or shared it, follows the
actor, is a member of its group, follows one of its hashtags, or is mentioned or addressed. A
mute hides the muted person's items from the home feed (not from their own feed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from canopy_common.events import Visibility
from canopy_fanout.domain.model import Item, Reader, Ties

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


def has_reason(reader: Reader, item: Item, ties: Ties) -> bool:
    """Whether ``item`` concerns ``reader`` enough for their home feed."""
    return (
        reader.id in item.people
        or item.actor_id in ties.follows
        or ties.member
        or ties.follows_tag
        or reader.id in item.mentions
        or reader.id in item.addressees
    )


def delivers(reader: Reader, item: Item, ties: Ties = NO_TIES) -> bool:
    """Whether ``item`` belongs in ``reader``'s home feed."""
    if ties.muted:
        return False
    return has_reason(reader, item, ties) and may_see(reader, item, ties)


def resolve_audience(
    item: Item, candidates: Iterable[Reader], ties: Mapping[str, Ties]
) -> list[str]:
    """The ids of the ``candidates`` whose home feed ``item`` goes into, in candidate order.

    ``ties`` holds each candidate's relations to the item (missing: none). Candidates are
    whoever could have a reason (followers of the actor, members of the group, followers of
    the hashtags, people named, the actor and the author); duplicates count once.
    """
    chosen: dict[str, None] = {}
    for reader in candidates:
        if reader.id not in chosen and delivers(reader, item, ties.get(reader.id, NO_TIES)):
            chosen[reader.id] = None
    return list(chosen)
